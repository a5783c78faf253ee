using System.Numerics;
using NasFlatness.Genotypes;

namespace NasFlatness.Landscape.Internal;

/// <summary>Allocation-free neighbourhood arithmetic on NB201 base-5 codes (<see cref="Nb201Genotype.Code"/>).</summary>
internal static class Nb201Codes
{
    public const int Edges = Nb201Genotype.EdgeCount;
    public const int Ops = 5;
    public const int Size = Nb201Genotype.SpaceSize;

    /// <summary>Place value of each edge's digit: edge 0 is the most significant.</summary>
    public static readonly int[] Weight = [3125, 625, 125, 25, 5, 1];

    /// <summary>Edge subsets (as edge lists) of each size 0..6.</summary>
    private static readonly int[][][] s_subsets = BuildSubsets();

    public static int Digit(int code, int edge) => code / Weight[edge] % Ops;

    public static int Distance(int a, int b)
    {
        int d = 0;
        for (int e = 0; e < Edges; e++)
        {
            if (a % Ops != b % Ops) d++;
            a /= Ops;
            b /= Ops;
        }
        return d;
    }

    /// <summary>|S_r| = C(6, r)·4^r.</summary>
    public static int SphereSize(int radius) =>
        radius is < 0 or > Edges ? 0 : s_subsets[radius].Length * (1 << (2 * radius));

    /// <summary>Writes the codes of S_r(code) into <paramref name="destination"/> and returns how many (|S_r|).</summary>
    public static int FillSphere(int code, int radius, Span<int> destination)
    {
        if (radius == 0)
        {
            destination[0] = code;
            return 1;
        }
        Span<int> digit = stackalloc int[Edges];
        for (int e = 0; e < Edges; e++) digit[e] = Digit(code, e);
        int n = 0;
        int alternatives = 1 << (2 * radius);
        foreach (var subset in s_subsets[radius])
        {
            for (int choice = 0; choice < alternatives; choice++)
            {
                int c = code, bits = choice;
                for (int k = 0; k < subset.Length; k++)
                {
                    int e = subset[k];
                    int t = bits & 3;
                    bits >>= 2;
                    int op = t < digit[e] ? t : t + 1;
                    c += (op - digit[e]) * Weight[e];
                }
                destination[n++] = c;
            }
        }
        return n;
    }

    private static int[][][] BuildSubsets()
    {
        var bySize = new List<int[]>[Edges + 1];
        for (int r = 0; r <= Edges; r++) bySize[r] = [];
        for (int mask = 0; mask < 1 << Edges; mask++)
        {
            var edges = new List<int>();
            for (int e = 0; e < Edges; e++) if ((mask & (1 << e)) != 0) edges.Add(e);
            bySize[BitOperations.PopCount((uint)mask)].Add([.. edges]);
        }
        return [.. bySize.Select(l => l.ToArray())];
    }
}
