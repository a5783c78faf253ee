using NasFlatness.SearchSpaces.Operations;
using NasFlatness.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace NasFlatness.SearchSpaces.Tests;

[Collection(TorchCollection.Name)]
public sealed class AvgPoolTests
{
    [Fact]
    public void InverseWindowSizesAreOneOverTheInImagePixelsOfEachWindow()
    {
        var inverse = AvgPool3x3.InverseWindowSizes(3, 4, float64, CPU); // shared: not disposed
        // Window sizes of a 3×4 image: corners 2·2, edges 2·3 or 3·2, inside 3·3.
        double[,] sizes = { { 4, 6, 6, 4 }, { 6, 9, 9, 6 }, { 4, 6, 6, 4 } };
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++)
                Assert.Equal(1.0 / sizes[i, j], inverse[i, j].item<double>(), 15);
        var single = AvgPool3x3.InverseWindowSizes(1, 1, float64, CPU);
        Assert.Equal(1.0, single[0, 0].item<double>());
        Assert.Same(inverse, AvgPool3x3.InverseWindowSizes(3, 4, float64, CPU)); // built once per size, type and device
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(5, 7)]
    [InlineData(16, 16)]
    public void BoxSumPoolEqualsAvgPool2dInValueAndGradient(int h, int w)
    {
        using var scope = torch.NewDisposeScope();
        var gen = new torch.Generator(3);
        var x = torch.randn([2, 3, h, w], dtype: float64, generator: gen);
        var g = torch.randn([2, 3, h, w], dtype: float64, generator: gen);
        var a = x.clone().requires_grad_(true);
        var b = x.clone().requires_grad_(true);
        var fast = new AvgPool3x3(1).forward(a);
        var plain = nn.functional.avg_pool2d(b, kernel_size: 3, stride: 1, padding: 1, count_include_pad: false);
        Assert.True((fast - plain).abs().max().item<double>() < 1e-14);
        var ga = torch.autograd.grad([fast], [a], [g])[0];
        var gb = torch.autograd.grad([plain], [b], [g])[0];
        Assert.True((ga - gb).abs().max().item<double>() < 1e-14);
        // Stride 2 and the reference flag keep libtorch's pooling.
        Assert.Equal(0.0, (new AvgPool3x3(1, boxSums: false).forward(x) - nn.functional.avg_pool2d(x, 3, 1, 1, count_include_pad: false)).abs().max().item<double>());
    }
}
