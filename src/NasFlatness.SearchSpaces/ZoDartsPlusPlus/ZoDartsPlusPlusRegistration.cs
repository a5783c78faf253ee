namespace NasFlatness.SearchSpaces.ZoDartsPlusPlus;

/// <summary>Adds the ZO-DARTS++ space to a registry (called by <see cref="BuiltInSearchSpaces.AddBuiltInSearchSpaces"/>).</summary>
public static class ZoDartsPlusPlusRegistration
{
    /// <summary>
    /// Adds <c>nas-bench-201-varied</c>; its factory takes <see cref="ZoDartsPlusPlusOptions"/> from the context's services when there
    /// are some, else <paramref name="options"/>, else the defaults.
    /// </summary>
    public static NasFlatnessRegistry AddVariedSearchSpace(this NasFlatnessRegistry registry, ZoDartsPlusPlusOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var defaults = (options ?? new ZoDartsPlusPlusOptions()).Clone();
        registry.SearchSpaces.Add(ZoDartsPlusPlusSearchSpace.SpaceName, c => new ZoDartsPlusPlusSearchSpace((c.GetService<ZoDartsPlusPlusOptions>() ?? defaults).WithBatchStatisticsOnly(c.BatchStatisticsOnly)),
            "ZO-DARTS++ size-variable NAS-Bench-201 space (per-stage cells, 7/5/3 kernels, 1..N cells per stage)", SupernetFeatures.ParameterBudgetModel);
        return registry;
    }
}
