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
        using var scope = torch.NewDisposeScope();
        var gen = new torch.Generator(7);
        var x = torch.randn([batch, channels, size, size], generator: gen);
        var w = torch.randn([channels, channels, kernel, kernel], generator: gen);
        var g = torch.randn([batch, channels, size, size], generator: gen);
        long pad = kernel / 2;
        for (int repeat = 0; repeat < 3; repeat++)
        {
            var x32 = x.clone().requires_grad_(true);
            var w32 = w.clone().requires_grad_(true);
            var grads = torch.autograd.grad([nn.functional.conv2d(x32, w32, padding: [pad, pad])], [x32, w32], [g]);
            var x64 = x.to(float64).requires_grad_(true);
            var w64 = w.to(float64).requires_grad_(true);
            var exact = torch.autograd.grad([nn.functional.conv2d(x64, w64, padding: [pad, pad])], [x64, w64], [g.to(float64)]);
            Assert.True((grads[0].to(float64) - exact[0]).abs().max().item<double>() < 1e-3);
            Assert.True(((grads[1].to(float64) - exact[1]).abs().max() / exact[1].abs().max()).item<double>() < 1e-5);
        }
        Assert.True(TorchRuntime.ConvolutionGradientsAreCorrect());
    }
}
