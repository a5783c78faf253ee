using System.Xml.Linq;
using Xunit;

namespace NasFlatness.Reports.Tests;

/// <summary>Reads a cell drawing back: its cells, nodes and edges, from the SVG's classes and data attributes.</summary>
internal sealed record DrawnEdge(string From, string To, string Operation, bool Labelled);

internal sealed record DrawnCell(string Name, IReadOnlyList<string> Nodes, IReadOnlyList<DrawnEdge> Edges, IReadOnlyList<(string From, string To)> Concat);

internal static class SvgCells
{
    private static readonly XNamespace Ns = "http://www.w3.org/2000/svg";

    public static bool HasClass(XElement e, string name) => ((string?)e.Attribute("class") ?? "").Split(' ').Contains(name);

    public static List<DrawnCell> Read(string svg)
    {
        var doc = XDocument.Parse(svg);
        Assert.Equal(Ns + "svg", doc.Root!.Name);
        var cells = new List<DrawnCell>();
        foreach (var cell in doc.Descendants(Ns + "g").Where(g => HasClass(g, "cell")))
        {
            var nodes = cell.Descendants(Ns + "g").Where(g => HasClass(g, "node")).Select(g => (string)g.Attribute("data-node")!).ToList();
            var labels = cell.Descendants(Ns + "g").Where(g => HasClass(g, "edge-label-box"))
                .Select(g => ((string)g.Attribute("data-from")!, (string)g.Attribute("data-to")!, g.Descendants(Ns + "text").Single().Value)).ToList();
            var edges = cell.Descendants(Ns + "g").Where(g => HasClass(g, "edge")).Select(g =>
            {
                var (from, to, op) = ((string)g.Attribute("data-from")!, (string)g.Attribute("data-to")!, (string)g.Attribute("data-op")!);
                bool labelled = labels.Remove((from, to, op));
                return new DrawnEdge(from, to, op, labelled);
            }).ToList();
            Assert.Empty(labels); // every label belongs to a drawn edge
            var concat = cell.Descendants(Ns + "g").Where(g => HasClass(g, "concat")).Select(g => ((string)g.Attribute("data-from")!, (string)g.Attribute("data-to")!)).ToList();
            cells.Add(new DrawnCell((string)cell.Attribute("data-cell")!, nodes, edges, concat));
        }
        return cells;
    }
}
