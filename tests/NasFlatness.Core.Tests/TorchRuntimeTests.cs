using NasFlatness.Advanced;
using NasFlatness.SearchSpaces.Nb201;
using NasFlatness.SearchSpaces.Operations;
using NasFlatness.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace NasFlatness.Tests;

[Collection(TorchCollection.Name)]
public sealed class TorchRuntimeTests
{
    [Theory]
    [InlineData(4, 16, 8, 3)]
    [InlineData(8, 32, 16, 3)]
    [InlineData(16, 8, 32, 1)]
    [InlineData(32, 4, 8, 3)]
    public void ConvolutionGradientsMatchFloat64AfterTheCheck(int channels, int batch, int size, int kernel)
    {
        TorchRuntime.EnsureCorrectCpuKernels();
        Assert.True(TorchRuntime.OneDnnDisabled);
        Assert.Null(IndependentCheck(channels, channels, kernel, 1, batch, size));
        // The library's own shape check agrees with the setting it chose (the two shapes its old spot check used).
        Assert.Null(TorchRuntime.CheckConvolution(new TorchRuntime.ConvolutionShape(4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, CheckInputGradient: true)));
        Assert.Null(TorchRuntime.CheckConvolution(new TorchRuntime.ConvolutionShape(16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, CheckInputGradient: true)));
    }

