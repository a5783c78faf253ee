using System.Globalization;
using NasFlatness.Genotypes;

namespace NasFlatness.Landscape;

/// <summary>How a random-search budget is counted.</summary>
public enum BudgetAccounting
{
    /// <summary>The budget counts distinct architectures scored (neighbour evaluations included), so NA-RS and RS are
    /// compared at equal evaluation cost. A candidate whose neighbourhood would exceed the remaining budget is not started.</summary>
    Evaluations,

    /// <summary>The budget counts sampled candidate architectures (centres); neighbour evaluations are free.</summary>
    Candidates,
}

/// <summary>Options of <see cref="NeighborhoodRandomSearch{TGenotype}"/> (defaults: docs/spec/algorithms.md §8.2).</summary>
public sealed class NeighborhoodRandomSearchOptions
{
    /// <summary>Search budget, counted as <see cref="Accounting"/> says.</summary>
    /// <value>Default 1000.</value>
    public int Budget { get; set; } = 1000;

    /// <summary>How <see cref="Budget"/> is counted.</summary>
    /// <value>Default <see cref="BudgetAccounting.Evaluations"/>.</value>
    public BudgetAccounting Accounting { get; set; } = BudgetAccounting.Evaluations;

    /// <summary>Score candidates by their neighbourhood mean (NA-RS); false gives plain random search (a candidate's own score).</summary>
    /// <value>Default true.</value>
    public bool NeighborhoodAware { get; set; } = true;

    /// <summary>Neighbourhood radius r (the sphere at Hamming distance exactly r).</summary>
    /// <value>Default 1.</value>
    public int Radius { get; set; } = 1;

    /// <summary>Whether the candidate itself is part of its neighbourhood mean.</summary>
    /// <value>Default true.</value>
    public bool IncludeCenter { get; set; } = true;

    /// <summary>Score only this many random neighbours per candidate (for expensive scorers); null scores the whole sphere.</summary>
    /// <value>Default null (all neighbours; 24 in NAS-Bench-201 at radius 1).</value>
    public int? NeighborSampleSize { get; set; }

    /// <summary>Seed of the candidate and neighbour sampling.</summary>
    /// <value>Default 0.</value>
    public int Seed { get; set; }

    /// <summary>Options for plain random search with the same budget semantics.</summary>
    /// <param name="budget">The budget.</param>
    /// <param name="seed">The seed.</param>
    public static NeighborhoodRandomSearchOptions PlainRandomSearch(int budget = 1000, int seed = 0) =>
        new() { Budget = budget, Seed = seed, NeighborhoodAware = false };

    /// <summary>Returns a copy.</summary>
    public NeighborhoodRandomSearchOptions Clone() => (NeighborhoodRandomSearchOptions)MemberwiseClone();

    /// <summary>Lists what is wrong with these options (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        void Check(bool ok, string field, object? value, string expected)
        {
            if (!ok) errors.Add(string.Create(CultureInfo.InvariantCulture, $"{field} = {value} is invalid: {expected}."));
        }
        Check(Budget >= 1, nameof(Budget), Budget, "must be at least 1");
        Check(Enum.IsDefined(Accounting), nameof(Accounting), Accounting, "must be Evaluations or Candidates");
        Check(Radius >= 1, nameof(Radius), Radius, "must be at least 1");
        Check(NeighborSampleSize is null or >= 1, nameof(NeighborSampleSize), NeighborSampleSize, "must be null (all) or at least 1");
        Check(!NeighborhoodAware || IncludeCenter || NeighborSampleSize is null or >= 1, nameof(IncludeCenter), IncludeCenter, "needs at least one neighbour");
        return errors;
    }
}

/// <summary>One candidate evaluated by <see cref="NeighborhoodRandomSearch{TGenotype}"/>.</summary>
/// <typeparam name="TGenotype">The genotype type.</typeparam>
/// <param name="Genotype">The candidate.</param>
/// <param name="Score">The candidate's own score.</param>
/// <param name="NeighborhoodMean">The mean score over its neighbourhood (centre included if configured); equals
/// <paramref name="Score"/> for plain random search.</param>
/// <param name="NeighborCount">How many neighbours entered the mean (0 for plain random search).</param>
public sealed record NeighborhoodCandidate<TGenotype>(TGenotype Genotype, double Score, double NeighborhoodMean, int NeighborCount) where TGenotype : notnull;

/// <summary>The outcome of a (neighbourhood-aware) random search.</summary>
/// <typeparam name="TGenotype">The genotype type.</typeparam>
public sealed record NeighborhoodSearchResult<TGenotype> where TGenotype : notnull
{
    /// <summary>The chosen architecture (highest neighbourhood mean; highest own score for plain RS).</summary>
    public required TGenotype Genotype { get; init; }

    /// <summary>The chosen architecture's own score.</summary>
    public required double Score { get; init; }

    /// <summary>The chosen architecture's neighbourhood mean (its own score for plain RS).</summary>
    public required double NeighborhoodMean { get; init; }

    /// <summary>Distinct architectures scored (scorer calls).</summary>
    public required int Evaluations { get; init; }

    /// <summary>Every candidate in sampling order.</summary>
    public required IReadOnlyList<NeighborhoodCandidate<TGenotype>> Candidates { get; init; }
}

