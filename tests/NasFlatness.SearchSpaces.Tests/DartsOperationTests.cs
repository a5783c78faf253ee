using NasFlatness.SearchSpaces.Darts;
using NasFlatness.SearchSpaces.Operations;
using TorchSharp;
using Xunit;

namespace NasFlatness.SearchSpaces.Tests;

[Collection(TorchCollection.Name)]
public sealed class DartsOperationTests
{
    private const long C = 6;

    /// <summary>Hand counts for C channels with affine BN (2C per BN): sep = 2·(k²C + C² + 2C), dil = k²C + C² + 2C, FR = 2·(C·C/2) + 2C.</summary>
    [Theory]
    [InlineData("sep_conv_3x3", 1, 2 * (9 * C + C * C + 2 * C))]
    [InlineData("sep_conv_3x3", 2, 2 * (9 * C + C * C + 2 * C))]
    [InlineData("sep_conv_5x5", 1, 2 * (25 * C + C * C + 2 * C))]
    [InlineData("sep_conv_5x5", 2, 2 * (25 * C + C * C + 2 * C))]
    [InlineData("dil_conv_3x3", 1, 9 * C + C * C + 2 * C)]
    [InlineData("dil_conv_3x3", 2, 9 * C + C * C + 2 * C)]
    [InlineData("dil_conv_5x5", 1, 25 * C + C * C + 2 * C)]
    [InlineData("dil_conv_5x5", 2, 25 * C + C * C + 2 * C)]
    [InlineData("skip_connect", 1, 0)]
    [InlineData("skip_connect", 2, C * C + 2 * C)] // FactorizedReduce(C, C)
    [InlineData("max_pool_3x3", 1, 0)]
    [InlineData("max_pool_3x3", 2, 0)]
    [InlineData("avg_pool_3x3", 2, 0)]
    [InlineData("none", 1, 0)]
    [InlineData("none", 2, 0)]
    public void OperationsHaveTheExpectedShapeAndParameters(string name, int stride, long parameters)
    {
        using var op = DartsOperations.Create(name, C, stride, affine: true, trackRunningStats: true);
        using var x = torch.randn(2, C, 8, 8);
        using var y = op.forward(x);
        long size = 8 / stride;
        Assert.Equal(new long[] { 2, C, size, size }, y.shape);
        Assert.Equal(parameters, op.parameters().Sum(p => p.numel()));
        if (name == "none") Assert.Equal(0.0, y.abs().sum().item<float>());
    }

    [Fact]
    public void SearchOperationsAreAffineFreeAndPoolsGetABatchNorm()
    {
        using var pool = DartsOperations.Create("max_pool_3x3", C, 1, affine: false, trackRunningStats: true, searchPoolBn: true);
        Assert.Equal(0, pool.parameters().Sum(p => p.numel()));
        Assert.Contains(pool.modules(), m => m is TorchSharp.Modules.BatchNorm2d);
        using var sep = DartsOperations.Create("sep_conv_3x3", C, 1, affine: false, trackRunningStats: true);
        // Without affine BN only the convolutions remain: 2·(9C + C²).
        Assert.Equal(2 * (9 * C + C * C), sep.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void FactorizedReduceChangesChannelsAndHalvesTheImage()
    {
        using var fr = new FactorizedReduce(10, 8, affine: true, trackRunningStats: true);
        using var x = torch.randn(2, 10, 16, 16);
        using var y = fr.forward(x);
        Assert.Equal(new long[] { 2, 8, 8, 8 }, y.shape);
        Assert.Equal(2 * 10 * 4 + 2 * 8, fr.parameters().Sum(p => p.numel()));
        Assert.Throws<ArgumentException>(() => new FactorizedReduce(10, 7, true, true));
    }

    [Fact]
    public void ChannelShuffleInterleavesGroups()
    {
        // 8 channels holding their own index; groups 4: [B, 4, 2] transposed -> channel order 0,2,4,6,1,3,5,7.
        using var x = torch.arange(8, dtype: torch.float32).reshape(1, 8, 1, 1);
        using var y = PartialChannelShuffle.Apply(x, 4);
        Assert.Equal(new float[] { 0, 2, 4, 6, 1, 3, 5, 7 }, y.flatten().data<float>().ToArray());
    }

    [Fact]
    public void DropPathKeepsOrZeroesWholeExamplesAndRescales()
    {
        torch.manual_seed(3);
        using var x = torch.ones(64, 2, 3, 3);
        using var y = DropPath.Apply(x, 0.25);
        var perExample = y.reshape(64, -1);
        using var min = perExample.min(1).values;
        using var max = perExample.max(1).values;
        Assert.True(min.eq(max).all().item<bool>());
        var values = max.data<float>().ToArray();
        Assert.All(values, v => Assert.True(v == 0f || Math.Abs(v - 1 / 0.75f) < 1e-6));
        Assert.Contains(values, v => v == 0f);
    }
}
