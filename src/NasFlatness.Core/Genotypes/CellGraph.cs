namespace NasFlatness.Genotypes;

/// <summary>
/// Implemented by a genotype that can describe its cell(s) as graphs, so that drawings and reports (the NasFlatness.Reports
/// package) show a user's own search space the way they show the built-in ones.
/// </summary>
public interface ICellGraphSource
{
    /// <summary>The genotype's cells as graphs, in the order they should be drawn (e.g. the normal cell, then the reduction cell).</summary>
    IReadOnlyList<CellGraph> ToCellGraphs();
}

/// <summary>What a node of a <see cref="CellGraph"/> is: drawn differently, laid out inputs first and outputs last.</summary>
public enum CellNodeKind
{
    /// <summary>An input of the cell (e.g. NB201 node 0, DARTS c_{k-2} and c_{k-1}).</summary>
    Input,

    /// <summary>A node computed inside the cell.</summary>
    Intermediate,

    /// <summary>The output of the cell (e.g. NB201 node 3, DARTS c_{k}, the concatenation of intermediate nodes).</summary>
    Output,
}

/// <summary>A node of a <see cref="CellGraph"/>.</summary>
/// <param name="Id">Identifier, unique in the graph, that edges refer to.</param>
/// <param name="Label">Text drawn in the node.</param>
/// <param name="Kind">Input, intermediate or output.</param>
public sealed record CellNode(string Id, string Label, CellNodeKind Kind);

/// <summary>A directed edge of a <see cref="CellGraph"/> carrying one operation.</summary>
/// <param name="From">The <see cref="CellNode.Id"/> of the source node.</param>
/// <param name="To">The <see cref="CellNode.Id"/> of the target node.</param>
/// <param name="Operation">The operation's name (e.g. <c>nor_conv_3x3</c>); <c>none</c> marks a zero edge, drawn faint; an empty name marks a plain
/// connection such as a DARTS concatenation, drawn without a label.</param>
public sealed record CellEdge(string From, string To, string Operation);

/// <summary>A cell as a directed acyclic graph: nodes and operation-labelled edges.</summary>
/// <param name="Name">The cell's name, shown as its title (e.g. <c>normal cell</c>).</param>
/// <param name="Nodes">The nodes; inputs usually first.</param>
/// <param name="Edges">The edges, each between two of <paramref name="Nodes"/>.</param>
public sealed record CellGraph(string Name, IReadOnlyList<CellNode> Nodes, IReadOnlyList<CellEdge> Edges);
