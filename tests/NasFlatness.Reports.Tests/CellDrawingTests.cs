using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using NasFlatness.Genotypes;
using NasFlatness.MultiObjective.Nachos;
using Xunit;

namespace NasFlatness.Reports.Tests;

public sealed partial class CellDrawingTests
{
    private const string Nb201Cell = "|nor_conv_3x3~0|+|skip_connect~0|skip_connect~1|+|none~0|skip_connect~1|nor_conv_1x1~2|";

    /// <summary>The edges of an NB201 arch string read straight from the text: (from, to, op) for every 'op~from' in node group 'to'.</summary>
    private static List<(string From, string To, string Op)> Nb201EdgesOfText(string text) =>
        [.. text.Split('+').SelectMany((group, i) => group.Split('|', StringSplitOptions.RemoveEmptyEntries)
            .Select(item => item.Split('~')).Select(p => (p[1], (i + 1).ToString(CultureInfo.InvariantCulture), p[0])))];

    [GeneratedRegex(@"\('(?<op>[a-z_0-9]+)',\s*(?<input>\d+)\)")]
    private static partial Regex DartsEdgeText();

    [Theory]
    [InlineData(Nb201Cell)]
    [InlineData("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")]
    [InlineData("|avg_pool_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|avg_pool_3x3~1|nor_conv_3x3~2|")]
    public void An_nb201_drawing_has_the_four_nodes_and_every_edge_of_the_arch_string_with_its_operation(string text)
    {
        var cell = Assert.Single(SvgCells.Read(CellDrawing.Svg(Nb201Genotype.Parse(text))));
        Assert.Equal(["0", "1", "2", "3"], cell.Nodes);
        var expected = Nb201EdgesOfText(text);
        Assert.Equal(expected.OrderBy(e => e).ToList(), cell.Edges.Select(e => (e.From, e.To, e.Operation)).OrderBy(e => e).ToList());
        // Every edge but 'none' carries its operation as a label; 'none' edges are drawn faint, unlabelled.
        Assert.All(cell.Edges, e => Assert.Equal(e.Operation != "none", e.Labelled));
        Assert.Equal(expected.Count(e => e.Op != "none"), cell.Edges.Count(e => e.Labelled));
    }

