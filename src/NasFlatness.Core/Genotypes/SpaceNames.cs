namespace NasFlatness.Genotypes;

/// <summary>The registry names of the built-in search spaces (also the <see cref="Genotype.SpaceName"/> of their genotypes).</summary>
public static class SpaceNames
{
    /// <summary>The NAS-Bench-201 cell space.</summary>
    public const string Nb201 = "nas-bench-201";

    /// <summary>The DARTS space (normal and reduction cells).</summary>
    public const string Darts = "darts";

    /// <summary>The ZO-DARTS++ size-variable space (NAS-Bench-201's cell with kernel and depth choices).</summary>
    public const string ZoDartsPlusPlus = "nas-bench-201-varied";
}
