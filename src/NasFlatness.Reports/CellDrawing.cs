using System.Globalization;
using System.Text;
using NasFlatness.Genotypes;
using NasFlatness.MultiObjective.Nachos;

namespace NasFlatness.Reports;

/// <summary>
/// Draws cells and networks as standalone SVG (no scripts, no external references). The layout is deterministic: inputs in
/// the first column, every other node in its own column in topological order (ties in the order given), outputs in the last
/// column; edges that skip columns are drawn as arcs. Every edge carries its operation as a label in the operation's colour
/// (<see cref="OperationColors"/>); <c>none</c> edges are drawn faint and dashed without a label.
/// </summary>
/// <remarks>
/// Elements carry classes and data attributes for tools and tests: <c>g.cell[data-cell]</c> per cell,
/// <c>g.node[data-node]</c> per node (<c>node-input</c>, <c>node-intermediate</c>, <c>node-output</c>),
/// <c>g.edge[data-from][data-to][data-op]</c> per operation edge (<c>edge-none</c> for <c>none</c>), each labelled edge with a
/// <c>text.edge-label</c>, and <c>g.concat</c> for unlabelled connections (DARTS: the intermediate nodes concatenated into c_{k}).
/// </remarks>
public static class CellDrawing
{
    private const double ColumnWidth = 165, RowHeight = 78, NodeRx = 32, NodeRy = 17, Margin = 24, TitleHeight = 26, LabelFont = 11;

    /// <summary>The drawing of <paramref name="genotype"/>'s cells (<see cref="CellGraphs.From"/>); a ZO-DARTS++ genotype also shows its stages and depths.</summary>
    /// <exception cref="ArgumentException">The genotype cannot be described as cells (see <see cref="CellGraphs.From"/>).</exception>
    public static string Svg(Genotype genotype)
    {
        ArgumentNullException.ThrowIfNull(genotype);
        var cells = CellGraphs.From(genotype);
        return genotype is ZoDartsPlusPlusGenotype varied
            ? Compose(genotype.ToString(), cells, VariedStages(varied))
            : Compose(genotype.ToString(), cells, null);
    }

    /// <summary>The drawing of <paramref name="cells"/>, one below the other, with a legend of the operations used.</summary>
    /// <param name="cells">The cells (see <see cref="CellGraph"/>).</param>
    /// <param name="title">The accessible title of the drawing (default: the cells' names).</param>
    /// <exception cref="ArgumentException">An edge refers to a node that is not in its graph, a node id repeats, or the graph has a cycle.</exception>
    public static string Svg(IReadOnlyList<CellGraph> cells, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(cells);
        return Compose(title ?? string.Join(", ", cells.Select(c => c.Name)), cells, null);
    }

    /// <summary>
    /// An NB201 early-exit network (NACHOS): stem, the three stages of <paramref name="placement"/>'s N cells with the reduction
    /// blocks between them, the exits after the cells of <paramref name="placement"/> and the final exit, and the cell itself below.
    /// </summary>
    public static string EarlyExitNetwork(Nb201Genotype cell, Nb201ExitPlacement placement)
    {
        ArgumentNullException.ThrowIfNull(cell);
        ArgumentNullException.ThrowIfNull(placement);
        int n = placement.CellsPerStage;
        var blocks = new List<Block> { new("stem", "stem", null) };
        for (int s = 0; s < 3; s++)
        {
            if (s > 0) blocks.Add(new Block("reduction", "reduce", null));
            for (int c = 0; c < n; c++)
            {
                int global = s * n + c;
                bool exit = placement.Cells.Contains(global) || global == 3 * n - 1;
                blocks.Add(new Block("cell", string.Create(CultureInfo.InvariantCulture, $"cell {global}"), exit ? (global == 3 * n - 1 ? "final exit" : "exit") : null, global));
            }
        }
        var title = $"{cell} with {placement}";
        return Compose(title, [CellGraphs.Nb201(cell)], new MacroRow("early-exit network", blocks));
    }

    private sealed record Block(string Kind, string Label, string? Exit, int Cell = -1);

    private sealed record MacroRow(string Title, IReadOnlyList<Block> Blocks);

    private static MacroRow VariedStages(ZoDartsPlusPlusGenotype varied)
    {
        var blocks = new List<Block> { new("stem", "stem", null) };
        for (int s = 0; s < ZoDartsPlusPlusGenotype.StageCount; s++)
        {
            if (s > 0) blocks.Add(new Block("reduction", "reduce", null));
            int cells = varied.CellsPerStage[s];
            blocks.Add(new Block("stage", string.Create(CultureInfo.InvariantCulture, $"stage {s + 1} × {cells}"), null, s));
        }
        blocks.Add(new Block("head", "head", null));
        return new MacroRow("network: cells kept per stage", blocks);
    }

