using System.Diagnostics;
using NasFlatness.Internal;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.MultiObjective.Nachos;

/// <summary>The trainer's support set: training labels, the class-balanced support split and the class centroids of the exits.</summary>
public sealed partial class EarlyExitTrainer
{
    /// <summary>The labels of the training split, read once without augmentation.</summary>
    private static int[] TrainLabels(IClassificationDataset data, Device device, int batchSize)
    {
        int count = data.Count(EvaluationSplit.Train);
        var labels = new int[count];
        var indices = Enumerable.Range(0, count).ToArray();
        for (int start = 0; start < count; start += batchSize)
        {
            using var scope = torch.NewDisposeScope();
            int n = Math.Min(batchSize, count - start);
            var batch = data.GetBatch(EvaluationSplit.Train, indices.AsSpan(start, n), augment: false, new Random(0), device);
            var values = batch.Labels.to(ScalarType.Int64).cpu().data<long>().ToArray();
            for (int i = 0; i < n; i++) labels[start + i] = (int)values[i];
        }
        return labels;
    }

    /// <summary>
    /// A class-balanced support split: ⌊fraction·n⌋ / classes examples of each class (fewer if a class has fewer), drawn in a random
    /// order; the rest is the training set of the epoch.
    /// </summary>
    internal static (int[] Support, int[] Remaining) BalancedSplit(IReadOnlyList<int> labels, int classes, double fraction, Random random)
    {
        int perClass = Math.Max(1, (int)(fraction * labels.Count) / classes);
        var order = Enumerable.Range(0, labels.Count).ToArray();
        random.Shuffle(order);
        var taken = new int[classes];
        var support = new List<int>();
        var rest = new List<int>();
        foreach (int i in order)
        {
            int y = labels[i];
            if (y >= 0 && y < classes && taken[y] < perClass)
            {
                taken[y]++;
                support.Add(i);
            }
            else
            {
                rest.Add(i);
            }
        }
        support.Sort();
        rest.Sort();
        if (rest.Count == 0) throw new ArgumentException("The support split leaves no training images; use more images or a smaller support fraction.");
        return ([.. support], [.. rest]);
    }

    /// <summary>Per-class centroids [classes × exits] on the support images (evaluation mode, no augmentation).</summary>
    private double[] Centroids<TNetwork>(TNetwork network, IClassificationDataset data, int[] support, Device device, CancellationToken cancellationToken)
        where TNetwork : nn.Module, IEarlyExitNetwork
    {
        int classes = network.ClassCount, exits = network.ExitCount;
        var sums = new double[classes * exits];
        var counts = new int[classes];
        network.SetModes(false, false);
        using var noGrad = torch.no_grad();
        for (int start = 0; start < support.Length; start += _options.TestBatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = torch.NewDisposeScope();
            int n = Math.Min(_options.TestBatchSize, support.Length - start);
            var batch = data.GetBatch(EvaluationSplit.Train, support.AsSpan(start, n), augment: false, new Random(0), device);
            var outputs = network.ForwardExits(batch.Images);
            var y = batch.Labels.to(ScalarType.Int64).cpu().data<long>().ToArray();
            for (int i = 0; i < exits; i++)
            {
                var values = _options.SupportCentroid == SupportCentroid.Confidence
                    ? outputs[i].Confidence.to(ScalarType.Float64).cpu().data<double>().ToArray()
                    : outputs[i].Logits.argmax(1).eq(batch.Labels).to(ScalarType.Float64).cpu().data<double>().ToArray();
                for (int b = 0; b < n; b++) sums[y[b] * exits + i] += values[b];
            }
            foreach (var label in y) counts[label]++;
        }
        for (int k = 0; k < classes; k++)
            for (int i = 0; i < exits; i++)
                sums[k * exits + i] = counts[k] == 0 ? 0 : sums[k * exits + i] / counts[k];
        return sums;
    }
}
