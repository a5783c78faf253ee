namespace NasFlatness.Search;

/// <summary>The <see cref="SearchOptions"/> a method preset fixes; null fields leave the caller's value alone.</summary>
public sealed record PresetSearchSettings
{
    /// <summary>Train and validation batch size.</summary>
    public int? BatchSize { get; init; }

    /// <summary>Initial weight learning rate of the cosine schedule.</summary>
    public double? WeightLearningRate { get; init; }

    /// <summary>Final weight learning rate of the cosine schedule.</summary>
    public double? WeightLearningRateMin { get; init; }

    /// <summary>Architecture (Adam) learning rate.</summary>
    public double? ArchitectureLearningRate { get; init; }

    /// <summary>Epochs without architecture updates.</summary>
    public int? WarmupEpochs { get; init; }

    /// <summary>Final-architecture selection rule.</summary>
    public SelectionRule? Selection { get; init; }

    /// <summary>Patience of <see cref="SelectionRule.BestSupernetValidationLoss"/>.</summary>
    public int? SelectionPatience { get; init; }

    /// <summary>Returns a copy of <paramref name="options"/> with these settings applied.</summary>
    /// <param name="options">The caller's options (not modified).</param>
    public SearchOptions ApplyTo(SearchOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Clone();
        if (BatchSize is int b) o.BatchSize = b;
        if (WeightLearningRate is double lr) o.WeightLearningRate = lr;
        if (WeightLearningRateMin is double lrMin) o.WeightLearningRateMin = lrMin;
        if (ArchitectureLearningRate is double alr) o.ArchitectureLearningRate = alr;
        if (WarmupEpochs is int w) o.WarmupEpochs = Math.Min(w, o.Epochs);
        if (Selection is SelectionRule s) o.Selection = s;
        if (SelectionPatience is int p) o.SelectionPatience = p;
        return o;
    }

    /// <summary>Combines two settings; fields of <paramref name="other"/> win.</summary>
    /// <param name="other">The overriding settings.</param>
    public PresetSearchSettings With(PresetSearchSettings other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new PresetSearchSettings
        {
            BatchSize = other.BatchSize ?? BatchSize,
            WeightLearningRate = other.WeightLearningRate ?? WeightLearningRate,
            WeightLearningRateMin = other.WeightLearningRateMin ?? WeightLearningRateMin,
            ArchitectureLearningRate = other.ArchitectureLearningRate ?? ArchitectureLearningRate,
            WarmupEpochs = other.WarmupEpochs ?? WarmupEpochs,
            Selection = other.Selection ?? Selection,
            SelectionPatience = other.SelectionPatience ?? SelectionPatience,
        };
    }
}