    [Theory]
    [InlineData("DARTS_V2")]
    [InlineData("PC_DARTS")]
    [InlineData("Genotype(normal=[('sep_conv_3x3', 1), ('skip_connect', 0), ('dil_conv_5x5', 2), ('max_pool_3x3', 1), ('sep_conv_5x5', 3), ('avg_pool_3x3', 0), ('none', 4), ('skip_connect', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('skip_connect', 2), ('dil_conv_3x3', 3), ('skip_connect', 2), ('avg_pool_3x3', 0)], reduce_concat=[4, 5])")]
    public void A_darts_drawing_has_both_cells_with_inputs_nodes_output_and_the_genotype_edges(string text)
    {
        var genotype = DartsGenotype.Published.ContainsKey(text) ? DartsGenotype.FromName(text) : DartsGenotype.Parse(text);
        var full = genotype.ToString();
        var cells = SvgCells.Read(CellDrawing.Svg(genotype));
        Assert.Equal(["normal cell", "reduction cell"], cells.Select(c => c.Name).ToArray());
        // Independent reading of the text: the k-th ('op', input) of a cell feeds intermediate node k / 2; input 0 = c_{k-2}, 1 = c_{k-1}, i = node i − 2.
        string[] parts = [full[..full.IndexOf("reduce=", StringComparison.Ordinal)], full[full.IndexOf("reduce=", StringComparison.Ordinal)..]];
        for (int c = 0; c < 2; c++)
        {
            var matches = DartsEdgeText().Matches(parts[c]).ToList();
            Assert.Equal(8, matches.Count);
            string Node(int input) => input == 0 ? "c_{k-2}" : input == 1 ? "c_{k-1}" : (input - 2).ToString(CultureInfo.InvariantCulture);
            var expected = matches.Select((m, k) => (Node(int.Parse(m.Groups["input"].Value, CultureInfo.InvariantCulture)), (k / 2).ToString(CultureInfo.InvariantCulture), m.Groups["op"].Value)).OrderBy(e => e).ToList();
            Assert.Equal(expected, cells[c].Edges.Select(e => (e.From, e.To, e.Operation)).OrderBy(e => e).ToList());
            Assert.Equal(["c_{k-2}", "c_{k-1}", "0", "1", "2", "3", "c_{k}"], cells[c].Nodes);
            Assert.Equal(expected.Count(e => e.Item3 != "none"), cells[c].Edges.Count(e => e.Labelled));
            // The output concatenates exactly the nodes of the concat list.
            // The text writes the list as [a, b, …] or, when contiguous, as range(a, b).
            var list = Regex.Match(parts[c], @"_concat=\[(?<list>[^\]]*)\]");
            var range = Regex.Match(parts[c], @"_concat=range\((?<a>\d+), (?<b>\d+)\)");
            var indices = list.Success
                ? list.Groups["list"].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture))
                : Enumerable.Range(int.Parse(range.Groups["a"].Value, CultureInfo.InvariantCulture), int.Parse(range.Groups["b"].Value, CultureInfo.InvariantCulture) - int.Parse(range.Groups["a"].Value, CultureInfo.InvariantCulture));
            Assert.True(list.Success || range.Success);
            var concat = indices.Select(Node).Order().ToList();
            Assert.Equal(concat, cells[c].Concat.Select(e => e.From).Order().ToList());
            Assert.All(cells[c].Concat, e => Assert.Equal("c_{k}", e.To));
        }
    }

    [Fact]
    public void A_varied_drawing_shows_three_stages_with_their_depth_kernels_and_the_network_row()
    {
        const string text = "cells=3 |nor_conv_7x7~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2| / cells=2 |nor_conv_5x5~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2| / cells=1 |nor_conv_1x1~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2|";
        var svg = CellDrawing.Svg(ZoDartsPlusPlusGenotype.Parse(text));
        var cells = SvgCells.Read(svg);
        Assert.Equal(["stage 1: 3 cells", "stage 2: 2 cells", "stage 3: 1 cell"], cells.Select(c => c.Name).ToArray());
        var stages = text.Split(" / ");
        for (int s = 0; s < 3; s++)
            Assert.Equal(Nb201EdgesOfText(stages[s][(stages[s].IndexOf(' ') + 1)..]).OrderBy(e => e).ToList(), cells[s].Edges.Select(e => (e.From, e.To, e.Operation)).OrderBy(e => e).ToList());
        var blocks = XDocument.Parse(svg).Descendants().Where(e => SvgCells.HasClass(e, "block-stage")).Select(e => (string)e.Attribute("data-block")!).ToArray();
        Assert.Equal(["stage 1 × 3", "stage 2 × 2", "stage 3 × 1"], blocks);
    }

    [Theory]
    [InlineData(1, new[] { 0 })]
    [InlineData(2, new[] { 1, 3 })]
    [InlineData(3, new[] { 0, 4, 7 })]
    public void An_early_exit_drawing_puts_an_exit_after_each_placed_cell_and_the_final_one(int n, int[] exits)
    {
        var svg = CellDrawing.EarlyExitNetwork(Nb201Genotype.Parse(Nb201Cell), new Nb201ExitPlacement(n, exits));
        var doc = XDocument.Parse(svg);
        var drawn = doc.Descendants().Where(e => SvgCells.HasClass(e, "exit")).Select(e => int.Parse((string)e.Attribute("data-after-cell")!, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal([.. exits.Order(), 3 * n - 1], drawn);
        Assert.Equal(3 * n, doc.Descendants().Count(e => SvgCells.HasClass(e, "block-cell")));
        Assert.Equal(2, doc.Descendants().Count(e => SvgCells.HasClass(e, "block-reduction")));
        Assert.Single(SvgCells.Read(svg)); // the cell itself
    }

    private sealed class ChainGenotype(params string[] ops) : Genotype, ICellGraphSource
    {
        public override string SpaceName => "chain";

        public override string ToString() => string.Join(">", ops);

        public override bool Equals(Genotype? other) => other is ChainGenotype c && c.ToString() == ToString();

        public override int GetHashCode() => ToString().GetHashCode(StringComparison.Ordinal);

        public IReadOnlyList<CellGraph> ToCellGraphs() =>
        [
            new CellGraph("chain",
                [new CellNode("in", "input", CellNodeKind.Input), .. ops.Select((_, i) => new CellNode($"n{i}", $"n{i}", i == ops.Length - 1 ? CellNodeKind.Output : CellNodeKind.Intermediate))],
                [.. ops.Select((op, i) => new CellEdge(i == 0 ? "in" : $"n{i - 1}", $"n{i}", op))]),
        ];
    }

    private sealed class OpaqueGenotype : Genotype
    {
        public override string SpaceName => "opaque";

        public override string ToString() => "?";

        public override bool Equals(Genotype? other) => other is OpaqueGenotype;

        public override int GetHashCode() => 1;
    }

    [Fact]
    public void A_user_genotype_that_describes_its_cell_as_a_graph_is_drawn_and_one_that_does_not_is_refused()
    {
        var cell = Assert.Single(SvgCells.Read(CellDrawing.Svg(new ChainGenotype("conv", "my_op", "none"))));
        Assert.Equal(["in", "n0", "n1", "n2"], cell.Nodes);
        Assert.Equal([("in", "n0", "conv"), ("n0", "n1", "my_op"), ("n1", "n2", "none")], cell.Edges.Select(e => (e.From, e.To, e.Operation)).ToArray());
        var ex = Assert.Throws<ArgumentException>(() => CellDrawing.Svg(new OpaqueGenotype()));
        Assert.Contains(nameof(ICellGraphSource), ex.Message);
    }

    [Fact]
    public void Graphs_with_a_cycle_an_unknown_node_or_a_repeated_id_are_refused_with_the_problem_named()
    {
        CellNode N(string id) => new(id, id, CellNodeKind.Intermediate);
        Assert.Contains("cycle", Assert.Throws<ArgumentException>(() => CellDrawing.Svg([new CellGraph("g", [N("a"), N("b")], [new CellEdge("a", "b", "x"), new CellEdge("b", "a", "y")])])).Message);
        Assert.Contains("'c'", Assert.Throws<ArgumentException>(() => CellDrawing.Svg([new CellGraph("g", [N("a")], [new CellEdge("a", "c", "x")])])).Message);
        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => CellDrawing.Svg([new CellGraph("g", [N("a"), N("a")], [])])).Message);
    }

    [Fact]
    public void Drawings_are_deterministic_and_an_operation_has_one_colour_in_every_drawing()
    {
        var nb201 = Nb201Genotype.Parse(Nb201Cell);
        Assert.Equal(CellDrawing.Svg(nb201), CellDrawing.Svg(Nb201Genotype.Parse(Nb201Cell)));
        Assert.Equal(CellDrawing.Svg(DartsGenotype.DartsV2), CellDrawing.Svg(DartsGenotype.Parse(DartsGenotype.DartsV2.ToString())));
        // Colour of each edge path by operation, over an NB201, a DARTS and a varied drawing.
        var colours = new Dictionary<string, HashSet<string>>();
        foreach (var svg in new[] { CellDrawing.Svg(nb201), CellDrawing.Svg(DartsGenotype.DartsV2), CellDrawing.Svg(CellGraphs.ParseGenotype("cells=1 |nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_5x5~2| / cells=1 |skip_connect~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2| / cells=1 |skip_connect~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2|")) })
            foreach (var edge in XDocument.Parse(svg).Descendants().Where(e => SvgCells.HasClass(e, "edge")))
            {
                var op = (string)edge.Attribute("data-op")!;
                var stroke = (string)edge.Elements().First(e => e.Name.LocalName == "path").Attribute("stroke")!;
                (colours.TryGetValue(op, out var set) ? set : colours[op] = []).Add(stroke);
            }
        Assert.True(colours.Count >= 8);
        Assert.All(colours, kv => Assert.Single(kv.Value));
        Assert.Equal(colours.Count, colours.Values.Select(v => v.Single()).Distinct().Count()); // different operations, different colours
    }

    [Theory]
    [InlineData("|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|", "nas-bench-201")]
    [InlineData("DARTS_V1", "darts")]
    [InlineData("cells=1 |skip_connect~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2| / cells=1 |skip_connect~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2| / cells=1 |skip_connect~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2|", "nas-bench-201-varied")]
    public void A_genotype_text_is_recognised_without_its_space(string text, string space)
    {
        Assert.Equal(space, CellGraphs.ParseGenotype(text).SpaceName);
        Assert.Equal(space, CellGraphs.ParseGenotype(text, space).SpaceName);
        Assert.Throws<ArgumentException>(() => CellGraphs.ParseGenotype(text, "no-such-space"));
    }
}
