using System.Globalization;
using NasFlatness.Genotypes;

namespace NasFlatness.MultiObjective.Nachos;

/// <summary>A NACHOS candidate on NAS-Bench-201: the cell and one bit per exit slot (true = an early exit there).</summary>
public sealed class NachosCandidate : IEquatable<NachosCandidate>
{
    private readonly bool[] _exits;

    /// <summary>Creates the candidate.</summary>
    /// <param name="genotype">The cell.</param>
    /// <param name="exits">One bit per exit slot of the search.</param>
    public NachosCandidate(Nb201Genotype genotype, IReadOnlyList<bool> exits)
    {
        ArgumentNullException.ThrowIfNull(genotype);
        ArgumentNullException.ThrowIfNull(exits);
        Genotype = genotype;
        _exits = [.. exits];
    }

    /// <summary>The cell.</summary>
    public Nb201Genotype Genotype { get; }

    /// <summary>One bit per exit slot.</summary>
    public IReadOnlyList<bool> Exits => _exits;

    /// <summary>Number of early exits placed.</summary>
    public int EarlyExitCount => _exits.Count(b => b);

    /// <summary>The exit placement for a network with <paramref name="cellsPerStage"/> cells per stage and the search's <paramref name="slots"/>.</summary>
    public Nb201ExitPlacement Placement(int cellsPerStage, IReadOnlyList<int> slots) => Nb201ExitPlacement.FromBits(cellsPerStage, slots, _exits);

    /// <inheritdoc />
    public bool Equals(NachosCandidate? other) => other is not null && other.Genotype.Equals(Genotype) && other._exits.AsSpan().SequenceEqual(_exits);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as NachosCandidate);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Genotype.Code, new string(_exits.Select(b => b ? '1' : '0').ToArray()));

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Genotype} exits [{new string(_exits.Select(b => b ? '1' : '0').ToArray())}]");
}

/// <summary>
/// The NACHOS encoding over NAS-Bench-201: the six operation digits and one bit per exit slot. Sampling is uniform; crossover is
/// uniform per gene; mutation resamples each gene (edge or bit) with probability 1/(6 + slots), changing at least one. With
/// <see cref="RequireExit"/> a candidate without an exit gets one at a uniformly drawn slot. Keys look like <c>333132-01</c>.
/// </summary>
public sealed class NachosCandidateEncoding : ICandidateEncoding<NachosCandidate>
{
    private readonly Nb201CandidateEncoding _cells = new();

    /// <summary>Creates the encoding.</summary>
    /// <param name="slotCount">Exit slots (bits); at least 1.</param>
    /// <param name="requireExit">Whether every candidate must have at least one early exit (default true).</param>
    public NachosCandidateEncoding(int slotCount, bool requireExit = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slotCount, 1);
        SlotCount = slotCount;
        RequireExit = requireExit;
    }

    /// <summary>Exit slots (bits per candidate).</summary>
    public int SlotCount { get; }

    /// <summary>Whether every candidate has at least one early exit.</summary>
    public bool RequireExit { get; }

    /// <inheritdoc />
    public NachosCandidate Sample(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var genotype = _cells.Sample(random);
        var bits = new bool[SlotCount];
        for (int i = 0; i < bits.Length; i++) bits[i] = random.Next(2) == 1;
        return Repair(genotype, bits, random);
    }

    /// <inheritdoc />
    public NachosCandidate Crossover(NachosCandidate first, NachosCandidate second, Random random)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        ArgumentNullException.ThrowIfNull(random);
        var genotype = _cells.Crossover(first.Genotype, second.Genotype, random);
        var bits = new bool[SlotCount];
        for (int i = 0; i < bits.Length; i++) bits[i] = random.Next(2) == 0 ? first.Exits[i] : second.Exits[i];
        return Repair(genotype, bits, random);
    }

    /// <inheritdoc />
    public NachosCandidate Mutate(NachosCandidate candidate, Random random)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(random);
        int genes = Nb201Genotype.EdgeCount + SlotCount;
        double p = 1.0 / genes;
        var ops = candidate.Genotype.Operations.ToArray();
        var bits = candidate.Exits.ToArray();
        bool changed = false;
        for (int g = 0; g < genes; g++)
        {
            if (random.NextDouble() < p)
            {
                Flip(g);
                changed = true;
            }
        }
        if (!changed) Flip(random.Next(genes));
        if (RequireExit && !bits.Any(b => b))
        {
            // The last exit was removed: move it (one slot: keep it, change an edge) so the mutant still differs from its parent.
            var others = Enumerable.Range(0, SlotCount).Where(s => !candidate.Exits[s]).ToArray();
            if (others.Length > 0)
            {
                bits[others[random.Next(others.Length)]] = true;
            }
            else
            {
                bits = [.. candidate.Exits];
                if (ops.AsSpan().SequenceEqual(candidate.Genotype.Operations.ToArray())) Flip(random.Next(Nb201Genotype.EdgeCount));
            }
        }
        return Repair(new Nb201Genotype(ops), bits, random);

        void Flip(int gene)
        {
            if (gene < Nb201Genotype.EdgeCount)
            {
                int other = random.Next(Nb201Genotype.OperationCount - 1);
                ops[gene] = other >= ops[gene] ? other + 1 : other;
            }
            else
            {
                bits[gene - Nb201Genotype.EdgeCount] = !bits[gene - Nb201Genotype.EdgeCount];
            }
        }
    }

    /// <inheritdoc />
    public string Key(NachosCandidate candidate)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        if (candidate.Exits.Count != SlotCount)
            throw new ArgumentException($"The candidate has {candidate.Exits.Count} exit bits but the encoding {SlotCount}.", nameof(candidate));
        return _cells.Key(candidate.Genotype) + "-" + new string(candidate.Exits.Select(b => b ? '1' : '0').ToArray());
    }

    /// <inheritdoc />
    public NachosCandidate FromKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        int dash = key.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0 || key.Length - dash - 1 != SlotCount || key[(dash + 1)..].Any(ch => ch is not ('0' or '1')))
            throw new FormatException($"'{key}' is not a NACHOS key: expected six operation digits, '-', and {SlotCount} exit bits (e.g. 333132-{new string('1', SlotCount)}).");
        var bits = key[(dash + 1)..].Select(ch => ch == '1').ToArray();
        if (RequireExit && !bits.Any(b => b)) throw new FormatException($"'{key}' has no early exit, which this encoding forbids.");
        return new NachosCandidate(_cells.FromKey(key[..dash]), bits);
    }

    private NachosCandidate Repair(Nb201Genotype genotype, bool[] bits, Random random)
    {
        if (RequireExit && !bits.Any(b => b)) bits[random.Next(bits.Length)] = true;
        return new NachosCandidate(genotype, bits);
    }
}
