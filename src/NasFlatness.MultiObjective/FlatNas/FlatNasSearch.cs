using System.Globalization;
using NasFlatness.Genotypes;

namespace NasFlatness.MultiObjective.FlatNas;

/// <summary>Options of <see cref="FlatNasSearch.Create"/>.</summary>
public sealed class FlatNasSearchOptions
{
    /// <summary>Weight α of the error in <c>top1_robust = α·err + α_norm·(1 − α)·R</c>.</summary>
    /// <value>Default 0.5 (FlatNAS).</value>
    public double Alpha { get; set; } = 0.5;

    /// <summary>p<sub>max</sub>: the parameter limit in millions, enforced by a static penalty.</summary>
    /// <value>Default 5.0.</value>
    public double ParameterLimit { get; set; } = 5.0;

    /// <summary>Penalty factor P of the parameter constraint.</summary>
    /// <value>Default 10¹⁰.</value>
    public double Penalty { get; set; } = PenaltyConstraint.DefaultPenalty;

    /// <summary>The NSGA-II search; a missing <see cref="ParetoSearchOptions.HypervolumeReference"/> becomes [100, <see cref="ParameterLimit"/>].</summary>
    /// <value>Default <see cref="ParetoSearchOptions"/>'s defaults.</value>
    public ParetoSearchOptions Search { get; set; } = new();

    /// <summary>Every problem with the options, each naming the field; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!(Alpha is >= 0 and <= 1)) errors.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(Alpha)} = {Alpha} is invalid: must be in [0, 1]."));
        if (!(ParameterLimit > 0 && double.IsFinite(ParameterLimit))) errors.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(ParameterLimit)} = {ParameterLimit} is invalid: must be positive."));
        if (!(Penalty >= 0 && double.IsFinite(Penalty))) errors.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(Penalty)} = {Penalty} is invalid: must be non-negative."));
        if (Search is null) errors.Add($"{nameof(Search)} is missing.");
        return errors;
    }
}

/// <summary>
/// The <c>flatnas</c> entry point: a <see cref="ParetoSearch{T}"/> over NB201 cells with FlatNAS's two objectives,
/// <see cref="RobustTop1Objective"/> and the parameter count under a <see cref="PenaltyConstraint"/>. The evaluator must report
/// the <see cref="FlatNasMetrics"/> layout (<see cref="FlatNasEvaluator"/> trains each cell; <see cref="Nb201TableFlatNasEvaluator"/>
/// uses the table). Settings taken from the paper's code: docs/flatnas.md.
/// </summary>
public static class FlatNasSearch
{
    /// <summary>The preset's name.</summary>
    public const string Name = "flatnas";

    /// <summary>The two objectives: <c>top1_robust</c> and the penalised parameter count.</summary>
    /// <exception cref="ArgumentException">Invalid options.</exception>
    public static IReadOnlyList<ISearchObjective> Objectives(FlatNasSearchOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ThrowIfInvalid(options);
        return
        [
            new RobustTop1Objective(FlatNasMetrics.Error, FlatNasMetrics.Robustness, options.Alpha),
            new PenaltyConstraint(FlatNasMetrics.Parameters, options.ParameterLimit, penalty: options.Penalty,
                name: string.Create(CultureInfo.InvariantCulture, $"parameters M (<= {options.ParameterLimit})")),
        ];
    }

    /// <summary>Creates the search.</summary>
    /// <param name="evaluator">Measures candidates (metrics in the <see cref="FlatNasMetrics"/> layout).</param>
    /// <param name="options">α, the parameter limit and NSGA-II options; null uses the defaults.</param>
    /// <exception cref="ArgumentException">Invalid options, or an evaluator that does not report three metrics.</exception>
    public static ParetoSearch<Nb201Genotype> Create(IMultiObjectiveEvaluator<Nb201Genotype> evaluator, FlatNasSearchOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(evaluator);
        options ??= new FlatNasSearchOptions();
        ThrowIfInvalid(options);
        if (evaluator.MetricNames.Count != FlatNasMetrics.Names.Count)
            throw new ArgumentException($"The evaluator reports {evaluator.MetricNames.Count} metrics; FlatNAS needs {FlatNasMetrics.Names.Count} (error %, R, parameters M: the FlatNasMetrics layout).", nameof(evaluator));
        var search = options.Search.Clone();
        search.HypervolumeReference ??= [100, options.ParameterLimit];
        return new ParetoSearch<Nb201Genotype>(new Nb201CandidateEncoding(), evaluator, Objectives(options), search);
    }

    private static void ThrowIfInvalid(FlatNasSearchOptions options)
    {
        var errors = options.Validate();
        if (errors.Count > 0) throw new ArgumentException("Invalid FlatNAS search options: " + string.Join(" ", errors), nameof(options));
    }
}
