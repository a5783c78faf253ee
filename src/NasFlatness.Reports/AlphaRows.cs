using System.Globalization;
using NasFlatness.Genotypes;

namespace NasFlatness.Reports;

/// <summary>What one row of an architecture tensor is: the edge (or choice) it mixes and the names of its columns.</summary>
internal sealed record AlphaRow(int Tensor, int Row, string Label, IReadOnlyList<string> Columns, bool Operations);

/// <summary>Names the rows and columns of a manifest's α tensors for the built-in spaces (generic names for others).</summary>
internal static class AlphaRows
{
    public static List<AlphaRow> For(string space, IReadOnlyList<double[][]> alpha)
    {
        var rows = new List<AlphaRow>();
        for (int t = 0; t < alpha.Count; t++)
            for (int r = 0; r < alpha[t].Length; r++)
                rows.Add(Name(space, alpha, t, r, alpha[t][r].Length));
        return rows;
    }

    private static AlphaRow Name(string space, IReadOnlyList<double[][]> alpha, int t, int r, int columns)
    {
        IReadOnlyList<string> Generic(string prefix) => [.. Enumerable.Range(0, columns).Select(i => string.Create(CultureInfo.InvariantCulture, $"{prefix} {i}"))];
        if (space == Nb201Genotype.Space && alpha.Count == 1 && alpha[0].Length == Nb201Genotype.EdgeCount && columns == Nb201Genotype.OperationCount)
        {
            var (to, from) = Nb201Genotype.Edges[r];
            return new AlphaRow(t, r, string.Create(CultureInfo.InvariantCulture, $"edge {to}←{from}"), Nb201Genotype.OperationNames, true);
        }
        if (space == DartsGenotype.Space && alpha.Count == 2)
        {
            // Rows of a cell: node 0 has inputs c_{k-2}, c_{k-1}; node n has those and nodes 0 … n − 1.
            int node = 0, first = 0;
            while (first + node + 2 <= r) { first += node + 2; node++; }
            int input = r - first;
            var ops = columns == DartsGenotype.OperationNames.Length ? (IReadOnlyList<string>)DartsGenotype.OperationNames
                : columns == DartsGenotype.OperationNames.Length - 1 ? [.. DartsGenotype.OperationNames.Where(o => o != "none")] : Generic("op");
            return new AlphaRow(t, r, string.Create(CultureInfo.InvariantCulture, $"{(t == 0 ? "normal" : "reduce")}: {CellGraphs.DartsNodeId(node + 2)} ← {CellGraphs.DartsNodeId(input)}"), ops, true);
        }
        if (space == ZoDartsPlusPlusGenotype.Space && alpha.Count == 3)
        {
            int stage = r / ZoDartsPlusPlusGenotype.EdgeCount + 1;
            if (t == 2) return new AlphaRow(t, r, string.Create(CultureInfo.InvariantCulture, $"stage {r + 1}: depth"),
                [.. Enumerable.Range(1, columns).Select(i => string.Create(CultureInfo.InvariantCulture, $"{i} cell{(i == 1 ? "" : "s")}"))], false);
            var (to, from) = Nb201Genotype.Edges[r % ZoDartsPlusPlusGenotype.EdgeCount];
            string edge = string.Create(CultureInfo.InvariantCulture, $"stage {stage}: {to}←{from}");
            return t == 0
                ? new AlphaRow(t, r, edge, ZoDartsPlusPlusGenotype.OperationNames, true)
                : new AlphaRow(t, r, edge + " kernel", [.. ZoDartsPlusPlusGenotype.KernelSizes.Select(k => string.Create(CultureInfo.InvariantCulture, $"nor_conv_{k}x{k}"))], true);
        }
        return new AlphaRow(t, r, string.Create(CultureInfo.InvariantCulture, $"α[{t}] row {r}"), Generic("choice"), false);
    }
}
