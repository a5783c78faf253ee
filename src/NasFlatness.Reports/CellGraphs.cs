using System.Globalization;
using NasFlatness.Genotypes;

namespace NasFlatness.Reports;

/// <summary>
/// Turns a genotype into the graphs of its cells (<see cref="CellGraph"/>): a genotype that implements
/// <see cref="ICellGraphSource"/> describes itself; the built-in NAS-Bench-201, DARTS and ZO-DARTS++ genotypes are converted here.
/// </summary>
public static class CellGraphs
{
    /// <summary>The cells of <paramref name="genotype"/> as graphs, in drawing order.</summary>
    /// <exception cref="ArgumentException">The genotype is of a space this package does not know and does not implement <see cref="ICellGraphSource"/>.</exception>
    public static IReadOnlyList<CellGraph> From(Genotype genotype)
    {
        ArgumentNullException.ThrowIfNull(genotype);
        return genotype switch
        {
            ICellGraphSource source => source.ToCellGraphs(),
            Nb201Genotype nb201 => [Nb201(nb201)],
            DartsGenotype darts => [Darts(darts, reduction: false), Darts(darts, reduction: true)],
            ZoDartsPlusPlusGenotype varied => [.. Enumerable.Range(0, ZoDartsPlusPlusGenotype.StageCount).Select(s => VariedStage(varied, s))],
            _ => throw new ArgumentException(
                $"A genotype of the space '{genotype.SpaceName}' ({genotype.GetType().Name}) cannot be drawn: implement {nameof(ICellGraphSource)} on it to describe its cells as graphs.", nameof(genotype)),
        };
    }

    /// <summary>
    /// Parses a genotype's text in <paramref name="space"/> (<c>nas-bench-201</c>, <c>darts</c>, <c>nas-bench-201-varied</c>, or any
    /// space registered with <see cref="GenotypeFormats"/>); without a space, the built-in format is recognised from the text
    /// (<c>|op~0|+…</c>, <c>Genotype(…)</c> or a published DARTS name such as <c>DARTS_V2</c>, <c>cells=N |…| / …</c>).
    /// </summary>
    /// <exception cref="GenotypeFormatException">The text is not a genotype of the space.</exception>
    /// <exception cref="ArgumentException">The space is unknown, or no built-in format matches the text.</exception>
    public static Genotype ParseGenotype(string text, string? space = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = text.Trim();
        space ??= text.StartsWith('|') ? Nb201Genotype.Space
            : text.StartsWith("cells=", StringComparison.Ordinal) ? ZoDartsPlusPlusGenotype.Space
            : text.StartsWith("Genotype", StringComparison.Ordinal) || DartsGenotype.Published.ContainsKey(text) ? DartsGenotype.Space
            : throw new ArgumentException(
                $"'{(text.Length <= 80 ? text : text[..80] + "…")}' is neither a NAS-Bench-201 arch string (|op~0|+…), a DARTS Genotype(...) or published name ({string.Join(", ", DartsGenotype.Published.Keys)}) nor a nas-bench-201-varied genotype (cells=N |…| / …); name its space.", nameof(text));
        return space switch
        {
            Nb201Genotype.Space => Nb201Genotype.Parse(text),
            DartsGenotype.Space => DartsGenotype.Published.ContainsKey(text) ? DartsGenotype.FromName(text) : DartsGenotype.Parse(text),
            ZoDartsPlusPlusGenotype.Space => ZoDartsPlusPlusGenotype.Parse(text),
            _ when GenotypeFormats.IsRegistered(space) => GenotypeFormats.Parse(space, text),
            _ => throw new ArgumentException(
                $"The space '{space}' is unknown: expected {Nb201Genotype.Space}, {DartsGenotype.Space}, {ZoDartsPlusPlusGenotype.Space} or a space registered with GenotypeFormats.Register.", nameof(space)),
        };
    }

    /// <summary>The NAS-Bench-201 cell: nodes 0 (input) … 3 (output), one operation on each of the six edges <c>j ← i</c>.</summary>
    public static CellGraph Nb201(Nb201Genotype genotype, string name = "cell")
    {
        ArgumentNullException.ThrowIfNull(genotype);
        return Nb201Like(name, genotype.OperationNamesPerEdge);
    }

