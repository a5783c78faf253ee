using NasFlatness.Optimizers;
using NasFlatness.SearchSpaces.Darts;
using NasFlatness.SearchSpaces.Nb201;

namespace NasFlatness.Extensions.DependencyInjection;

/// <summary>
/// Search-space options with a method preset's supernet variant applied (the PC-DARTS presets' partial
/// channels). <see cref="Microsoft.Extensions.DependencyInjection.NasFlatnessServiceCollectionExtensions.AddNasFlatness(Microsoft.Extensions.DependencyInjection.IServiceCollection)"/>
/// uses these; call them when composing a space by hand. Both return a copy.
/// </summary>
public static class MethodPresetSpaceOptions
{
    /// <summary>The DARTS-space options with the preset's partial-channel variant applied (PC-DARTS presets; per-edge only in this space).</summary>
    public static DartsSpaceOptions WithPartialChannels(this DartsSpaceOptions options, MethodPreset? preset)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Clone();
        if (preset?.PartialChannels is { } pc)
        {
            if (pc.PerCell)
                throw new InvalidOperationException($"Method '{preset.Name}' uses per-cell partial channels, which the DARTS space does not offer; use 'pc-darts' there.");
            o.PartialChannels = pc.Proportion;
            o.EdgeNormalization = pc.EdgeNormalization;
        }
        return o;
    }

    /// <summary>The NB201 options with the preset's partial-channel variant applied (PC-DARTS presets).</summary>
    public static Nb201Options WithPartialChannels(this Nb201Options options, MethodPreset? preset)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Clone();
        if (preset?.PartialChannels is { } pc)
        {
            o.PartialChannels = true;
            o.PartialChannelProportion = pc.Proportion;
            o.PartialChannelScope = pc.PerCell ? PartialChannelScope.PerCell : PartialChannelScope.PerEdge;
            o.EdgeNormalization = pc.EdgeNormalization;
        }
        return o;
    }
}
