using System.Globalization;

namespace NasFlatness.MultiObjective.Nachos;

/// <summary>Options of <see cref="NachosSearch.Create"/>.</summary>
public sealed class NachosSearchOptions
{
    /// <summary>m<sub>max</sub>: the average-MAC limit in millions, enforced by NACHOS's adaptive penalty; null minimises the MACs unconstrained (the "noconstraints" ablation).</summary>
    /// <value>Default null.</value>
    public double? MacLimit { get; set; }

    /// <summary>top1<sub>min</sub> (0..1): the accuracy constraint, a static penalty on the error; null: none.</summary>
    /// <value>Default null.</value>
    public double? MinimumAccuracy { get; set; }

    /// <summary>Penalty factor P of both constraints.</summary>
    /// <value>Default 10¹⁰.</value>
    public double Penalty { get; set; } = PenaltyConstraint.DefaultPenalty;

    /// <summary>The NSGA-II search; a missing <see cref="ParetoSearchOptions.HypervolumeReference"/> becomes [error limit or 100, MAC limit or the given cost reference].</summary>
    /// <value>Default <see cref="ParetoSearchOptions"/>'s defaults.</value>
    public ParetoSearchOptions Search { get; set; } = new();

    /// <summary>Every problem with the options, each naming the field; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (MacLimit is double m && !(m > 0 && double.IsFinite(m))) errors.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(MacLimit)} = {m} is invalid: must be positive, or null."));
        if (MinimumAccuracy is double a && !(a is >= 0 and <= 1)) errors.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(MinimumAccuracy)} = {a} is invalid: must be in [0, 1], or null."));
        if (!(Penalty >= 0 && double.IsFinite(Penalty))) errors.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(Penalty)} = {Penalty} is invalid: must be non-negative."));
        if (Search is null) errors.Add($"{nameof(Search)} is missing.");
        return errors;
    }
}

/// <summary>
/// The <c>nachos</c> entry point: a <see cref="ParetoSearch{T}"/> over (NB201 cell, exit placement) minimising the top-1 error
/// (accuracy constraint as a penalty) and the average MACs per inference (<see cref="AdaptivePenaltyObjective"/>). The evaluator
/// must report the <see cref="NachosMetrics"/> layout (<see cref="Nb201TableNachosEvaluator"/> or <see cref="TrainedNachosEvaluator"/>).
/// Objectives and settings as in the paper's code: docs/nachos.md.
/// </summary>
public static class NachosSearch
{
    /// <summary>The preset's name.</summary>
    public const string Name = "nachos";

    /// <summary>The two objectives: the (accuracy-constrained) error and the adaptively penalised average MACs.</summary>
    public static IReadOnlyList<ISearchObjective> Objectives(NachosSearchOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ThrowIfInvalid(options);
        ISearchObjective error = options.MinimumAccuracy is double a
            ? new PenaltyConstraint(NachosMetrics.Error, 100 * (1 - a), penalty: options.Penalty, name: string.Create(CultureInfo.InvariantCulture, $"error % (accuracy >= {a})"))
            : new MetricObjective(NachosMetrics.Error, "error %");
        ISearchObjective macs = options.MacLimit is double m
            ? new AdaptivePenaltyObjective(NachosMetrics.AverageMacs, m, options.Penalty, string.Create(CultureInfo.InvariantCulture, $"average MACs M (adaptive, <= {m})"))
            : new MetricObjective(NachosMetrics.AverageMacs, "average MACs M");
        return [error, macs];
    }

    /// <summary>Creates the search.</summary>
    /// <param name="evaluator">Measures candidates (metrics in the <see cref="NachosMetrics"/> layout).</param>
    /// <param name="slotCount">Exit slots of the encoding (must match the evaluator's).</param>
    /// <param name="options">Constraints and NSGA-II options.</param>
    /// <param name="macReference">Hypervolume reference of the MAC objective when there is no MAC limit and no explicit reference (M).</param>
    /// <param name="requireExit">Whether every candidate has at least one early exit.</param>
    /// <exception cref="ArgumentException">Invalid options or a slot count that does not match the evaluator's metrics.</exception>
    public static ParetoSearch<NachosCandidate> Create(IMultiObjectiveEvaluator<NachosCandidate> evaluator, int slotCount, NachosSearchOptions options,
        double? macReference = null, bool requireExit = true)
    {
        ArgumentNullException.ThrowIfNull(evaluator);
        ArgumentNullException.ThrowIfNull(options);
        ThrowIfInvalid(options);
        if (evaluator.MetricNames.Count != NachosMetrics.FirstFraction + slotCount + 1)
            throw new ArgumentException($"The evaluator reports {evaluator.MetricNames.Count} metrics, but {slotCount} slots need {NachosMetrics.FirstFraction + slotCount + 1} (the NachosMetrics layout).", nameof(slotCount));
        var search = options.Search.Clone();
        if (search.HypervolumeReference is null)
        {
            double macs = options.MacLimit ?? macReference
                ?? throw new ArgumentException($"Without a MAC limit, give {nameof(macReference)} or {nameof(NachosSearchOptions.Search)}.{nameof(ParetoSearchOptions.HypervolumeReference)}.", nameof(options));
            search.HypervolumeReference = [options.MinimumAccuracy is double a ? 100 * (1 - a) : 100, macs];
        }
        return new ParetoSearch<NachosCandidate>(new NachosCandidateEncoding(slotCount, requireExit), evaluator, Objectives(options), search);
    }

    private static void ThrowIfInvalid(NachosSearchOptions options)
    {
        var errors = options.Validate();
        if (errors.Count > 0) throw new ArgumentException("Invalid NACHOS search options: " + string.Join(" ", errors), nameof(options));
    }
}