    private static CellGraph Nb201Like(string name, IReadOnlyList<string> operations)
    {
        var nodes = Enumerable.Range(0, Nb201Genotype.NodeCount).Select(i => new CellNode(
            i.ToString(CultureInfo.InvariantCulture), i.ToString(CultureInfo.InvariantCulture),
            i == 0 ? CellNodeKind.Input : i == Nb201Genotype.NodeCount - 1 ? CellNodeKind.Output : CellNodeKind.Intermediate)).ToArray();
        var edges = Nb201Genotype.Edges.Select((e, k) => new CellEdge(
            e.From.ToString(CultureInfo.InvariantCulture), e.To.ToString(CultureInfo.InvariantCulture), operations[k])).ToArray();
        return new CellGraph(name, nodes, edges);
    }

    /// <summary>The name of the DARTS input node <paramref name="input"/> (0 = c_{k-2}, 1 = c_{k-1}, i ≥ 2 = intermediate node i − 2).</summary>
    public static string DartsNodeId(int input) => input switch
    {
        0 => "c_{k-2}",
        1 => "c_{k-1}",
        _ => (input - 2).ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>The DARTS output node's id.</summary>
    public const string DartsOutputId = "c_{k}";

    /// <summary>
    /// A DARTS cell: inputs c_{k-2} and c_{k-1}, intermediate nodes 0 … 3 with two operation edges each, and the output c_{k}
    /// (the concatenation of the nodes in the cell's concat list, drawn as unlabelled edges).
    /// </summary>
    public static CellGraph Darts(DartsGenotype genotype, bool reduction)
    {
        ArgumentNullException.ThrowIfNull(genotype);
        var cell = genotype.Cell(reduction);
        var concat = reduction ? genotype.ReduceConcat : genotype.NormalConcat;
        int intermediate = cell.Count / 2;
        var nodes = new List<CellNode> { new(DartsNodeId(0), DartsNodeId(0), CellNodeKind.Input), new(DartsNodeId(1), DartsNodeId(1), CellNodeKind.Input) };
        for (int n = 0; n < intermediate; n++) nodes.Add(new CellNode(DartsNodeId(n + 2), DartsNodeId(n + 2), CellNodeKind.Intermediate));
        nodes.Add(new CellNode(DartsOutputId, DartsOutputId, CellNodeKind.Output));
        var edges = new List<CellEdge>();
        for (int k = 0; k < cell.Count; k++) edges.Add(new CellEdge(DartsNodeId(cell[k].Input), DartsNodeId(k / 2 + 2), cell[k].Operation));
        foreach (int c in concat) edges.Add(new CellEdge(DartsNodeId(c), DartsOutputId, ""));
        return new CellGraph(reduction ? "reduction cell" : "normal cell", nodes, edges);
    }

    /// <summary>Stage <paramref name="stage"/> (0-based) of a ZO-DARTS++ genotype: its NB201-shaped cell with the chosen kernels, named with the kept depth.</summary>
    public static CellGraph VariedStage(ZoDartsPlusPlusGenotype genotype, int stage)
    {
        ArgumentNullException.ThrowIfNull(genotype);
        ArgumentOutOfRangeException.ThrowIfNegative(stage);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(stage, ZoDartsPlusPlusGenotype.StageCount);
        var operations = Enumerable.Range(0, ZoDartsPlusPlusGenotype.EdgeCount).Select(e =>
        {
            int i = stage * ZoDartsPlusPlusGenotype.EdgeCount + e;
            int op = genotype.Operations[i];
            return op == ZoDartsPlusPlusGenotype.KernelVariable
                ? string.Create(CultureInfo.InvariantCulture, $"nor_conv_{genotype.Kernels[i]}x{genotype.Kernels[i]}")
                : ZoDartsPlusPlusGenotype.OperationNames[op];
        }).ToArray();
        int cells = genotype.CellsPerStage[stage];
        return Nb201Like(string.Create(CultureInfo.InvariantCulture, $"stage {stage + 1}: {cells} cell{(cells == 1 ? "" : "s")}"), operations);
    }
}
