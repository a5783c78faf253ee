using NasFlatness.Genotypes;
using NasFlatness.SearchSpaces.Operations;
using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.SearchSpaces.Darts;

/// <summary>Builds the DARTS candidate operations (docs/spec/algorithms.md §1.2) by name.</summary>
internal static class DartsOperations
{
    public const string None = "none", MaxPool = "max_pool_3x3", AvgPool = "avg_pool_3x3", Skip = "skip_connect",
        Sep3 = "sep_conv_3x3", Sep5 = "sep_conv_5x5", Dil3 = "dil_conv_3x3", Dil5 = "dil_conv_5x5";

    /// <summary>The operation names of an operation set, in α column order.</summary>
    public static IReadOnlyList<string> Names(DartsOperationSet set) =>
        set == DartsOperationSet.Standard ? DartsGenotype.OperationNames : DartsGenotype.OperationNames.Skip(1).ToArray();

    /// <summary>
    /// The module of operation <paramref name="name"/> for C channels and the given stride.
    /// <paramref name="searchPoolBn"/> appends the search cell's affine-free BN to the pools.
    /// </summary>
    public static nn.Module<Tensor, Tensor> Create(string name, long channels, long stride, bool affine, bool trackRunningStats, bool searchPoolBn = false) => name switch
    {
        None => new Zero(stride),
        MaxPool => searchPoolBn ? new PoolBn(new MaxPool3x3(stride), channels, trackRunningStats) : new MaxPool3x3(stride),
        AvgPool => searchPoolBn ? new PoolBn(new AvgPool3x3(stride), channels, trackRunningStats) : new AvgPool3x3(stride),
        Skip => stride == 1 ? new SkipConnect() : new FactorizedReduce(channels, channels, affine, trackRunningStats),
        Sep3 => new SepConv(channels, channels, 3, stride, 1, affine, trackRunningStats),
        Sep5 => new SepConv(channels, channels, 5, stride, 2, affine, trackRunningStats),
        Dil3 => new DilConv(channels, channels, 3, stride, 2, 2, affine, trackRunningStats),
        Dil5 => new DilConv(channels, channels, 5, stride, 4, 2, affine, trackRunningStats),
        _ => throw new ArgumentException($"Unknown DARTS operation '{name}'; expected one of {string.Join(", ", DartsGenotype.OperationNames)}.", nameof(name)),
    };

    /// <summary>True for the identity (skip_connect with stride 1), on which the evaluation cell applies no drop-path.</summary>
    public static bool IsIdentity(string name, long stride) => name == Skip && stride == 1;
}
