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

/// <summary>What a search recorded for one epoch.</summary>
public sealed record EpochRecord
{
    /// <summary>Zero-based epoch.</summary>
    public required int Epoch { get; init; }

    /// <summary>Genotype derived from α at the end of the epoch.</summary>
    public required Genotype Genotype { get; init; }

    /// <summary>Snapshot of every architecture tensor at the end of the epoch, as rows of logits.</summary>
    public required IReadOnlyList<double[][]> Architecture { get; init; }

    /// <summary>Mean over edges of the largest mixing weight of each edge under the search's activation (softmax(α) by default): 1/|O| when α is uniform, 1 when one-hot.</summary>
    public required double MeanMaxWeight { get; init; }

    /// <summary>Weight learning rate used in the epoch.</summary>
    public required double WeightLearningRate { get; init; }

    /// <summary>Mean training cross-entropy over the epoch's weight steps.</summary>
    public required double TrainLoss { get; init; }

    /// <summary>Training accuracy (0..1) over the epoch's weight steps.</summary>
    public required double TrainAccuracy { get; init; }

    /// <summary>Supernet cross-entropy on the validation split at the end of the epoch (NaN when not evaluated).</summary>
    public required double ValidationLoss { get; init; }

    /// <summary>Supernet accuracy (0..1) on the validation split at the end of the epoch (NaN when not evaluated).</summary>
    public required double ValidationAccuracy { get; init; }

    /// <summary>Whether α was updated in this epoch (false during warm-up).</summary>
    public required bool ArchitectureUpdated { get; init; }

    /// <summary>Number of architecture updates in the epoch (the steps the update schedule accepted; 0 during warm-up).</summary>
    public int ArchitectureUpdates { get; init; }

    /// <summary>Wall time of the epoch's steps (excluding the end-of-epoch validation).</summary>
    public required TimeSpan Duration { get; init; }

    /// <summary>Number of search steps in the epoch.</summary>
    public required int Steps { get; init; }

    /// <summary>
    /// Named per-epoch measurements contributed by components that implement <see cref="IEpochMetricsProvider"/> (e.g.
    /// <c>"alpha-hessian-max-eigenvalue"</c>); empty by default. Part of the checkpoint's JSON history, so a resumed search
    /// reports the same values for the epochs it did not rerun.
    /// </summary>
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = NoMetrics;

    private static readonly IReadOnlyDictionary<string, double> NoMetrics = new System.Collections.ObjectModel.ReadOnlyDictionary<string, double>(new Dictionary<string, double>());
}

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
