using System.Globalization;

namespace NasFlatness.MultiObjective;

/// <summary>
/// Constrained multi-objective search (NSGA-II over an archive, constraints as penalty objectives, optional surrogate of the
/// first objective): a design of experiments, then iterations that breed and evaluate K new distinct candidates, until the
/// budget, <see cref="ParetoSearchOptions.MaxIterations"/> or <see cref="ParetoSearchOptions.Patience"/> runs out. Each key is
/// evaluated once; the same seed, options and evaluator give the same search, and a search resumed from its checkpoint
/// (<see cref="ParetoSearchOptions.CheckpointDirectory"/>) gives the same archive. Not thread-safe. Details: docs/multi-objective.md.
/// </summary>
/// <typeparam name="T">The candidate type.</typeparam>
public sealed class ParetoSearch<T> where T : notnull
{
    private const string CheckpointFormat = "nasflatness.pareto-search/1";

    private readonly ICandidateEncoding<T> _encoding;
    private readonly IMultiObjectiveEvaluator<T> _evaluator;
    private readonly ISearchObjective[] _objectives;
    private readonly ParetoSearchOptions _options;
    private readonly double[] _reference;
    private readonly SurrogateProposal<T>? _proposal;

    /// <summary>Creates the search.</summary>
    /// <param name="encoding">Sampling, variation and keys of the candidates.</param>
    /// <param name="evaluator">Measures a candidate's metrics.</param>
    /// <param name="objectives">The minimised objectives (at least two for a Pareto search; one also works).</param>
    /// <param name="options">Options; <see cref="ParetoSearchOptions.HypervolumeReference"/> must be set.</param>
    /// <exception cref="ArgumentException">Invalid options, no objectives, a reference point whose length differs from the number of objectives,
    /// or a <see cref="ParetoSearchOptions.Surrogate"/> with an encoding that is not an <see cref="ICandidateFeatures{T}"/> or an evaluator that is not an <see cref="ICheapMetricsEvaluator{T}"/>.</exception>
    public ParetoSearch(ICandidateEncoding<T> encoding, IMultiObjectiveEvaluator<T> evaluator, IReadOnlyList<ISearchObjective> objectives, ParetoSearchOptions options)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        ArgumentNullException.ThrowIfNull(evaluator);
        ArgumentNullException.ThrowIfNull(objectives);
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Clone();
        var errors = _options.Validate();
        if (errors.Count > 0) throw new ArgumentException("Invalid Pareto search options: " + string.Join(" ", errors), nameof(options));
        if (objectives.Count == 0 || objectives.Any(o => o is null))
            throw new ArgumentException("The search needs at least one objective, and none may be null.", nameof(objectives));
        _reference = [.. _options.HypervolumeReference!];
        if (_reference.Length != objectives.Count)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{nameof(ParetoSearchOptions.HypervolumeReference)} has {_reference.Length} value(s) but there are {objectives.Count} objectives."), nameof(options));
        _encoding = encoding;
        _evaluator = evaluator;
        _objectives = [.. objectives];
        if (_options.Surrogate is not null)
        {
            var missing = new List<string>();
            if (encoding is not ICandidateFeatures<T>) missing.Add($"the encoding ({encoding.GetType().Name}) does not implement ICandidateFeatures (the surrogate's inputs)");
            if (evaluator is not ICheapMetricsEvaluator<T>) missing.Add($"the evaluator ({evaluator.GetType().Name}) does not implement ICheapMetricsEvaluator (the exact objectives after the first)");
            if (missing.Count > 0)
                throw new ArgumentException($"{nameof(ParetoSearchOptions.Surrogate)} is set but {string.Join(" and ", missing)}.", nameof(options));
            _proposal = new SurrogateProposal<T>(encoding, (ICandidateFeatures<T>)encoding, (ICheapMetricsEvaluator<T>)evaluator, _objectives, _options);
        }
    }

    /// <summary>The options (a copy).</summary>
    public ParetoSearchOptions Options => _options.Clone();

    /// <summary>
    /// Runs the search, or continues the one saved in <see cref="ParetoSearchOptions.CheckpointDirectory"/> when a checkpoint is
    /// there and <see cref="ParetoSearchOptions.ResumeFromCheckpoint"/> is set. A resumed search must match the checkpoint's seed,
    /// design-of-experiments size, K, population size, crossover probability, surrogate, metric and objective names; the budget,
    /// iteration limit and patience may differ (e.g. to extend a finished search).
    /// </summary>
    /// <param name="progress">Told after the design of experiments and after every iteration (synchronously, on the search's thread, when it is not a <see cref="Progress{T}"/>).</param>
    /// <param name="cancellationToken">Checked before every evaluation; cancelling throws <see cref="OperationCanceledException"/> and leaves the last checkpoint in place.</param>
    /// <exception cref="InvalidOperationException">The checkpoint belongs to a different search.</exception>
    /// <exception cref="InvalidDataException">The checkpoint is not a readable Pareto search checkpoint.</exception>
    public ParetoSearchResult<T> Run(IProgress<ParetoSearchProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (_options.ResumeFromCheckpoint && _options.CheckpointFile is { } path && File.Exists(path))
            return Resume(path, progress, cancellationToken);
        var state = new State();
        var random = IterationRandom(_options.Seed, 0);
        int attempts = 0, maxAttempts = 100 * _options.InitialSamples + 1000;
        while (state.Archive.Count < _options.InitialSamples && attempts++ < maxAttempts)
        {
            var candidate = _encoding.Sample(random);
            string key = _encoding.Key(candidate);
            if (state.Keys.Contains(key)) continue;
            Evaluate(state, candidate, key, iteration: 0, cancellationToken);
        }
        if (state.Archive.Count < _options.InitialSamples) state.Exhausted = true;
        FinishIteration(state, progress);
        return Loop(state, progress, cancellationToken);
    }

    private ParetoSearchResult<T> Resume(string path, IProgress<ParetoSearchProgress>? progress, CancellationToken cancellationToken)
    {
        var checkpoint = ParetoSearchCheckpoint.Read(path);
        CheckCompatible(checkpoint, path);
        var state = new State
        {
            Iteration = checkpoint.Iteration,
            BestHypervolume = checkpoint.BestHypervolume,
            IterationsWithoutImprovement = checkpoint.IterationsWithoutImprovement,
            Exhausted = checkpoint.Exhausted,
        };
        state.HypervolumeHistory.AddRange(checkpoint.HypervolumeHistory);
        foreach (var entry in checkpoint.Archive)
        {
            T candidate;
            try
            {
                candidate = _encoding.FromKey(entry.Key);
            }
            catch (FormatException e)
            {
                throw new InvalidDataException($"Checkpoint '{path}' holds key '{entry.Key}', which the encoding cannot read: {e.Message}", e);
            }
            if (!state.Keys.Add(entry.Key))
                throw new InvalidDataException($"Checkpoint '{path}' holds key '{entry.Key}' twice.");
            state.Archive.Add(new Evaluated(candidate, entry.Key, entry.Metrics, entry.Iteration));
        }
        return Loop(state, progress, cancellationToken);
    }

    private ParetoSearchResult<T> Loop(State state, IProgress<ParetoSearchProgress>? progress, CancellationToken cancellationToken)
    {
        int budget = _options.EffectiveBudget;
        ParetoSearchStopReason reason;
        while (true)
        {
            if (state.Exhausted) { reason = ParetoSearchStopReason.SpaceExhausted; break; }
            if (state.Archive.Count >= budget) { reason = ParetoSearchStopReason.Budget; break; }
            if (state.Iteration >= _options.MaxIterations) { reason = ParetoSearchStopReason.MaxIterations; break; }
            if (state.IterationsWithoutImprovement >= _options.Patience) { reason = ParetoSearchStopReason.NoImprovement; break; }
            cancellationToken.ThrowIfCancellationRequested();

            int iteration = state.Iteration + 1;
            var random = IterationRandom(_options.Seed, iteration);
            var scores = Score(state.Archive);
            var (parents, rank, crowding) = SelectParents(state.Archive, scores);

            int wanted = Math.Min(_options.EvaluationsPerIteration, budget - state.Archive.Count);
            var batch = new List<(T Candidate, string Key)>(wanted);
            var batchKeys = new HashSet<string>(StringComparer.Ordinal);
            bool IsNew(string key) => !state.Keys.Contains(key) && !batchKeys.Contains(key);
            // With a surrogate: the K best new members of an NSGA-II run on the predictions; the operators below top up a short list.
            if (_proposal is not null && wanted > 0)
            {
                foreach (var (candidate, key) in _proposal.Propose([.. state.Archive.Select(e => e.Candidate)], scores, parents, state.Keys.Contains, wanted, random))
                    if (batchKeys.Add(key)) batch.Add((candidate, key));
            }
            int attempts = 0, maxAttempts = 100 * wanted + 100;
            while (batch.Count < wanted && attempts++ < maxAttempts)
            {
                var first = state.Archive[parents[Nsga2.Tournament(rank, crowding, random)]].Candidate;
                var child = first;
                if (random.NextDouble() < _options.CrossoverProbability)
                {
                    var second = state.Archive[parents[Nsga2.Tournament(rank, crowding, random)]].Candidate;
                    child = _encoding.Crossover(first, second, random);
                }
                child = _encoding.Mutate(child, random);
                string key = _encoding.Key(child);
                if (IsNew(key) && batchKeys.Add(key)) batch.Add((child, key));
            }
            // The operators found too few new candidates (a small or converged space): top up with random ones.
            attempts = 0;
            while (batch.Count < wanted && attempts++ < maxAttempts)
            {
                var child = _encoding.Sample(random);
                string key = _encoding.Key(child);
                if (IsNew(key) && batchKeys.Add(key)) batch.Add((child, key));
            }
            if (batch.Count == 0)
            {
                state.Exhausted = true;
                continue;
            }
            foreach (var (candidate, key) in batch) Evaluate(state, candidate, key, iteration, cancellationToken);
            if (batch.Count < wanted) state.Exhausted = true;
            state.Iteration = iteration;
            FinishIteration(state, progress);
        }
        return BuildResult(state, reason);
    }

    /// <summary>
    /// The parent population and each parent's tournament rank and crowding distance. Penalty mode (CNAS): NSGA-II on the
    /// penalised objectives of the whole archive. Feasibility-first mode (Deb's constraint domination): NSGA-II on the feasible
    /// members, then infeasible members by increasing violation, ranked after every feasible front.
    /// </summary>
    private (int[] Parents, int[] Rank, double[] Crowding) SelectParents(IReadOnlyList<Evaluated> archive, double[][] scores)
    {
        int size = _options.PopulationSize;
        if (!_options.FeasibilityFirst)
        {
            var chosen = Nsga2.EnvironmentalSelection(scores, size);
            var (r, c) = Nsga2.RankAndCrowding(chosen.Select(i => (IReadOnlyList<double>)scores[i]).ToArray());
            return (chosen, r, c);
        }
        var violation = archive.Select(e => Violation(e.Metrics)).ToArray();
        var feasible = Enumerable.Range(0, archive.Count).Where(i => violation[i] <= 0).ToArray();
        var picked = Nsga2.EnvironmentalSelection(feasible.Select(i => (IReadOnlyList<double>)scores[i]).ToArray(), size)
            .Select(k => feasible[k]).ToList();
        var (rank, crowding) = Nsga2.RankAndCrowding(picked.Select(i => (IReadOnlyList<double>)scores[i]).ToArray());
        var ranks = new List<int>(rank);
        var crowdings = new List<double>(crowding);
        int next = rank.Length == 0 ? 0 : rank.Max() + 1;
        var infeasible = Enumerable.Range(0, archive.Count).Where(i => violation[i] > 0)
            .OrderBy(i => violation[i]).ThenBy(i => i).Take(size - picked.Count);
        foreach (int i in infeasible)
        {
            picked.Add(i);
            ranks.Add(next++);
            crowdings.Add(0);
        }
        return ([.. picked], [.. ranks], [.. crowdings]);
    }

    private void Evaluate(State state, T candidate, string key, int iteration, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var metrics = _evaluator.Evaluate(candidate, cancellationToken);
        if (metrics is null || metrics.Count != _evaluator.MetricNames.Count)
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"The evaluator returned {metrics?.Count ?? 0} metric(s) for '{key}' but names {_evaluator.MetricNames.Count}."));
        for (int i = 0; i < metrics.Count; i++)
        {
            if (double.IsNaN(metrics[i]))
                throw new InvalidOperationException($"The evaluator returned NaN for metric '{_evaluator.MetricNames[i]}' of '{key}'.");
        }
        state.Keys.Add(key);
        state.Archive.Add(new Evaluated(candidate, key, [.. metrics], iteration));
    }

    /// <summary>Prepares the objectives with the archive and scores every member.</summary>
    private double[][] Score(IReadOnlyList<Evaluated> archive)
    {
        var population = archive.Select(e => (IReadOnlyList<double>)e.Metrics).ToArray();
        foreach (var objective in _objectives) objective.Prepare(population);
        var scores = new double[archive.Count][];
        for (int i = 0; i < scores.Length; i++)
        {
            scores[i] = new double[_objectives.Length];
            for (int m = 0; m < _objectives.Length; m++) scores[i][m] = _objectives[m].Value(archive[i].Metrics);
        }
        return scores;
    }

    private double Violation(double[] metrics)
    {
        double sum = 0;
        foreach (var objective in _objectives) sum += objective.Violation(metrics);
        return sum;
    }

    /// <summary>The indices of the reported front (feasible non-dominated, or all non-dominated when none is feasible) and of the feasible members.</summary>
    private (int[] Front, int[] Feasible) Front(IReadOnlyList<Evaluated> archive, double[][] scores)
    {
        var feasible = Enumerable.Range(0, archive.Count).Where(i => Violation(archive[i].Metrics) <= 0).ToArray();
        var pool = feasible.Length > 0 ? feasible : Enumerable.Range(0, archive.Count).ToArray();
        var first = Pareto.NonDominatedSort(pool.Select(i => (IReadOnlyList<double>)scores[i]).ToArray());
        var front = first.Count == 0 ? [] : first[0].Select(k => pool[k]).ToArray();
        return (front, feasible);
    }

    private void FinishIteration(State state, IProgress<ParetoSearchProgress>? progress)
    {
        var scores = Score(state.Archive);
        var (front, feasible) = Front(state.Archive, scores);
        double hv = Pareto.Hypervolume(feasible.Select(i => (IReadOnlyList<double>)scores[i]).ToArray(), _reference);
        state.HypervolumeHistory.Add(hv);
        if (state.HypervolumeHistory.Count == 1 || hv > state.BestHypervolume)
        {
            state.BestHypervolume = hv;
            state.IterationsWithoutImprovement = 0;
        }
        else
        {
            state.IterationsWithoutImprovement++;
        }
        if (_options.CheckpointFile is { } path) WriteCheckpoint(state, path);
        progress?.Report(new ParetoSearchProgress(state.Iteration, state.Archive.Count, hv, front.Length, feasible.Length));
    }

    private ParetoSearchResult<T> BuildResult(State state, ParetoSearchStopReason reason)
    {
        var scores = Score(state.Archive);
        var (front, _) = Front(state.Archive, scores);
        var entries = state.Archive.Select((e, i) =>
            new ParetoArchiveEntry<T>(e.Candidate, e.Key, Array.AsReadOnly(e.Metrics), Array.AsReadOnly(scores[i]), Violation(e.Metrics), e.Iteration)).ToArray();
        return new ParetoSearchResult<T>
        {
            Archive = entries,
            Front = front.Order().Select(i => entries[i]).ToArray(),
            HypervolumeHistory = state.HypervolumeHistory.ToArray(),
            Iterations = state.Iteration,
            StopReason = reason,
        };
    }

    private void WriteCheckpoint(State state, string path)
    {
        var checkpoint = new ParetoSearchCheckpoint
        {
            Format = CheckpointFormat,
            Seed = _options.Seed,
            InitialSamples = _options.InitialSamples,
            EvaluationsPerIteration = _options.EvaluationsPerIteration,
            PopulationSize = _options.PopulationSize,
            CrossoverProbability = _options.CrossoverProbability,
            Surrogate = _options.Surrogate?.Name,
            SurrogateGenerations = _options.Surrogate is null ? null : _options.SurrogateGenerations,
            MetricNames = [.. _evaluator.MetricNames],
            ObjectiveNames = [.. _objectives.Select(o => o.Name)],
            Iteration = state.Iteration,
            BestHypervolume = state.BestHypervolume,
            IterationsWithoutImprovement = state.IterationsWithoutImprovement,
            Exhausted = state.Exhausted,
            HypervolumeHistory = [.. state.HypervolumeHistory],
            Archive = [.. state.Archive.Select(e => new ParetoSearchCheckpoint.Entry { Key = e.Key, Iteration = e.Iteration, Metrics = e.Metrics })],
        };
        checkpoint.Write(path);
    }

    private void CheckCompatible(ParetoSearchCheckpoint c, string path)
    {
        var problems = new List<string>();
        void Same<TValue>(string field, TValue saved, TValue current)
        {
            if (!EqualityComparer<TValue>.Default.Equals(saved, current))
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"{field} is {current} but the checkpoint has {saved}"));
        }
        if (c.Format != CheckpointFormat) problems.Add($"format is '{c.Format}', expected '{CheckpointFormat}'");
        Same(nameof(ParetoSearchOptions.Seed), c.Seed, _options.Seed);
        Same(nameof(ParetoSearchOptions.InitialSamples), c.InitialSamples, _options.InitialSamples);
        Same(nameof(ParetoSearchOptions.EvaluationsPerIteration), c.EvaluationsPerIteration, _options.EvaluationsPerIteration);
        Same(nameof(ParetoSearchOptions.PopulationSize), c.PopulationSize, _options.PopulationSize);
        Same(nameof(ParetoSearchOptions.CrossoverProbability), c.CrossoverProbability, _options.CrossoverProbability);
        Same(nameof(ParetoSearchOptions.Surrogate), c.Surrogate ?? "none", _options.Surrogate?.Name ?? "none");
        if (_options.Surrogate is not null) Same(nameof(ParetoSearchOptions.SurrogateGenerations), c.SurrogateGenerations, _options.SurrogateGenerations);
        Same("metric names", string.Join(", ", c.MetricNames), string.Join(", ", _evaluator.MetricNames));
        Same("objective names", string.Join(", ", c.ObjectiveNames), string.Join(", ", _objectives.Select(o => o.Name)));
        if (c.Archive.Any(e => e.Metrics.Length != _evaluator.MetricNames.Count))
            problems.Add("an archived candidate has a different number of metrics");
        if (problems.Count > 0)
            throw new InvalidOperationException($"Checkpoint '{path}' belongs to a different search: {string.Join("; ", problems)}. Use another {nameof(ParetoSearchOptions.CheckpointDirectory)}, or set {nameof(ParetoSearchOptions.ResumeFromCheckpoint)} = false to start over.");
    }

    /// <summary>A generator for one iteration, seeded by (seed, iteration) through a SplitMix64 finaliser.</summary>
    internal static Random IterationRandom(int seed, int iteration)
    {
        unchecked
        {
            ulong z = (ulong)(uint)seed * 0x9E3779B97F4A7C15UL + (ulong)(uint)iteration * 0xD1B54A32D192ED03UL + 0x632BE59BD9B4E019UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            return new Random((int)(z & 0x7FFF_FFFF));
        }
    }

    private sealed record Evaluated(T Candidate, string Key, double[] Metrics, int Iteration);

    private sealed class State
    {
        public List<Evaluated> Archive { get; } = [];
        public HashSet<string> Keys { get; } = new(StringComparer.Ordinal);
        public List<double> HypervolumeHistory { get; } = [];
        public double BestHypervolume { get; set; }
        public int IterationsWithoutImprovement { get; set; }
        public int Iteration { get; set; }
        public bool Exhausted { get; set; }
    }
}
