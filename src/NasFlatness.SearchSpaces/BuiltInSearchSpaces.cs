using NasFlatness.Search;
using NasFlatness.SearchSpaces.Darts;
using NasFlatness.SearchSpaces.Nb201;
using NasFlatness.SearchSpaces.ZoDartsPlusPlus;

namespace NasFlatness.SearchSpaces;

/// <summary>
/// Search-space options with a method preset's supernet variant applied (the PC-DARTS presets' partial channels), for
/// composing a space by hand; the registry's space factories (<see cref="BuiltInSearchSpaces.AddBuiltInSearchSpaces"/>)
/// apply them for you. Both return a copy.
/// </summary>
public static class MethodPresetSpaceOptions
{
    /// <summary>The DARTS-space options with the preset's partial-channel variant applied (PC-DARTS presets; per-edge only in this space).</summary>
    public static DartsSpaceOptions WithPartialChannels(this DartsSpaceOptions options, MethodPreset? preset) => options.WithPartialChannels(preset?.PartialChannels, preset?.Name);

    /// <summary>The DARTS-space options with <paramref name="variant"/> applied (null leaves them as they are).</summary>
    /// <exception cref="InvalidOperationException">The variant samples channels per cell, which the DARTS space does not offer.</exception>
    public static DartsSpaceOptions WithPartialChannels(this DartsSpaceOptions options, PartialChannelVariant? variant, string? method = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Clone();
        if (variant is { } pc)
        {
            if (pc.PerCell)
                throw new InvalidOperationException($"Method '{method ?? "(unnamed)"}' uses per-cell partial channels, which the DARTS space does not offer; use 'pc-darts' there.");
            o.PartialChannels = pc.Proportion;
            o.EdgeNormalization = pc.EdgeNormalization;
        }
        return o;
    }

    /// <summary>The NB201 options with the preset's partial-channel variant applied (PC-DARTS presets).</summary>
    public static Nb201Options WithPartialChannels(this Nb201Options options, MethodPreset? preset) => options.WithPartialChannels(preset?.PartialChannels);

    /// <summary>The NB201 options with <paramref name="variant"/> applied (null leaves them as they are).</summary>
    public static Nb201Options WithPartialChannels(this Nb201Options options, PartialChannelVariant? variant)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Clone();
        if (variant is { } pc)
        {
            o.PartialChannels = true;
            o.PartialChannelProportion = pc.Proportion;
            o.PartialChannelScope = pc.PerCell ? PartialChannelScope.PerCell : PartialChannelScope.PerEdge;
            o.EdgeNormalization = pc.EdgeNormalization;
        }
        return o;
    }
}

/// <summary>Search-space options with a method preset's node BatchNorm applied (DARTS-PRIME's unit-clamp presets); returns a copy.</summary>
public static class NodeBatchNormSpaceOptions
{
    /// <summary>The NB201 options with <see cref="Nb201Options.NodeBatchNorm"/> switched on when <paramref name="nodeBatchNorm"/> is true (false leaves them as they are).</summary>
    public static Nb201Options WithNodeBatchNorm(this Nb201Options options, bool nodeBatchNorm)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Clone();
        if (nodeBatchNorm) o.NodeBatchNorm = true;
        return o;
    }
}

/// <summary>Search-space options with the composition's batch-statistics need applied (<see cref="SupernetFeatures.BatchStatisticsOnly"/>, ZO-DARTS); returns a copy.</summary>
public static class BatchStatisticsSpaceOptions
{
    /// <summary>The NB201 options with <see cref="Nb201Options.TrackRunningStats"/> off when <paramref name="batchStatisticsOnly"/> is true.</summary>
    public static Nb201Options WithBatchStatisticsOnly(this Nb201Options options, bool batchStatisticsOnly)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Clone();
        if (batchStatisticsOnly) o.TrackRunningStats = false;
        return o;
    }

    /// <summary>The DARTS-space options with <see cref="DartsSpaceOptions.TrackRunningStats"/> off when <paramref name="batchStatisticsOnly"/> is true.</summary>
    public static DartsSpaceOptions WithBatchStatisticsOnly(this DartsSpaceOptions options, bool batchStatisticsOnly)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Clone();
        if (batchStatisticsOnly) o.TrackRunningStats = false;
        return o;
    }

    /// <summary>The ZO-DARTS++ space's options with <see cref="ZoDartsPlusPlusOptions.TrackRunningStats"/> off when <paramref name="batchStatisticsOnly"/> is true.</summary>
    public static ZoDartsPlusPlusOptions WithBatchStatisticsOnly(this ZoDartsPlusPlusOptions options, bool batchStatisticsOnly)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Clone();
        if (batchStatisticsOnly) o.TrackRunningStats = false;
        return o;
    }
}

/// <summary>Adds the built-in search spaces to a <see cref="NasFlatnessRegistry"/>.</summary>
public static class BuiltInSearchSpaces
{
    /// <summary>
    /// Adds <c>nas-bench-201</c>, <c>darts</c> and <c>nas-bench-201-varied</c> (ZO-DARTS++, <see cref="ZoDartsPlusPlusRegistration"/>). Each factory takes its options from the context's services when there
    /// are some (<see cref="Nb201Options"/>, <see cref="DartsSpaceOptions"/>), else from the arguments here, else the
    /// defaults, and applies the context's partial-channel variant (a PC-DARTS preset's) and, for NAS-Bench-201, its node BatchNorm
    /// (the unit-clamp presets'; the DARTS cell has none), and the batch-statistics need of ZO-DARTS.
    /// </summary>
    /// <param name="registry">The registry.</param>
    /// <param name="nb201">NAS-Bench-201 options used when the context has none.</param>
    /// <param name="darts">DARTS-space options used when the context has none.</param>
    /// <param name="zoDartsPlusPlus">ZO-DARTS++ space options used when the context has none.</param>
    public static NasFlatnessRegistry AddBuiltInSearchSpaces(this NasFlatnessRegistry registry, Nb201Options? nb201 = null, DartsSpaceOptions? darts = null, ZoDartsPlusPlusOptions? zoDartsPlusPlus = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var nb201Defaults = (nb201 ?? new Nb201Options()).Clone();
        var dartsDefaults = (darts ?? new DartsSpaceOptions()).Clone();
        registry.SearchSpaces
            .Add(Nb201SearchSpace.SpaceName, c => new Nb201SearchSpace((c.GetService<Nb201Options>() ?? nb201Defaults).WithPartialChannels(c.PartialChannels).WithNodeBatchNorm(c.NodeBatchNorm).WithBatchStatisticsOnly(c.BatchStatisticsOnly)),
                "NAS-Bench-201 cell space (5 operations, 6 edges; genotypes in the benchmark's arch strings)",
                SupernetFeatures.PartialChannels | SupernetFeatures.PerCellPartialChannels | SupernetFeatures.NodeBatchNorm)
            .Add(DartsSearchSpace.SpaceName, c => new DartsSearchSpace((c.GetService<DartsSpaceOptions>() ?? dartsDefaults).WithPartialChannels(c.PartialChannels).WithBatchStatisticsOnly(c.BatchStatisticsOnly)),
                "DARTS space (normal and reduction cells, 14 edges each)", SupernetFeatures.PartialChannels);
        registry.AddVariedSearchSpace(zoDartsPlusPlus);
        return registry;
    }
}
