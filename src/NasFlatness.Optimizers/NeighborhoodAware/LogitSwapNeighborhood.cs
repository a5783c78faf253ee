using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.Optimizers;

/// <summary>
/// Our reconstruction (spec §8.3, not the paper's published construction) of NA-DARTS' differentiable neighbourhood: a
/// neighbour at radius r picks r distinct edges and, on each, swaps the logit of the currently dominant operation with the
/// logit of a random other operation — a permutation of α, hence linear and differentiable. Only operation-mixture tensors
/// (two-dimensional, one row per edge) are perturbed; other architecture tensors (PC-DARTS β) are passed through.
/// </summary>
public sealed class LogitSwapNeighborhood : INeighborhoodRepresentation
{
    /// <summary>Creates the representation.</summary>
    /// <param name="radius">How many edges each neighbour changes (default 1).</param>
    public LogitSwapNeighborhood(int radius = 1)
    {
        if (radius < 1) throw new ArgumentOutOfRangeException(nameof(radius), radius, "The neighbourhood radius must be at least 1.");
        Radius = radius;
    }

    /// <summary>How many edges each neighbour changes.</summary>
    public int Radius { get; }

    /// <inheritdoc />
    public string Name => $"logit-swap(r={Radius})";

    /// <inheritdoc />
    public IReadOnlyList<IReadOnlyList<Tensor>> Neighbors(IReadOnlyList<Tensor> architecture, int count, Random random)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(random);
        // Edges addressable as (tensor, row).
        var rows = new List<(int Tensor, int Row)>();
        var argmax = new int[architecture.Count][];
        for (int t = 0; t < architecture.Count; t++)
        {
            var a = architecture[t];
            if (a.dim() != 2 || a.shape[1] < 2) continue;
            using var cpu = a.detach().argmax(-1).cpu();
            argmax[t] = cpu.data<long>().ToArray().Select(v => (int)v).ToArray();
            for (int r = 0; r < a.shape[0]; r++) rows.Add((t, r));
        }
        if (rows.Count == 0) throw new ArgumentException("The architecture has no operation-mixture tensor (two-dimensional α) to perturb.", nameof(architecture));
        int radius = Math.Min(Radius, rows.Count);
        var result = new IReadOnlyList<Tensor>[count];
        for (int k = 0; k < count; k++)
        {
            var chosen = rows.ToArray();
            random.Shuffle(chosen);
            var permutations = new long[architecture.Count][];
            foreach (var (t, r) in chosen.Take(radius))
            {
                long cols = architecture[t].shape[1];
                permutations[t] ??= Enumerable.Range(0, (int)architecture[t].numel()).Select(i => (long)i).ToArray();
                int top = argmax[t][r];
                int other = random.Next((int)cols - 1);
                if (other >= top) other++;
                long i1 = r * cols + top, i2 = r * cols + other;
                (permutations[t][i1], permutations[t][i2]) = (permutations[t][i2], permutations[t][i1]);
            }
            var neighbor = new Tensor[architecture.Count];
            for (int t = 0; t < architecture.Count; t++)
            {
                if (permutations[t] is null) { neighbor[t] = architecture[t]; continue; }
                var index = torch.tensor(permutations[t], device: architecture[t].device);
                neighbor[t] = architecture[t].flatten().index_select(0, index).view_as(architecture[t]);
            }
            result[k] = neighbor;
        }
        return result;
    }
}
