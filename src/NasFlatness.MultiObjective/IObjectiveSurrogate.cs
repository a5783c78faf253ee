namespace NasFlatness.MultiObjective;

/// <summary>
/// A regression model of the first objective of a <see cref="ParetoSearch{T}"/> (CNAS's accuracy surrogate): refit at every
/// iteration on the archive's candidate features and first-objective values, then asked for the value of candidates that
/// were not evaluated. <c>TreeEnsembleSurrogate</c> in the satellite package <c>NasFlatness.MultiObjective.MLNet</c> is the built-in one (ML.NET FastTree / FastForest).
/// </summary>
/// <remarks>
/// Implementations must be deterministic for a given training set and seed: the search refits from its archive with a seed
/// derived from (search seed, iteration), and a resumed search equals an uninterrupted one only if the fit is reproducible.
/// </remarks>
public interface IObjectiveSurrogate
{
    /// <summary>Name with the settings that change predictions (recorded in the search's checkpoint and compared on resume).</summary>
    string Name { get; }

    /// <summary>Fits the model, replacing any earlier fit.</summary>
    /// <param name="features">One feature vector per training candidate (all of the same length).</param>
    /// <param name="targets">The objective value of each training candidate (finite).</param>
    /// <param name="seed">Seed of any randomness of the fit.</param>
    void Fit(IReadOnlyList<IReadOnlyList<double>> features, IReadOnlyList<double> targets, int seed);

    /// <summary>The predicted objective value of a candidate with <paramref name="features"/>.</summary>
    /// <exception cref="InvalidOperationException">Called before <see cref="Fit"/>.</exception>
    double Predict(IReadOnlyList<double> features);
}

/// <summary>
/// Turns a candidate into the numeric feature vector a surrogate learns from (for NAS-Bench-201 the one-hot operation
/// of every edge). An <see cref="ICandidateEncoding{T}"/> implements it to allow <see cref="ParetoSearchOptions.Surrogate"/>.
/// </summary>
/// <typeparam name="T">The candidate type.</typeparam>
public interface ICandidateFeatures<in T> where T : notnull
{
    /// <summary>The features of <paramref name="candidate"/>; every candidate has the same number.</summary>
    IReadOnlyList<double> Features(T candidate);
}

/// <summary>
/// An evaluator that can give, without the expensive evaluation, the metrics every objective but the first needs (e.g. the
/// exact parameter count). A surrogate-assisted <see cref="ParetoSearch{T}"/> scores unevaluated candidates with the surrogate's
/// first objective and these metrics' exact other objectives.
/// </summary>
/// <typeparam name="T">The candidate type.</typeparam>
public interface ICheapMetricsEvaluator<in T> where T : notnull
{
    /// <summary>
    /// The metrics of <paramref name="candidate"/> in <see cref="IMultiObjectiveEvaluator{T}.MetricNames"/> order, with
    /// <see cref="double.NaN"/> for every metric that needs the expensive evaluation.
    /// </summary>
    IReadOnlyList<double> CheapMetrics(T candidate);
}
