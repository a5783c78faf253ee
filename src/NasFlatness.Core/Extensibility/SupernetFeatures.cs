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

    /// <summary>A supernet that knows its expected parameter count and parameter budgets (a resource penalty created by name needs it).</summary>
    ParameterBudgetModel = 2,

    /// <summary>Partial channel connections sampled per edge, with edge normalisation (1/K of the channels; K is the space's option).</summary>
    PartialChannels = 4,

    /// <summary>Partial channels sampled once per cell, without edge normalisation.</summary>
    PerCellPartialChannels = 8,

    /// <summary>An affine-free BatchNorm after each node's sum.</summary>
    NodeBatchNorm = 16,
}