/// <summary>
/// NA-RS (docs/spec/algorithms.md §8.2): random search that ranks uniformly sampled candidates by the mean score of their
/// neighbourhood (higher is better); with <see cref="NeighborhoodRandomSearchOptions.NeighborhoodAware"/> off, plain random
/// search by own score. Each distinct architecture is scored once (cached); the evaluation count is reported.
/// </summary>
/// <typeparam name="TGenotype">The genotype type.</typeparam>
public sealed class NeighborhoodRandomSearch<TGenotype> where TGenotype : notnull
{
    private readonly INeighborhoodSpace<TGenotype> _space;
    private readonly Func<Random, TGenotype> _sample;
    private readonly IArchitectureScorer<TGenotype> _scorer;
    private readonly NeighborhoodRandomSearchOptions _options;

    /// <summary>Creates the search.</summary>
    /// <param name="space">Neighbourhood structure of the search space.</param>
    /// <param name="sample">Draws a uniformly random architecture.</param>
    /// <param name="scorer">Scores an architecture (higher is better).</param>
    /// <param name="options">Options; defaults as documented on <see cref="NeighborhoodRandomSearchOptions"/>.</param>
    public NeighborhoodRandomSearch(INeighborhoodSpace<TGenotype> space, Func<Random, TGenotype> sample, IArchitectureScorer<TGenotype> scorer,
        NeighborhoodRandomSearchOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(space);
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(scorer);
        _options = (options ?? new NeighborhoodRandomSearchOptions()).Clone();
        var errors = _options.Validate();
        if (errors.Count > 0) throw new ArgumentException("Invalid neighbourhood random-search options: " + string.Join(" ", errors), nameof(options));
        if (_options.NeighborhoodAware && !space.CanEnumerate && _options.NeighborSampleSize is null)
            throw new ArgumentException($"The space '{space.Name}' cannot enumerate neighbourhoods; set {nameof(NeighborhoodRandomSearchOptions.NeighborSampleSize)}.", nameof(options));
        _space = space;
        _sample = sample;
        _scorer = scorer;
    }

    /// <summary>The options (a copy).</summary>
    public NeighborhoodRandomSearchOptions Options => _options.Clone();

    /// <summary>Runs the search.</summary>
    /// <param name="cancellationToken">Checked before every candidate.</param>
    public NeighborhoodSearchResult<TGenotype> Run(CancellationToken cancellationToken = default)
    {
        var o = _options;
        var random = new Random(o.Seed);
        var cache = new Dictionary<TGenotype, double>();
        double Score(TGenotype g)
        {
            if (!cache.TryGetValue(g, out var s)) cache[g] = s = _scorer.Score(g);
            return s;
        }
        var candidates = new List<NeighborhoodCandidate<TGenotype>>();
        NeighborhoodCandidate<TGenotype>? best = null;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (o.Accounting == BudgetAccounting.Candidates && candidates.Count >= o.Budget) break;
            var center = _sample(random);
            IReadOnlyList<TGenotype> neighbors = [];
            if (o.NeighborhoodAware)
            {
                if (_space.CanEnumerate)
                {
                    var all = _space.Sphere(center, o.Radius).ToArray();
                    if (o.NeighborSampleSize is int k && k < all.Length)
                    {
                        random.Shuffle(all);
                        all = all[..k];
                    }
                    neighbors = all;
                }
                else
                {
                    neighbors = _space.SampleSphere(center, o.Radius, o.NeighborSampleSize!.Value, random);
                }
            }
            if (o.Accounting == BudgetAccounting.Evaluations)
            {
                var needed = new HashSet<TGenotype>(neighbors);
                needed.Add(center); // the centre is always scored (its own score is reported)
                int cost = needed.Count(g => !cache.ContainsKey(g));
                if (cache.Count + cost > o.Budget)
                {
                    if (candidates.Count == 0)
                        throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                            $"{nameof(NeighborhoodRandomSearchOptions.Budget)} = {o.Budget} evaluations cannot cover even one candidate and its neighbourhood ({cost} evaluations)."));
                    break;
                }
            }
            double own = Score(center);
            double mean = own;
            if (o.NeighborhoodAware)
            {
                double sum = o.IncludeCenter ? own : 0;
                int n = o.IncludeCenter ? 1 : 0;
                foreach (var g in neighbors) { sum += Score(g); n++; }
                mean = sum / n;
            }
            var candidate = new NeighborhoodCandidate<TGenotype>(center, own, mean, neighbors.Count);
            candidates.Add(candidate);
            if (best is null || candidate.NeighborhoodMean > best.NeighborhoodMean) best = candidate;
        }
        return new NeighborhoodSearchResult<TGenotype>
        {
            Genotype = best!.Genotype,
            Score = best.Score,
            NeighborhoodMean = best.NeighborhoodMean,
            Evaluations = cache.Count,
            Candidates = candidates,
        };
    }
}

/// <summary>Ready-made (neighbourhood-aware) random searches.</summary>
public static class NeighborhoodRandomSearch
{
    /// <summary>NA-RS (or plain RS, see <see cref="NeighborhoodRandomSearchOptions.NeighborhoodAware"/>) over NAS-Bench-201 with
    /// Hamming neighbourhoods and uniform sampling of the 15,625 cells.</summary>
    /// <param name="scorer">Scores a cell, e.g. <c>Nb201Table.Embedded.Scorer(metric)</c>.</param>
    /// <param name="options">Options.</param>
    public static NeighborhoodRandomSearch<Nb201Genotype> ForNb201(IArchitectureScorer<Nb201Genotype> scorer, NeighborhoodRandomSearchOptions? options = null) =>
        new(Nb201NeighborhoodSpace.Instance, r => Nb201Genotype.FromCode(r.Next(Nb201Genotype.SpaceSize)), scorer, options);
}
