using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;

namespace NasFlatness.Genotypes;

/// <summary>
/// The single changes of a DARTS genotype (docs/spec/algorithms.md §7.4, the A²M code's single move), shared by the search space's
/// <see cref="NasFlatness.SearchSpaces.Darts.DartsSearchSpace.Neighbors"/> and the landscape's DARTS neighbourhood: on every node of
/// either cell, for every input the node may read, either another operation on the kept edge from that input, or — for
/// an input the node does not read yet — either of the node's two edges moved to it with any operation.
/// </summary>
public static class DartsSingleChanges
{
    /// <summary>Every genotype one change away from <paramref name="genotype"/> over <paramref name="operations"/> (never <c>none</c> unless listed).</summary>
    public static IEnumerable<DartsGenotype> Enumerate(DartsGenotype genotype, IReadOnlyList<string> operations)
    {
        ArgumentNullException.ThrowIfNull(genotype);
        ArgumentNullException.ThrowIfNull(operations);
        foreach (bool reduction in new[] { false, true })
        {
            var cell = genotype.Cell(reduction);
            for (int node = 0; node < DartsGenotype.NodeCount; node++)
            {
                for (int input = 0; input < 2 + node; input++)
                {
                    int slot = Slot(cell, node, input);
                    if (slot >= 0)
                    {
                        foreach (var op in operations)
                            if (op != cell[slot].Operation) yield return genotype.WithCell(reduction, Replace(cell, slot, new DartsEdge(op, input)));
                    }
                    else
                    {
                        for (int k = 0; k < 2; k++)
                            foreach (var op in operations)
                                yield return genotype.WithCell(reduction, Replace(cell, 2 * node + k, new DartsEdge(op, input)));
                    }
                }
            }
        }
    }

    /// <summary>The index in <paramref name="cell"/> of node <paramref name="node"/>'s edge from <paramref name="input"/>, or −1.</summary>
    public static int Slot(IReadOnlyList<DartsEdge> cell, int node, int input)
    {
        ArgumentNullException.ThrowIfNull(cell);
        for (int k = 0; k < 2; k++)
            if (cell[2 * node + k].Input == input) return 2 * node + k;
        return -1;
    }

    /// <summary>A copy of <paramref name="cell"/> with entry <paramref name="slot"/> replaced by <paramref name="edge"/>.</summary>
    public static DartsEdge[] Replace(IReadOnlyList<DartsEdge> cell, int slot, DartsEdge edge)
    {
        ArgumentNullException.ThrowIfNull(cell);
        var copy = cell.ToArray();
        copy[slot] = edge;
        return copy;
    }
}
