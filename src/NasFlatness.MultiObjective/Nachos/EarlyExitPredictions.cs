using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.MultiObjective.Nachos;

/// <summary>
/// What threshold tuning needs from a trained early-exit network on a held-out set: for every sample and exit, the exit's
/// confidence and whether its argmax is correct. Tuning then needs no further forward passes.
/// </summary>
public sealed class EarlyExitPredictions
{
    private readonly double[] _confidences;
    private readonly bool[] _correct;

    /// <summary>Creates the predictions from row-major arrays.</summary>
    /// <param name="confidences">Per sample and exit, confidence c in [0, 1] (the last exit's is taken as 1 whatever is given); row-major [samples, exits].</param>
    /// <param name="correct">Per sample and exit, whether the exit's prediction is right; same layout.</param>
    /// <param name="exitCount">Exits per sample (at least 1).</param>
    /// <exception cref="ArgumentException">The arrays do not have the same length, a multiple of <paramref name="exitCount"/>, or a confidence is outside [0, 1].</exception>
    public EarlyExitPredictions(IReadOnlyList<double> confidences, IReadOnlyList<bool> correct, int exitCount)
    {
        ArgumentNullException.ThrowIfNull(confidences);
        ArgumentNullException.ThrowIfNull(correct);
        ArgumentOutOfRangeException.ThrowIfLessThan(exitCount, 1);
        if (confidences.Count != correct.Count || confidences.Count % exitCount != 0 || confidences.Count == 0)
            throw new ArgumentException($"Expected two non-empty arrays of samples × {exitCount} exits, got {confidences.Count} confidences and {correct.Count} correctness flags.", nameof(confidences));
        if (confidences.Any(c => !(c is >= 0 and <= 1)))
            throw new ArgumentException("Every confidence must be in [0, 1].", nameof(confidences));
        _confidences = [.. confidences];
        _correct = [.. correct];
        ExitCount = exitCount;
        Count = confidences.Count / exitCount;
    }

    /// <summary>Exits per sample.</summary>
    public int ExitCount { get; }

    /// <summary>Samples.</summary>
    public int Count { get; }

    /// <summary>Confidence of exit <paramref name="exit"/> on sample <paramref name="sample"/> (1 for the last exit).</summary>
    public double Confidence(int sample, int exit) => exit == ExitCount - 1 ? 1.0 : _confidences[sample * ExitCount + exit];

    /// <summary>Whether exit <paramref name="exit"/> classifies sample <paramref name="sample"/> correctly.</summary>
    public bool IsCorrect(int sample, int exit) => _correct[sample * ExitCount + exit];

    /// <summary>Runs <paramref name="network"/> in evaluation mode over <paramref name="split"/> of <paramref name="data"/> (no augmentation) and records every exit.</summary>
    /// <param name="network">The trained early-exit network (its modes are restored).</param>
    /// <param name="data">The data.</param>
    /// <param name="split">Which split to run (a held-out validation set for tuning).</param>
    /// <param name="batchSize">Evaluation batch size.</param>
    /// <param name="device">Device of the network.</param>
    /// <param name="cancellationToken">Checked before every batch.</param>
    public static EarlyExitPredictions Collect<TNetwork>(TNetwork network, IClassificationDataset data, EvaluationSplit split, int batchSize, Device device, CancellationToken cancellationToken = default)
        where TNetwork : nn.Module, IEarlyExitNetwork
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        int count = data.Count(split);
        if (count == 0) throw new ArgumentException($"The {split} split is empty.", nameof(data));
        int exits = network.ExitCount;
        var confidences = new double[count * exits];
        var correct = new bool[count * exits];
        var indices = Enumerable.Range(0, count).ToArray();
        bool wasTraining = network.training;
        try
        {
            network.eval();
            using var noGrad = torch.no_grad();
            for (int start = 0; start < count; start += batchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = torch.NewDisposeScope();
                int n = Math.Min(batchSize, count - start);
                var batch = data.GetBatch(split, indices.AsSpan(start, n), augment: false, new Random(0), device);
                var outputs = network.ForwardExits(batch.Images);
                for (int i = 0; i < exits; i++)
                {
                    var c = outputs[i].Confidence.to(ScalarType.Float64).cpu().data<double>().ToArray();
                    var ok = outputs[i].Logits.argmax(1).eq(batch.Labels).cpu().data<bool>().ToArray();
                    for (int b = 0; b < n; b++)
                    {
                        confidences[(start + b) * exits + i] = c[b];
                        correct[(start + b) * exits + i] = ok[b];
                    }
                }
            }
        }
        finally
        {
            network.train(wasTraining);
        }
        return new EarlyExitPredictions(confidences, correct, exits);
    }
}
