using NasFlatness.Genotypes;

namespace NasFlatness.Search;

/// <summary>Progress of a search, reported after every step and at the end of every epoch.</summary>
/// <param name="Epoch">Zero-based epoch.</param>
/// <param name="TotalEpochs">Number of epochs.</param>
/// <param name="Step">Steps completed in this epoch.</param>
/// <param name="StepsPerEpoch">Steps in an epoch.</param>
/// <param name="TrainLoss">Mean training loss of the epoch so far.</param>
/// <param name="Elapsed">Time since the search (or its resumption) started.</param>
/// <param name="CompletedEpoch">Set on the report that ends an epoch.</param>
public sealed record SearchProgress(
    int Epoch, int TotalEpochs, int Step, int StepsPerEpoch, double TrainLoss, TimeSpan Elapsed, EpochRecord? CompletedEpoch = null);

/// <summary>The outcome of a search.</summary>
public sealed record SearchResult
{
    /// <summary>The selected genotype.</summary>
    public required Genotype Genotype { get; init; }

    /// <summary>Epoch whose genotype was selected.</summary>
    public required int SelectedEpoch { get; init; }

    /// <summary>Rule that selected it.</summary>
    public required SelectionRule Selection { get; init; }

    /// <summary>What every completed epoch recorded.</summary>
    public required IReadOnlyList<EpochRecord> Epochs { get; init; }

    /// <summary>True when the search stopped early (patience of <see cref="SelectionRule.BestSupernetValidationLoss"/>).</summary>
    public required bool StoppedEarly { get; init; }

    /// <summary>Total wall time of the epochs (summed over resumptions).</summary>
    public required TimeSpan Duration { get; init; }

    /// <summary>Device the search ran on.</summary>
    public required string Device { get; init; }

    /// <summary>Seed of the search.</summary>
    public required int Seed { get; init; }

    /// <summary>
    /// The selected genotype as the space's own genotype type, e.g. <c>result.GetGenotype&lt;Nb201Genotype&gt;()</c>.
    /// </summary>
    /// <typeparam name="TGenotype">The genotype type of the searched space.</typeparam>
    /// <exception cref="InvalidOperationException">The genotype is of another type (the message names both).</exception>
    public TGenotype GetGenotype<TGenotype>() where TGenotype : Genotype =>
        Genotype as TGenotype ?? throw new InvalidOperationException(
            $"The search found a genotype of space '{Genotype.SpaceName}' ({Genotype.GetType().Name}), not a {typeof(TGenotype).Name}.");
}