    [Fact]
    public void ConvolutionShapesListEachConfigurationOnceAndSkipTheFirstInputGradient()
    {
        using var net = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding: 1, bias: false),
            nn.ReLU(),
            nn.Conv2d(16, 32, 1, stride: 2, bias: false),
            nn.Conv2d(32, 32, 3, padding: 2, dilation: 2, groups: 32, bias: false),
            nn.Conv2d(16, 32, 1, stride: 2, bias: false));
        var shapes = TorchRuntime.ConvolutionShapes(net);
        Assert.Equal(
            [
                new TorchRuntime.ConvolutionShape(3, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, CheckInputGradient: false),
                new TorchRuntime.ConvolutionShape(16, 32, 1, 1, 2, 2, 0, 0, 1, 1, 1, CheckInputGradient: true),
                new TorchRuntime.ConvolutionShape(32, 32, 3, 3, 1, 1, 2, 2, 2, 2, 32, CheckInputGradient: true),
            ],
            shapes);
        Assert.Equal("conv2d 16→32 channels, kernel 1×1, stride 2, padding 0, dilation 1, groups 1", shapes[1].ToString());
    }

    // The library's verdict on a shape under oneDNN must agree with this test's own float32-vs-float64
    // comparison (other data, other batch and size); on the AMD EPYC development machines the 8-channel
    // 3×3 input gradient is wrong and the 16/48-channel shapes are right, but the test holds either way.
    [Theory]
    [InlineData(8, 24, 3, 1)]
    [InlineData(8, 8, 3, 1)]
    [InlineData(16, 48, 3, 1)]
    [InlineData(32, 64, 1, 1)]
    [InlineData(16, 32, 3, 2)]
    public void ShapeCheckAgreesWithAnIndependentComparisonUnderOneDnn(int cin, int cout, int kernel, int stride)
    {
        var shape = new TorchRuntime.ConvolutionShape(cin, cout, kernel, kernel, stride, stride, kernel / 2, kernel / 2, 1, 1, 1, CheckInputGradient: true);
        try
        {
            Assert.True(TorchRuntime.TrySetOneDnn(true));
            string? independent = IndependentCheck(cin, cout, kernel, stride, batch: 8, size: 12);
            string? library = TorchRuntime.CheckConvolution(shape);
            Assert.True((independent is null) == (library is null), $"independent: {independent ?? "right"}; library: {library ?? "right"}");
            if (library is not null) Assert.Contains($"{cin}→{cout} channels, kernel {kernel}×{kernel}", library);
        }
        finally
        {
            TorchRuntime.TrySetOneDnn(false);
        }
    }

    // Whatever the machine, after the library has checked a network every convolution of that network
    // computes correct values and gradients with the setting it chose.
    [Theory]
    [InlineData(8)]
    [InlineData(16)]
    public void AfterCheckingASupernetItsConvolutionsAreCorrectWithTheChosenSetting(int channels)
    {
        using var net = new Nb201SearchSpace(new Nb201Options { Channels = channels, CellsPerStage = 1 }).CreateSupernet(DatasetInfo.Cifar10);
        bool on = TorchRuntime.EnsureCorrectCpuKernels(net);
        Assert.Equal(on, !TorchRuntime.OneDnnDisabled);
        foreach (var s in TorchRuntime.ConvolutionShapes(net).Where(s => s.CheckInputGradient && s.Groups == 1 && s.DilationH == 1))
            Assert.Null(IndependentCheck((int)s.InChannels, (int)s.OutChannels, (int)s.KernelH, (int)s.StrideH, batch: 4, size: 10));
        if (!on) Assert.NotNull(TorchRuntime.OneDnnFailure);
        TorchRuntime.EnsureCorrectCpuKernels();
        Assert.True(TorchRuntime.OneDnnDisabled);
    }

    [Fact]
    public void AShapeThatFailsSwitchesOneDnnOffForTheRestOfTheProcess()
    {
        bool broken;
        try
        {
            Assert.True(TorchRuntime.TrySetOneDnn(true));
            broken = IndependentCheck(8, 24, 3, 1, batch: 8, size: 12) is not null;
        }
        finally
        {
            TorchRuntime.TrySetOneDnn(false);
        }
        using var failing = nn.Sequential(nn.Conv2d(3, 8, 3, padding: 1), nn.Conv2d(8, 24, 3, padding: 1));
        using var fine = nn.Sequential(nn.Conv2d(3, 16, 3, padding: 1), nn.Conv2d(16, 48, 3, padding: 1));
        bool failingOn = TorchRuntime.EnsureCorrectCpuKernels(failing);
        if (broken)
        {
            Assert.False(failingOn);
            Assert.Contains("8→24", TorchRuntime.OneDnnFailure);
            Assert.False(TorchRuntime.EnsureCorrectCpuKernels(fine)); // sticky: the failing network may still run
            Assert.True(TorchRuntime.OneDnnDisabled);
        }
        else
        {
            Assert.Equal(TorchRuntime.OneDnnFailure is null, failingOn);
        }
        TorchRuntime.EnsureCorrectCpuKernels();
    }

    [Fact]
    public void AllocatorTuningIsAcceptedOnLinux()
    {
        if (!OperatingSystem.IsLinux()) return;
        Assert.True(TorchRuntime.TuneAllocator());
        Assert.True(TorchRuntime.TuneAllocator()); // idempotent
    }

    // Float32 with the current kernels against float64, input gradient and forward; null when they agree.
    private static string? IndependentCheck(int cin, int cout, int kernel, int stride, int batch, int size)
    {
        using var scope = torch.NewDisposeScope();
        var gen = new torch.Generator(7);
        var x = torch.randn([batch, cin, size, size], generator: gen);
        var w = torch.randn([cout, cin, kernel, kernel], generator: gen);
        long pad = kernel / 2;
        for (int repeat = 0; repeat < 2; repeat++)
        {
            var x32 = x.clone().requires_grad_(true);
            var w32 = w.clone().requires_grad_(true);
            var y32 = nn.functional.conv2d(x32, w32, strides: [stride, stride], padding: [pad, pad]);
            var g = torch.randn(y32.shape, generator: gen);
            var grads = torch.autograd.grad([y32], [x32, w32], [g]);
            var x64 = x.to(float64).requires_grad_(true);
            var w64 = w.to(float64).requires_grad_(true);
            var y64 = nn.functional.conv2d(x64, w64, strides: [stride, stride], padding: [pad, pad]);
            var exact = torch.autograd.grad([y64], [x64, w64], [g.to(float64)]);
            double forward = (y32.to(float64) - y64).abs().max().item<double>();
            double input = (grads[0].to(float64) - exact[0]).abs().max().item<double>();
            double weight = ((grads[1].to(float64) - exact[1]).abs().max() / exact[1].abs().max()).item<double>();
            if (!(forward < 1e-3 && input < 1e-3 && weight < 1e-5)) return $"forward {forward:G3}, input gradient {input:G3}, weight gradient {weight:G3}";
        }
        return null;
    }
}
