using NasFlatness.Search;
using NasFlatness.SearchSpaces.Darts;
using NasFlatness.SearchSpaces.Nb201;
using NasFlatness.SearchSpaces.ZoDartsPlusPlus;

namespace NasFlatness.SearchSpaces;

/// <summary>
/// Search-space options with a method preset's supernet variant applied (<see cref="MethodPreset.SupernetVariant"/>: partial
/// channels per edge or per cell, node BatchNorm), for composing a space by hand; the registry's space factories
/// (<see cref="BuiltInSearchSpaces.AddBuiltInSearchSpaces"/>) apply them for you. Each returns a copy; the partial-channel
/// proportion K stays the options' own.
/// </summary>
public static class MethodPresetSpaceOptions
{
    private const SupernetFeatures AnyPartialChannels = SupernetFeatures.PartialChannels | SupernetFeatures.PerCellPartialChannels;

    /// <summary>The DARTS-space options with the preset's supernet variant applied (per-edge partial channels only in this space).</summary>
    /// <exception cref="InvalidOperationException">The preset asks for per-cell partial channels.</exception>
    public static DartsSpaceOptions WithSupernetVariant(this DartsSpaceOptions options, MethodPreset? preset) =>
        options.WithSupernetVariant(preset?.SupernetVariant ?? SupernetFeatures.None, preset?.Name);

    /// <summary>The DARTS-space options with <paramref name="variant"/> applied: per-edge partial channels switch on K
    /// (<see cref="DartsSpaceOptions.PcDarts"/>'s when the options have none) and edge normalisation; features the space does
    /// not have are left to <see cref="NasFlatnessRegistry.Validate"/>.</summary>
    /// <exception cref="InvalidOperationException"><paramref name="variant"/> asks for per-cell partial channels.</exception>
    public static DartsSpaceOptions WithSupernetVariant(this DartsSpaceOptions options, SupernetFeatures variant, string? method = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (variant.HasFlag(SupernetFeatures.PerCellPartialChannels))
            throw new InvalidOperationException($"Method '{method ?? "(unnamed)"}' uses per-cell partial channels, which the DARTS space does not offer; use 'pc-darts' there.");
        var o = options.Clone();
        if (variant.HasFlag(SupernetFeatures.PartialChannels))
        {
            if (o.PartialChannels <= 1) o.PartialChannels = DartsSpaceOptions.PcDarts().PartialChannels;
            o.EdgeNormalization = true;
        }
        return o;
    }

    /// <summary>The NB201 options with the preset's supernet variant applied.</summary>
    public static Nb201Options WithSupernetVariant(this Nb201Options options, MethodPreset? preset) =>
        options.WithSupernetVariant(preset?.SupernetVariant ?? SupernetFeatures.None);

    /// <summary>The NB201 options with <paramref name="variant"/> applied: partial channels per edge (with edge normalisation) or
    /// per cell (without), and node BatchNorm; other features leave them as they are.</summary>
    public static Nb201Options WithSupernetVariant(this Nb201Options options, SupernetFeatures variant)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Clone();
        if ((variant & AnyPartialChannels) != SupernetFeatures.None)
        {
            bool perCell = variant.HasFlag(SupernetFeatures.PerCellPartialChannels);
            o.PartialChannels = true;
            o.PartialChannelScope = perCell ? PartialChannelScope.PerCell : PartialChannelScope.PerEdge;
            o.EdgeNormalization = !perCell;
        }
        if (variant.HasFlag(SupernetFeatures.NodeBatchNorm)) o.NodeBatchNorm = true;
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
            .Add(Nb201SearchSpace.SpaceName, c => new Nb201SearchSpace((c.GetService<Nb201Options>() ?? nb201Defaults).WithSupernetVariant(c.SupernetVariant).WithBatchStatisticsOnly(c.BatchStatisticsOnly)),
                "NAS-Bench-201 cell space (5 operations, 6 edges; genotypes in the benchmark's arch strings)",
                SupernetFeatures.PartialChannels | SupernetFeatures.PerCellPartialChannels | SupernetFeatures.NodeBatchNorm)
            .Add(DartsSearchSpace.SpaceName, c => new DartsSearchSpace((c.GetService<DartsSpaceOptions>() ?? dartsDefaults).WithSupernetVariant(c.SupernetVariant).WithBatchStatisticsOnly(c.BatchStatisticsOnly)),
                "DARTS space (normal and reduction cells, 14 edges each)", SupernetFeatures.PartialChannels);
        registry.AddVariedSearchSpace(zoDartsPlusPlus);
        return registry;
    }
}
