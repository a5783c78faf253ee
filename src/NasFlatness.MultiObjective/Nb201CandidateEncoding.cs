using System.Globalization;
using NasFlatness.Genotypes;

namespace NasFlatness.MultiObjective;

/// <summary>
/// The NAS-Bench-201 cell as six integers (the operation index 0..4 of each edge, in edge order): uniform sampling,
/// uniform per-edge crossover, and per-edge resampling mutation. The key is the six digits, e.g. <c>333132</c>.
/// </summary>
public sealed class Nb201CandidateEncoding : ICandidateEncoding<Nb201Genotype>, ICandidateFeatures<Nb201Genotype>
{
    /// <summary>Creates the encoding.</summary>
    /// <param name="mutationProbability">Probability that each edge gets a different, uniformly drawn operation when
    /// mutated (default 1/6: one edge on average). A mutation always changes at least one edge.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="mutationProbability"/> is outside [0, 1].</exception>
    public Nb201CandidateEncoding(double mutationProbability = 1.0 / Nb201Genotype.EdgeCount)
    {
        if (!(mutationProbability is >= 0 and <= 1))
            throw new ArgumentOutOfRangeException(nameof(mutationProbability), mutationProbability, "The mutation probability must be in [0, 1].");
        MutationProbability = mutationProbability;
    }

    /// <summary>Probability that each edge is changed by <see cref="Mutate"/>.</summary>
    public double MutationProbability { get; }

    /// <inheritdoc />
    public Nb201Genotype Sample(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var ops = new int[Nb201Genotype.EdgeCount];
        for (int e = 0; e < ops.Length; e++) ops[e] = random.Next(Nb201Genotype.OperationCount);
        return new Nb201Genotype(ops);
    }

    /// <summary>Uniform crossover: each edge's operation comes from either parent with probability ½.</summary>
    public Nb201Genotype Crossover(Nb201Genotype first, Nb201Genotype second, Random random)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        ArgumentNullException.ThrowIfNull(random);
        var ops = new int[Nb201Genotype.EdgeCount];
        for (int e = 0; e < ops.Length; e++) ops[e] = random.Next(2) == 0 ? first.Operations[e] : second.Operations[e];
        return new Nb201Genotype(ops);
    }

    /// <summary>Each edge, with probability <see cref="MutationProbability"/>, gets another operation drawn uniformly
    /// from the other four; when no edge was chosen, one uniformly drawn edge is changed.</summary>
    public Nb201Genotype Mutate(Nb201Genotype candidate, Random random)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(random);
        var ops = candidate.Operations.ToArray();
        bool changed = false;
        for (int e = 0; e < ops.Length; e++)
        {
            if (random.NextDouble() < MutationProbability)
            {
                ops[e] = OtherOperation(ops[e], random);
                changed = true;
            }
        }
        if (!changed)
        {
            int e = random.Next(ops.Length);
            ops[e] = OtherOperation(ops[e], random);
        }
        return new Nb201Genotype(ops);
    }

    /// <summary>The one-hot operation of every edge: 6 × 5 = 30 values, feature 5·e + o is 1 when edge e has operation o (the surrogate's input).</summary>
    public IReadOnlyList<double> Features(Nb201Genotype candidate)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        var features = new double[Nb201Genotype.EdgeCount * Nb201Genotype.OperationCount];
        for (int e = 0; e < Nb201Genotype.EdgeCount; e++) features[e * Nb201Genotype.OperationCount + candidate.Operations[e]] = 1;
        return features;
    }

    /// <summary>The six operation digits, edge 0 first (e.g. <c>333132</c>).</summary>
    public string Key(Nb201Genotype candidate)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        return string.Create(Nb201Genotype.EdgeCount, candidate, static (span, g) =>
        {
            for (int e = 0; e < span.Length; e++) span[e] = (char)('0' + g.Operations[e]);
        });
    }

    /// <inheritdoc />
    public Nb201Genotype FromKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length != Nb201Genotype.EdgeCount || key.Any(ch => ch is < '0' or > '4'))
            throw new FormatException(string.Create(CultureInfo.InvariantCulture,
                $"'{key}' is not a NAS-Bench-201 key: expected {Nb201Genotype.EdgeCount} digits 0..4 (one operation per edge)."));
        return new Nb201Genotype(key.Select(ch => ch - '0').ToArray());
    }

    private static int OtherOperation(int current, Random random)
    {
        int other = random.Next(Nb201Genotype.OperationCount - 1);
        return other >= current ? other + 1 : other;
    }
}
