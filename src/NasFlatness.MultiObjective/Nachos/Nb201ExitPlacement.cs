using System.Globalization;

namespace NasFlatness.MultiObjective.Nachos;

/// <summary>
/// Where the early exits of an NB201 network sit: after which cells (global cell index 0 … 3N − 1, stage-major; an exit after the
/// last cell of a stage sits before the reduction block). The final exit, after the last cell, is always there and is not listed.
/// </summary>
public sealed class Nb201ExitPlacement : IEquatable<Nb201ExitPlacement>
{
    private readonly int[] _cells;

    /// <summary>Creates a placement.</summary>
    /// <param name="cellsPerStage">N of the network.</param>
    /// <param name="cells">Cells followed by an early exit; each in 0 … 3N − 2, distinct (order does not matter).</param>
    /// <exception cref="ArgumentException">A cell is out of range or repeated.</exception>
    public Nb201ExitPlacement(int cellsPerStage, IEnumerable<int> cells)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(cellsPerStage, 1);
        ArgumentNullException.ThrowIfNull(cells);
        var sorted = cells.Order().ToArray();
        int lastAllowed = 3 * cellsPerStage - 2;
        if (sorted.Any(c => c < 0 || c > lastAllowed))
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Exit cells must be in 0..{lastAllowed} for N = {cellsPerStage} (the last cell carries the final exit); got [{string.Join(", ", sorted)}]."), nameof(cells));
        if (sorted.Distinct().Count() != sorted.Length)
            throw new ArgumentException($"Exit cells must be distinct; got [{string.Join(", ", sorted)}].", nameof(cells));
        CellsPerStage = cellsPerStage;
        _cells = sorted;
    }

    /// <summary>N of the network.</summary>
    public int CellsPerStage { get; }

    /// <summary>The cells followed by an early exit, ascending.</summary>
    public IReadOnlyList<int> Cells => _cells;

    /// <summary>Number of exits including the final one.</summary>
    public int ExitCount => _cells.Length + 1;

    /// <summary>Exits after the last cell of stage 1 and/or stage 2 (the NACHOS spec's NB201 proxy uses both).</summary>
    public static Nb201ExitPlacement AfterStages(int cellsPerStage, bool afterStage1 = true, bool afterStage2 = true)
    {
        var cells = new List<int>();
        if (afterStage1) cells.Add(cellsPerStage - 1);
        if (afterStage2) cells.Add(2 * cellsPerStage - 1);
        return new Nb201ExitPlacement(cellsPerStage, cells);
    }

    /// <summary>The candidate exit slots of a search: after each stage's last cell (2 slots), or after every cell but the last (3N − 1 slots).</summary>
    public static IReadOnlyList<int> Slots(int cellsPerStage, bool afterEveryCell) => afterEveryCell
        ? Enumerable.Range(0, 3 * cellsPerStage - 1).ToArray()
        : [cellsPerStage - 1, 2 * cellsPerStage - 1];

    /// <summary>The placement with an exit at the slots whose bit is set.</summary>
    public static Nb201ExitPlacement FromBits(int cellsPerStage, IReadOnlyList<int> slots, IReadOnlyList<bool> bits)
    {
        ArgumentNullException.ThrowIfNull(slots);
        ArgumentNullException.ThrowIfNull(bits);
        if (slots.Count != bits.Count) throw new ArgumentException($"{slots.Count} slots but {bits.Count} bits.", nameof(bits));
        return new Nb201ExitPlacement(cellsPerStage, slots.Where((_, i) => bits[i]));
    }

    /// <summary>The stage (0, 1, 2) of cell <paramref name="cell"/>.</summary>
    public int StageOf(int cell) => cell / CellsPerStage;

    /// <inheritdoc />
    public bool Equals(Nb201ExitPlacement? other) => other is not null && other.CellsPerStage == CellsPerStage && other._cells.AsSpan().SequenceEqual(_cells);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as Nb201ExitPlacement);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(CellsPerStage, string.Join(",", _cells));

    /// <inheritdoc />
    public override string ToString() => $"exits after cells [{string.Join(", ", _cells)}] (N = {CellsPerStage})";
}
