using System.Globalization;

namespace NasFlatness.MultiObjective;

/// <summary>
/// One surrogate-assisted proposal of a <see cref="ParetoSearch{T}"/> iteration (CNAS / MSuNAS): fit the surrogate of the first
/// objective on the archive, evolve a population with NSGA-II on (predicted first objective, exact cheap other objectives),
/// and return the best new candidates of the final population.
/// </summary>
internal sealed class SurrogateProposal<T> where T : notnull
{
    private readonly ICandidateEncoding<T> _encoding;
    private readonly ICandidateFeatures<T> _features;
    private readonly ICheapMetricsEvaluator<T> _cheap;
    private readonly IReadOnlyList<ISearchObjective> _objectives;
    private readonly IObjectiveSurrogate _surrogate;
    private readonly int _populationSize, _generations;
    private readonly double _crossoverProbability;

    public SurrogateProposal(ICandidateEncoding<T> encoding, ICandidateFeatures<T> features, ICheapMetricsEvaluator<T> cheap,
        IReadOnlyList<ISearchObjective> objectives, ParetoSearchOptions options)
    {
        _encoding = encoding;
        _features = features;
        _cheap = cheap;
        _objectives = objectives;
        _surrogate = options.Surrogate!;
        _populationSize = options.PopulationSize;
        _generations = options.SurrogateGenerations;
        _crossoverProbability = options.CrossoverProbability;
    }

    /// <summary>
    /// Up to <paramref name="wanted"/> new candidates (keys not in <paramref name="isArchived"/>), best first. The objectives must
    /// already be prepared with the archive (the caller scored it). <paramref name="parents"/> index the archive.
    /// </summary>
    public List<(T Candidate, string Key)> Propose(IReadOnlyList<T> archive, IReadOnlyList<double[]> scores, IReadOnlyList<int> parents,
        Func<string, bool> isArchived, int wanted, Random random)
    {
        _surrogate.Fit([.. archive.Select(Features)], [.. scores.Select(s => s[0])], random.Next());

        // The NSGA-II population starts from the archive's parents, scored like every other member: by the surrogate.
        var members = new List<Member>(2 * _populationSize);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (int i in parents)
        {
            string key = _encoding.Key(archive[i]);
            if (seen.Add(key)) members.Add(Score(archive[i], key));
        }
        for (int generation = 0; generation < _generations; generation++)
        {
            var (rank, crowding) = Nsga2.RankAndCrowding(members.Select(m => (IReadOnlyList<double>)m.Objectives).ToArray());
            var offspring = new List<Member>(_populationSize);
            int attempts = 0, maxAttempts = 100 * _populationSize;
            while (offspring.Count < _populationSize && attempts++ < maxAttempts)
            {
                var child = members[Nsga2.Tournament(rank, crowding, random)].Candidate;
                if (random.NextDouble() < _crossoverProbability)
                    child = _encoding.Crossover(child, members[Nsga2.Tournament(rank, crowding, random)].Candidate, random);
                child = _encoding.Mutate(child, random);
                string key = _encoding.Key(child);
                if (!isArchived(key) && seen.Add(key)) offspring.Add(Score(child, key));
            }
            if (offspring.Count == 0) break;
            members.AddRange(offspring);
            var survivors = Nsga2.EnvironmentalSelection(members.Select(m => (IReadOnlyList<double>)m.Objectives).ToArray(), _populationSize);
            members = [.. survivors.Select(i => members[i])];
        }

        // Non-dominated first, then larger crowding distance, then key (a total, reproducible order).
        var (finalRank, finalCrowding) = Nsga2.RankAndCrowding(members.Select(m => (IReadOnlyList<double>)m.Objectives).ToArray());
        return [.. Enumerable.Range(0, members.Count)
            .Where(i => !isArchived(members[i].Key))
            .OrderBy(i => finalRank[i]).ThenByDescending(i => finalCrowding[i]).ThenBy(i => members[i].Key, StringComparer.Ordinal)
            .Take(wanted)
            .Select(i => (members[i].Candidate, members[i].Key))];
    }

    private IReadOnlyList<double> Features(T candidate) => _features.Features(candidate);

    private Member Score(T candidate, string key)
    {
        var objectives = new double[_objectives.Count];
        objectives[0] = _surrogate.Predict(Features(candidate));
        var metrics = _cheap.CheapMetrics(candidate);
        for (int m = 1; m < objectives.Length; m++)
        {
            objectives[m] = _objectives[m].Value(metrics);
            if (double.IsNaN(objectives[m]))
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"Objective {m} ('{_objectives[m].Name}') is NaN for the cheap metrics of '{key}': with a surrogate, every objective but the first must be computable from {nameof(ICheapMetricsEvaluator<T>.CheapMetrics)}."));
        }
        if (!double.IsFinite(objectives[0]))
            throw new InvalidOperationException($"The surrogate '{_surrogate.Name}' predicted {objectives[0].ToString(CultureInfo.InvariantCulture)} for '{key}'.");
        return new Member(candidate, key, objectives);
    }

    private sealed record Member(T Candidate, string Key, double[] Objectives);
}
