using NasFlatness.Genotypes;
using NasFlatness.SearchSpaces.Operations;
using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.SearchSpaces.Nb201;

/// <summary>Builds the NAS-Bench-201 candidate operations (docs/spec/algorithms.md §1.1) for cells with C channels and stride 1.</summary>
internal static class Nb201Operations
{
    public const int None = 0, Skip = 1, Conv1x1 = 2, Conv3x3 = 3, AvgPool = 4;

    /// <summary>The module of operation <paramref name="op"/>; null for <c>none</c> (it contributes zeros and is skipped).</summary>
    public static nn.Module<Tensor, Tensor>? Create(int op, long channels, bool affine, bool trackRunningStats) => op switch
    {
        None => null,
        Skip => new SkipConnect(),
        Conv1x1 => new ReluConvBn(channels, channels, 1, 1, 0, 1, affine, trackRunningStats),
        Conv3x3 => new ReluConvBn(channels, channels, 3, 1, 1, 1, affine, trackRunningStats),
        AvgPool => new AvgPool3x3(1),
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, $"NAS-Bench-201 operations are 0..{Nb201Genotype.OperationCount - 1}."),
    };
}
