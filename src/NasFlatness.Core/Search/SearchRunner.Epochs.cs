using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.Search;

/// <summary>The runner's per-epoch helpers: selection and early stopping, supernet evaluation, α snapshots, data order.</summary>
public sealed partial class SearchRunner
{
    private bool ShouldStopEarly(IReadOnlyList<EpochRecord> history)
    {
        if (_options.Selection != SelectionRule.BestSupernetValidationLoss || history.Count == 0) return false;
        int best = BestEpochIndex(history);
        return history.Count - 1 - best >= _options.SelectionPatience;
    }

    private static int BestEpochIndex(IReadOnlyList<EpochRecord> history)
    {
        int best = 0;
        for (int i = 1; i < history.Count; i++)
            if (history[i].ValidationLoss < history[best].ValidationLoss) best = i;
        return best;
    }

    private EpochRecord Select(IReadOnlyList<EpochRecord> history) =>
        _options.Selection == SelectionRule.BestSupernetValidationLoss ? history[BestEpochIndex(history)] : history[^1];

    private (double Loss, double Accuracy) EvaluateSupernet(Supernet supernet, ISearchDataset data, Device device, CancellationToken cancellationToken)
    {
        int count = data.Count(SearchSplit.Validation);
        int batches = (count + _options.BatchSize - 1) / _options.BatchSize;
        if (_options.EpochValidationBatches is int limit) batches = Math.Min(batches, limit);
        if (batches == 0) return (double.NaN, double.NaN);
        supernet.eval();
        double lossSum = 0;
        long correct = 0, seen = 0;
        var indices = Enumerable.Range(0, count).ToArray();
        var unused = new Random(0);
        using (torch.no_grad())
        {
            for (int b = 0; b < batches; b++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = torch.NewDisposeScope();
                int start = b * _options.BatchSize, n = Math.Min(_options.BatchSize, count - start);
                var batch = data.GetBatch(SearchSplit.Validation, indices.AsSpan(start, n), augment: false, unused, device);
                var logits = supernet.Forward(batch.Images, supernet.ArchitectureParameters(), _activation);
                lossSum += nn.functional.cross_entropy(logits, batch.Labels).to(float32).item<float>() * n;
                correct += logits.argmax(1).eq(batch.Labels).sum().item<long>();
                seen += n;
            }
        }
        supernet.train();
        return (lossSum / seen, (double)correct / seen);
    }

    internal static IReadOnlyList<double[][]> SnapshotArchitecture(IReadOnlyList<Parameter> architecture)
    {
        var result = new List<double[][]>(architecture.Count);
        foreach (var a in architecture)
        {
            using var cpu = a.detach().to(float64).cpu();
            var matrix = cpu.dim() == 1 ? cpu.unsqueeze(0) : cpu.reshape(cpu.shape[0], -1);
            using (matrix)
            {
                var values = matrix.data<double>().ToArray();
                int rows = (int)matrix.shape[0], cols = (int)matrix.shape[1];
                var rowsArray = new double[rows][];
                for (int r = 0; r < rows; r++) rowsArray[r] = values.AsSpan(r * cols, cols).ToArray();
                result.Add(rowsArray);
            }
        }
        return result;
    }

    /// <summary>Mean over edges of each edge's largest mixing weight, under the supernet's activation (edge-normalisation vectors and inactive tensors excluded).</summary>
    internal static double MeanMaxWeight(Supernet supernet, IArchitectureActivation activation)
    {
        double sum = 0;
        long rows = 0;
        using var scope = torch.NewDisposeScope();
        var architecture = supernet.ArchitectureParameters().Select(a => (Tensor)a.detach().to(float64)).ToArray();
        var mixing = supernet.MixingWeights(architecture, activation);
        for (int i = 0; i < architecture.Length; i++)
        {
            if (architecture[i].dim() != 2) continue; // edge-normalisation vectors are not op mixtures
            if (!supernet.IsArchitectureTensorActive(i)) continue; // not searched yet (ZO-DARTS++ before its switch)
            var p = mixing[i].max(-1).values;
            sum += p.sum().item<double>();
            rows += p.shape[0];
        }
        return rows == 0 ? double.NaN : sum / rows;
    }

    private static int[] NextValidationIndices(int[] order, ref int cursor, int batchSize)
    {
        int n = Math.Min(batchSize, order.Length);
        var indices = new int[n];
        for (int i = 0; i < n; i++)
        {
            indices[i] = order[cursor];
            cursor = (cursor + 1) % order.Length;
        }
        return indices;
    }

    private static int[] Permutation(int count, Random random)
    {
        var order = Enumerable.Range(0, count).ToArray();
        random.Shuffle(order);
        return order;
    }
}
