namespace NasFlatness.SearchSpaces.Nb201Varied;

/// <summary>Adds the ZO-DARTS++ space to a registry (called by <see cref="BuiltInSearchSpaces.AddBuiltInSearchSpaces"/>).</summary>
public static class VariedSearchSpaceRegistration
{
    /// <summary>
    /// Adds <c>nas-bench-201-varied</c>; its factory takes <see cref="Nb201VariedOptions"/> from the context's services when there
    /// are some, else <paramref name="options"/>, else the defaults.
    /// </summary>
    public static NasFlatnessRegistry AddVariedSearchSpace(this NasFlatnessRegistry registry, Nb201VariedOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var defaults = (options ?? new Nb201VariedOptions()).Clone();
        registry.SearchSpaces.Add(Nb201VariedSearchSpace.SpaceName, c => new Nb201VariedSearchSpace((c.GetService<Nb201VariedOptions>() ?? defaults).WithBatchStatisticsOnly(c.BatchStatisticsOnly)),
            "ZO-DARTS++ size-variable NAS-Bench-201 space (per-stage cells, 7/5/3 kernels, 1..N cells per stage)", SupernetFeatures.ParameterBudgetModel);
        return registry;
    }
}