    private static string Compose(string title, IReadOnlyList<CellGraph> cells, MacroRow? macro)
    {
        var layouts = cells.Select(c => new Layout(c)).ToList();
        const double blockWidth = 86, blockHeight = 34, blockGap = 22;
        double macroWidth = macro is null ? 0 : macro.Blocks.Count * (blockWidth + blockGap) - blockGap + 2 * Margin;
        double macroHeight = macro is null ? 0 : TitleHeight + blockHeight + 70;
        var operations = cells.SelectMany(c => c.Edges).Select(e => e.Operation).Where(o => o.Length > 0).Distinct().ToList();
        double legendHeight = operations.Count == 0 ? 0 : 30;
        double width = Math.Max(Math.Max(macroWidth, layouts.Count == 0 ? 0 : layouts.Max(l => l.Width)), 320);
        double height = macroHeight + layouts.Sum(l => l.Height) + legendHeight + Margin / 2;

        var sb = new StringBuilder();
        SvgText.Open(sb, width, height, "nasflatness-cell", title);
        double y = 0;
        if (macro is not null)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<g class=\"network\" data-title=\"{SvgText.E(macro.Title)}\">\n");
            sb.Append(CultureInfo.InvariantCulture, $"<text class=\"cell-title\" x=\"{Margin}\" y=\"{SvgText.N(18)}\" font-size=\"14\" font-weight=\"bold\" fill=\"#222\">{SvgText.E(macro.Title)}</text>\n");
            double top = TitleHeight + 8, x = Margin;
            for (int i = 0; i < macro.Blocks.Count; i++)
            {
                var b = macro.Blocks[i];
                string fill = b.Kind switch { "reduction" => "#eef3fb", "stem" or "head" => "#f2f2f2", _ => "#fff7e6" };
                sb.Append(CultureInfo.InvariantCulture, $"<g class=\"block block-{b.Kind}\" data-block=\"{SvgText.E(b.Label)}\"{(b.Cell >= 0 ? $" data-index=\"{b.Cell}\"" : "")}>");
                sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{SvgText.N(x)}\" y=\"{SvgText.N(top)}\" width=\"{blockWidth}\" height=\"{blockHeight}\" rx=\"6\" fill=\"{fill}\" stroke=\"#555\"/>");
                sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{SvgText.N(x + blockWidth / 2)}\" y=\"{SvgText.N(top + blockHeight / 2 + 4)}\" text-anchor=\"middle\" font-size=\"12\" fill=\"#222\">{SvgText.E(b.Label)}</text></g>\n");
                if (i + 1 < macro.Blocks.Count)
                    Arrow(sb, x + blockWidth, top + blockHeight / 2, x + blockWidth + blockGap, top + blockHeight / 2, "#555", 1.4, "link");
                if (b.Exit is { } exit)
                {
                    double cx = x + blockWidth / 2, ey = top + blockHeight + 34;
                    sb.Append(CultureInfo.InvariantCulture, $"<g class=\"exit\" data-after-cell=\"{b.Cell}\" data-exit=\"{SvgText.E(exit)}\">");
                    Arrow(sb, cx, top + blockHeight, cx, ey - 10, "#c0392b", 1.6, "exit-link");
                    sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{SvgText.N(cx - 36)}\" y=\"{SvgText.N(ey - 10)}\" width=\"72\" height=\"22\" rx=\"11\" fill=\"#fdecea\" stroke=\"#c0392b\"/>");
                    sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{SvgText.N(cx)}\" y=\"{SvgText.N(ey + 5)}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#c0392b\">{SvgText.E(exit)}</text></g>\n");
                }
                x += blockWidth + blockGap;
            }
            sb.Append("</g>\n");
            y += macroHeight;
        }
        foreach (var layout in layouts)
        {
            layout.Render(sb, 0, y);
            y += layout.Height;
        }
        if (operations.Count > 0)
        {
            sb.Append("<g class=\"legend\">");
            double x = Margin;
            foreach (var op in operations.OrderBy(o => o, StringComparer.Ordinal))
            {
                string colour = OperationColors.Of(op);
                sb.Append(CultureInfo.InvariantCulture, $"<g class=\"legend-item\" data-op=\"{SvgText.E(op)}\"><rect x=\"{SvgText.N(x)}\" y=\"{SvgText.N(y + 6)}\" width=\"14\" height=\"10\" fill=\"{colour}\"{(op == "none" ? " opacity=\"0.6\"" : "")}/>");
                sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{SvgText.N(x + 18)}\" y=\"{SvgText.N(y + 15)}\" font-size=\"11\" fill=\"#333\">{SvgText.E(op)}</text></g>");
                x += 26 + SvgText.TextWidth(op, 11);
            }
            sb.Append("</g>\n");
        }
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    private static void Arrow(StringBuilder sb, double x1, double y1, double x2, double y2, string colour, double width, string cssClass)
    {
        sb.Append(CultureInfo.InvariantCulture, $"<path class=\"{cssClass}\" d=\"M{SvgText.N(x1)},{SvgText.N(y1)} L{SvgText.N(x2)},{SvgText.N(y2)}\" stroke=\"{colour}\" stroke-width=\"{SvgText.N(width)}\" fill=\"none\"/>");
        ArrowHead(sb, x2, y2, x2 - x1, y2 - y1, colour, 1);
    }

    private static void ArrowHead(StringBuilder sb, double x, double y, double dx, double dy, string colour, double opacity)
    {
        double length = Math.Sqrt(dx * dx + dy * dy);
        if (length == 0) return;
        dx /= length;
        dy /= length;
        const double size = 8, half = 4;
        double bx = x - dx * size, by = y - dy * size;
        sb.Append(CultureInfo.InvariantCulture,
            $"<polygon points=\"{SvgText.N(x)},{SvgText.N(y)} {SvgText.N(bx - dy * half)},{SvgText.N(by + dx * half)} {SvgText.N(bx + dy * half)},{SvgText.N(by - dx * half)}\" fill=\"{colour}\"{(opacity < 1 ? $" opacity=\"{SvgText.N(opacity)}\"" : "")}/>");
    }

    /// <summary>Positions of one cell's nodes and the geometry of its edges.</summary>
    private sealed class Layout
    {
        private readonly CellGraph _graph;
        private readonly Dictionary<string, (double X, double Y)> _position = new(StringComparer.Ordinal);
        private readonly List<(CellEdge Edge, double X1, double Y1, double Cx, double Cy, double X2, double Y2)> _curves = [];
        private readonly double _shift;

        public Layout(CellGraph graph)
        {
            ArgumentNullException.ThrowIfNull(graph);
            _graph = graph;
            var ids = new HashSet<string>(StringComparer.Ordinal);
            foreach (var node in graph.Nodes)
                if (!ids.Add(node.Id)) throw new ArgumentException($"Cell '{graph.Name}': node id '{node.Id}' appears twice.", nameof(graph));
            foreach (var edge in graph.Edges)
            {
                if (!ids.Contains(edge.From)) throw new ArgumentException($"Cell '{graph.Name}': edge {edge.From} → {edge.To} starts at an unknown node '{edge.From}'.", nameof(graph));
                if (!ids.Contains(edge.To)) throw new ArgumentException($"Cell '{graph.Name}': edge {edge.From} → {edge.To} ends at an unknown node '{edge.To}'.", nameof(graph));
            }
            // Columns: the inputs first, then every other node in its own column in topological order (ties: the order given), the outputs last.
            var order = TopologicalOrder(graph);
            var inputs = graph.Nodes.Where(n => n.Kind == CellNodeKind.Input).ToList();
            var outputs = graph.Nodes.Where(n => n.Kind == CellNodeKind.Output).ToList();
            var middle = order.Where(n => n.Kind == CellNodeKind.Intermediate).ToList();
            int column = 0;
            void Place(IReadOnlyList<CellNode> nodes, double spread)
            {
                if (nodes.Count == 0) return;
                for (int i = 0; i < nodes.Count; i++)
                    _position[nodes[i].Id] = (Margin + NodeRx + column * ColumnWidth, (i - (nodes.Count - 1) / 2.0) * spread);
                column++;
            }
            Place(inputs, RowHeight * 1.6);
            foreach (var node in middle) Place([node], 0);
            Place(outputs, RowHeight);

            // Edges: straight to the next column; arcs over skipped columns, away from the centre line (alternating on it); parallel edges fan out.
            int arc = 0;
            var seen = new Dictionary<(string, string), int>();
            foreach (var edge in graph.Edges)
            {
                var (x1, y1) = _position[edge.From];
                var (x2, y2) = _position[edge.To];
                int parallel = seen.TryGetValue((edge.From, edge.To), out int p) ? p + 1 : 0;
                seen[(edge.From, edge.To)] = parallel;
                double span = Math.Round(Math.Abs(x2 - x1) / ColumnWidth);
                double bend = 0;
                if (span > 1)
                {
                    double size = 20 + 22 * (span - 1);
                    double side = y1 < -1 || y2 < -1 ? -1 : y1 > 1 || y2 > 1 ? 1 : (arc++ % 2 == 0 ? -1 : 1);
                    bend = side * size;
                }
                bend += (parallel + 1) / 2 * 18 * (parallel % 2 == 0 ? 1 : -1);
                // The curve's middle lies `bend` away (in y) from the chord's middle: control point at twice that.
                double cx = (x1 + x2) / 2, cy = (y1 + y2) / 2 + 2 * bend;
                _curves.Add((edge, x1, y1, cx, cy, x2, y2));
            }
            double top = Math.Min(_position.Values.Select(v => v.Y - NodeRy).DefaultIfEmpty(0).Min(), _curves.Select(c => Point(c, 0.5).Y - 10).DefaultIfEmpty(0).Min());
            double bottom = Math.Max(_position.Values.Select(v => v.Y + NodeRy).DefaultIfEmpty(0).Max(), _curves.Select(c => Point(c, 0.5).Y + 10).DefaultIfEmpty(0).Max());
            _shift = TitleHeight + 10 - top;
            Height = _shift + bottom + 14;
            Width = Math.Max(2 * Margin + Math.Max(0, column - 1) * ColumnWidth + 2 * NodeRx, 200);
        }

        public double Width { get; }

        public double Height { get; }

        private static (double X, double Y) Point((CellEdge Edge, double X1, double Y1, double Cx, double Cy, double X2, double Y2) c, double t) =>
            ((1 - t) * (1 - t) * c.X1 + 2 * (1 - t) * t * c.Cx + t * t * c.X2, (1 - t) * (1 - t) * c.Y1 + 2 * (1 - t) * t * c.Cy + t * t * c.Y2);

        private static List<CellNode> TopologicalOrder(CellGraph graph)
        {
            var indegree = graph.Nodes.ToDictionary(n => n.Id, _ => 0, StringComparer.Ordinal);
            foreach (var e in graph.Edges) indegree[e.To]++;
            var order = new List<CellNode>();
            var done = new HashSet<string>(StringComparer.Ordinal);
            while (order.Count < graph.Nodes.Count)
            {
                var next = graph.Nodes.FirstOrDefault(n => !done.Contains(n.Id) && indegree[n.Id] == 0)
                    ?? throw new ArgumentException($"Cell '{graph.Name}' has a cycle; a cell must be a directed acyclic graph.", nameof(graph));
                done.Add(next.Id);
                order.Add(next);
                foreach (var e in graph.Edges.Where(e => e.From == next.Id)) indegree[e.To]--;
            }
            return order;
        }

        public void Render(StringBuilder sb, double offsetX, double offsetY)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<g class=\"cell\" data-cell=\"{SvgText.E(_graph.Name)}\" transform=\"translate({SvgText.N(offsetX)},{SvgText.N(offsetY)})\">\n");
            sb.Append(CultureInfo.InvariantCulture, $"<text class=\"cell-title\" x=\"{Margin}\" y=\"18\" font-size=\"14\" font-weight=\"bold\" fill=\"#222\">{SvgText.E(_graph.Name)}</text>\n");
            var labels = new StringBuilder();
            foreach (var c in _curves) DrawEdge(sb, labels, c);
            sb.Append(labels);
            foreach (var node in _graph.Nodes)
            {
                var (x, y0) = _position[node.Id];
                double y = y0 + _shift;
                string kind = node.Kind switch { CellNodeKind.Input => "input", CellNodeKind.Output => "output", _ => "intermediate" };
                sb.Append(CultureInfo.InvariantCulture, $"<g class=\"node node-{kind}\" data-node=\"{SvgText.E(node.Id)}\">");
                if (node.Kind == CellNodeKind.Intermediate)
                    sb.Append(CultureInfo.InvariantCulture, $"<ellipse cx=\"{SvgText.N(x)}\" cy=\"{SvgText.N(y)}\" rx=\"{NodeRx - 6}\" ry=\"{NodeRy}\" fill=\"#eaf2fb\" stroke=\"#34495e\" stroke-width=\"1.5\"/>");
                else
                    sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{SvgText.N(x - NodeRx)}\" y=\"{SvgText.N(y - NodeRy)}\" width=\"{2 * NodeRx}\" height=\"{2 * NodeRy}\" rx=\"7\" fill=\"{(node.Kind == CellNodeKind.Input ? "#dff0d8" : "#fcf3cf")}\" stroke=\"#34495e\" stroke-width=\"1.5\"/>");
                sb.Append(CultureInfo.InvariantCulture, $"<text class=\"node-label\" x=\"{SvgText.N(x)}\" y=\"{SvgText.N(y + 4.5)}\" text-anchor=\"middle\" font-size=\"13\" fill=\"#222\">{SvgText.E(node.Label)}</text></g>\n");
            }
            sb.Append("</g>\n");
        }

        private void DrawEdge(StringBuilder sb, StringBuilder labels, (CellEdge Edge, double X1, double Y1, double Cx, double Cy, double X2, double Y2) c)
        {
            var edge = c.Edge;
            double x1 = c.X1, y1 = c.Y1 + _shift, cx = c.Cx, cy = c.Cy + _shift, x2 = c.X2, y2 = c.Y2 + _shift;
            (double X, double Y) At(double t) => ((1 - t) * (1 - t) * x1 + 2 * (1 - t) * t * cx + t * t * x2, (1 - t) * (1 - t) * y1 + 2 * (1 - t) * t * cy + t * t * y2);
            // Trim both ends at the nodes' outlines (ellipses of radii NodeRx, NodeRy).
            static bool Inside((double X, double Y) p, double ox, double oy) => (p.X - ox) * (p.X - ox) / (NodeRx * NodeRx) + (p.Y - oy) * (p.Y - oy) / (NodeRy * NodeRy) < 1;
            double t0 = 0, t1 = 1;
            while (t0 < 0.5 && Inside(At(t0), x1, y1)) t0 += 0.005;
            while (t1 > 0.5 && Inside(At(t1), x2, y2)) t1 -= 0.005;
            // The trimmed piece of the same curve, as a quadratic Bézier (de Casteljau on [t0, t1]).
            var start = At(t0);
            var end = At(t1);
            double ctx = (1 - t0) * ((1 - t1) * x1 + t1 * cx) + t0 * ((1 - t1) * cx + t1 * x2);
            double cty = (1 - t0) * ((1 - t1) * y1 + t1 * cy) + t0 * ((1 - t1) * cy + t1 * y2);
            bool none = edge.Operation == "none";
            bool plain = edge.Operation.Length == 0;
            string colour = OperationColors.Of(edge.Operation);
            double opacity = none ? 0.45 : 1;
            string cssClass = plain ? "concat" : none ? "edge edge-none" : "edge";
            sb.Append(CultureInfo.InvariantCulture, $"<g class=\"{cssClass}\" data-from=\"{SvgText.E(edge.From)}\" data-to=\"{SvgText.E(edge.To)}\"{(plain ? "" : $" data-op=\"{SvgText.E(edge.Operation)}\"")}>");
            sb.Append(CultureInfo.InvariantCulture,
                $"<path d=\"M{SvgText.N(start.X)},{SvgText.N(start.Y)} Q{SvgText.N(ctx)},{SvgText.N(cty)} {SvgText.N(end.X)},{SvgText.N(end.Y)}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"{(plain || none ? "1.2" : "2.2")}\"{(none ? " stroke-dasharray=\"4 4\"" : "")}{(opacity < 1 ? $" opacity=\"{SvgText.N(opacity)}\"" : "")}/>");
            ArrowHead(sb, end.X, end.Y, end.X - ctx, end.Y - cty, colour, opacity);
            sb.Append("</g>\n");
            if (!plain && !none)
            {
                var (lx, ly) = At(0.5);
                double w = SvgText.TextWidth(edge.Operation, LabelFont) + 8;
                labels.Append(CultureInfo.InvariantCulture, $"<g class=\"edge-label-box\" data-from=\"{SvgText.E(edge.From)}\" data-to=\"{SvgText.E(edge.To)}\">");
                labels.Append(CultureInfo.InvariantCulture, $"<rect x=\"{SvgText.N(lx - w / 2)}\" y=\"{SvgText.N(ly - 8)}\" width=\"{SvgText.N(w)}\" height=\"15\" rx=\"3\" fill=\"#ffffff\" fill-opacity=\"0.9\" stroke=\"{colour}\" stroke-width=\"0.8\"/>");
                labels.Append(CultureInfo.InvariantCulture, $"<text class=\"edge-label\" data-op=\"{SvgText.E(edge.Operation)}\" x=\"{SvgText.N(lx)}\" y=\"{SvgText.N(ly + 3.5)}\" text-anchor=\"middle\" font-size=\"{LabelFont}\" fill=\"{colour}\">{SvgText.E(edge.Operation)}</text></g>\n");
            }
        }
    }
}
