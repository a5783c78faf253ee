using NasFlatness.Genotypes;

namespace NasFlatness;

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
