namespace NasFlatness;

/// <summary>
/// Features of a supernet, declared when a component is added to a <see cref="ComponentCatalog{T}"/>: a search space declares
/// the features its supernets offer, an optimizer, regularizer, activation or schedule the features it needs.
/// <see cref="NasFlatnessRegistry.Validate"/> refuses a composition whose components need what its space does not offer
/// (naming both), before anything is built; <see cref="NasFlatnessRegistry.CreateRunner"/> passes the needs to the space
/// factory through the <see cref="ComponentContext"/>.
/// </summary>
[Flags]
public enum SupernetFeatures
{
    /// <summary>Nothing beyond the space's options.</summary>
    None = 0,

    /// <summary>
    /// Search-cell BatchNorms without running statistics (batch statistics in training and evaluation), as ZO-DARTS's official
    /// code searches. Built-in spaces switch their running statistics off when a component needs this; it is not validated (a
    /// component that needs it checks the supernet itself).
    /// </summary>
    BatchStatisticsOnly = 1,

    /// <summary>A supernet that implements <see cref="IParameterBudgetModel"/> (the ZO-DARTS++ budget penalty needs it).</summary>
    ParameterBudgetModel = 2,

    /// <summary>Partial channel connections per edge, with optional edge normalisation (PC-DARTS).</summary>
    PartialChannels = 4,

    /// <summary>Partial channels sampled once per cell (the A²M repository's PC-DARTS on NAS-Bench-201).</summary>
    PerCellPartialChannels = 8,

    /// <summary>An affine-free BatchNorm after each node's sum (DARTS-PRIME's unit-clamp presets).</summary>
    NodeBatchNorm = 16,
}
