namespace NasFlatness.Search;

/// <summary>
/// The partial-channel (PC-DARTS) supernet a preset asks for. Map it onto the search space's options, e.g. for
/// NAS-Bench-201: <c>PartialChannels = true</c>, <c>PartialChannelProportion = Proportion</c>,
/// <c>PartialChannelScope = PerCell ? PerCell : PerEdge</c>, <c>EdgeNormalization = EdgeNormalization</c>.
/// </summary>
/// <param name="Proportion">K: 1/K of the channels go through the mixed operations.</param>
/// <param name="PerCell">True for the A²M repository's per-cell sampling (NAS-Bench-201), false for official per-edge PC-DARTS.</param>
/// <param name="EdgeNormalization">Whether the supernet has edge-normalisation parameters β.</param>
public sealed record PartialChannelVariant(int Proportion, bool PerCell, bool EdgeNormalization)
{
    /// <summary>Official PC-DARTS: K = 4, per edge, with edge normalisation.</summary>
    public static PartialChannelVariant Official { get; } = new(4, PerCell: false, EdgeNormalization: true);

    /// <summary>The A²M repository's NAS-Bench-201 variant: K = 4, per cell, no edge normalisation.</summary>
    public static PartialChannelVariant A2MRepository { get; } = new(4, PerCell: true, EdgeNormalization: false);
}
