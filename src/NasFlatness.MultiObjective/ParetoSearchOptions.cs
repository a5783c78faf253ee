using System.Globalization;

namespace NasFlatness.MultiObjective;

/// <summary>Options of <see cref="ParetoSearch{T}"/>. Defaults follow the CNAS scripts where they apply (n_doe 100, K 8, 30 iterations, patience 10, NSGA-II population 40).</summary>
public sealed class ParetoSearchOptions
{
    /// <summary>Size n of the design of experiments: distinct random candidates evaluated before the first iteration.
    /// Setting it equal to <see cref="Budget"/> gives plain random search.</summary>
    /// <value>Default 100.</value>
    public int InitialSamples { get; set; } = 100;

    /// <summary>New candidates K evaluated per iteration (the last iteration evaluates fewer if the budget runs out).</summary>
    /// <value>Default 8.</value>
    public int EvaluationsPerIteration { get; set; } = 8;

    /// <summary>Parent population: the NSGA-II survivors of the archive from which offspring are bred.</summary>
    /// <value>Default 40.</value>
    public int PopulationSize { get; set; } = 40;

    /// <summary>Most iterations after the design of experiments.</summary>
    /// <value>Default 30.</value>
    public int MaxIterations { get; set; } = 30;

    /// <summary>Total candidate evaluations allowed, design of experiments included; null means
    /// <see cref="InitialSamples"/> + <see cref="MaxIterations"/> · <see cref="EvaluationsPerIteration"/>.</summary>
    /// <value>Default null.</value>
    public int? Budget { get; set; }

    /// <summary>Stop after this many consecutive iterations without a hypervolume improvement.</summary>
    /// <value>Default 10.</value>
    public int Patience { get; set; } = 10;

    /// <summary>Probability that a child is bred by crossover of two tournament winners (otherwise it is a mutated copy of one).</summary>
    /// <value>Default 0.9.</value>
    public double CrossoverProbability { get; set; } = 0.9;

    /// <summary>
    /// Whether parents are chosen feasible first (Deb's constraint domination: every feasible candidate ranks before every
    /// infeasible one, and infeasible ones rank by increasing total violation) instead of by the penalised objectives alone.
    /// </summary>
    /// <value>Default false (penalties only).</value>
    public bool FeasibilityFirst { get; set; }

    /// <summary>Reference point of the hypervolume, one value per objective, in objective units; it should be worse than
    /// every interesting feasible point. Required.</summary>
    /// <value>Default null (must be set).</value>
    public IReadOnlyList<double>? HypervolumeReference { get; set; }

    /// <summary>
    /// Optional surrogate of the first objective, refit on the archive every iteration to pick the K candidates to evaluate
    /// (docs/multi-objective.md). Needs an encoding that implements <see cref="ICandidateFeatures{T}"/> and an evaluator that
    /// implements <see cref="ICheapMetricsEvaluator{T}"/>. Refit in place: do not share it between concurrent searches.
    /// </summary>
    /// <value>Default null (no surrogate).</value>
    public IObjectiveSurrogate? Surrogate { get; set; }

    /// <summary>NSGA-II generations run on the surrogate's predictions per iteration (used only with a <see cref="Surrogate"/>).</summary>
    /// <value>Default 20.</value>
    public int SurrogateGenerations { get; set; } = 20;

    /// <summary>Seed of all sampling; the same seed, options and evaluator give the same search.</summary>
    /// <value>Default 0.</value>
    public int Seed { get; set; }

    /// <summary>The folder of the JSON checkpoint (<see cref="CheckpointFileName"/>), written atomically after the design of
    /// experiments and after every iteration; null writes none.</summary>
    /// <value>Default null.</value>
    public string? CheckpointDirectory { get; set; }

    /// <summary>Whether a checkpoint found in <see cref="CheckpointDirectory"/> is resumed from (false: the search starts over
    /// and overwrites it).</summary>
    /// <value>Default true.</value>
    public bool ResumeFromCheckpoint { get; set; } = true;

    /// <summary>The checkpoint's file name inside <see cref="CheckpointDirectory"/>.</summary>
    public const string CheckpointFileName = "pareto-search.json";

    /// <summary>The checkpoint file: <see cref="CheckpointFileName"/> in <see cref="CheckpointDirectory"/>; null when none is set.</summary>
    public string? CheckpointFile => CheckpointDirectory is null ? null : Path.Combine(CheckpointDirectory, CheckpointFileName);

    /// <summary>The budget in force: <see cref="Budget"/> or its default.</summary>
    public int EffectiveBudget => Budget ?? InitialSamples + MaxIterations * EvaluationsPerIteration;

    /// <summary>Returns a copy (the reference point is copied too).</summary>
    public ParetoSearchOptions Clone()
    {
        var copy = (ParetoSearchOptions)MemberwiseClone();
        copy.HypervolumeReference = HypervolumeReference?.ToArray();
        return copy;
    }

    /// <summary>Every problem with the options, each naming the field; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        void Check(bool ok, string field, object? value, string expected)
        {
            if (!ok) errors.Add(string.Create(CultureInfo.InvariantCulture, $"{field} = {value} is invalid: {expected}."));
        }
        Check(InitialSamples >= 1, nameof(InitialSamples), InitialSamples, "must be at least 1");
        Check(EvaluationsPerIteration >= 1, nameof(EvaluationsPerIteration), EvaluationsPerIteration, "must be at least 1");
        Check(PopulationSize >= 2, nameof(PopulationSize), PopulationSize, "must be at least 2");
        Check(MaxIterations >= 0, nameof(MaxIterations), MaxIterations, "must be at least 0");
        Check(Patience >= 1, nameof(Patience), Patience, "must be at least 1");
        Check(Budget is null || Budget >= InitialSamples, nameof(Budget), Budget, $"must be null or at least {nameof(InitialSamples)} = {InitialSamples}");
        Check(CrossoverProbability is >= 0 and <= 1, nameof(CrossoverProbability), CrossoverProbability, "must be in [0, 1]");
        if (HypervolumeReference is null)
            errors.Add($"{nameof(HypervolumeReference)} is missing: set one value per objective.");
        else
            Check(HypervolumeReference.Count > 0 && HypervolumeReference.All(double.IsFinite), nameof(HypervolumeReference),
                "[" + string.Join(", ", HypervolumeReference.Select(v => v.ToString(CultureInfo.InvariantCulture))) + "]", "must hold one finite value per objective");
        Check(SurrogateGenerations >= 1, nameof(SurrogateGenerations), SurrogateGenerations, "must be at least 1");
        Check(CheckpointDirectory is null || !string.IsNullOrWhiteSpace(CheckpointDirectory), nameof(CheckpointDirectory), CheckpointDirectory, "must be null or a folder");
        return errors;
    }
}
