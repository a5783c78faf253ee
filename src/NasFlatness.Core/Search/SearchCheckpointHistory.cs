using System.Globalization;

namespace NasFlatness.Search;

/// <summary>
/// The range checks of a checkpoint's epoch history: every number a resumed search republishes (losses, accuracies,
/// learning rate, durations, α snapshots) is checked on load, so a damaged or edited manifest is one
/// <see cref="InvalidDataException"/> naming the epoch and field, never a later overflow or a published <c>Alpha = []</c>.
/// </summary>
internal sealed partial class SearchCheckpoint
{
    private void ValidateHistory(Action<bool, string> require)
    {
        static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
        static bool Fraction(double x) => x is >= 0 and <= 1;
        static bool FractionOrNaN(double x) => double.IsNaN(x) || Fraction(x);
        int[][]? firstShape = null;
        for (int i = 0; i < History.Count; i++)
        {
            var e = History[i];
            require(e is not null, $"History[{i}] is null");
            require(e!.Epoch == i, F($"History[{i}].Epoch = {e.Epoch}, expected {i}"));
            require(e.Genotype is not null, $"History[{i}].Genotype is missing");
            require(e.Steps >= 1, F($"History[{i}].Steps = {e.Steps} is not positive"));
            require(e.ArchitectureUpdates >= 0 && e.ArchitectureUpdates <= e.Steps,
                F($"History[{i}].ArchitectureUpdates = {e.ArchitectureUpdates} is outside 0..{e.Steps} (its Steps)"));
            require(double.IsFinite(e.TrainLoss) && e.TrainLoss >= 0, F($"History[{i}].TrainLoss = {e.TrainLoss} is not a finite non-negative loss"));
            require(Fraction(e.TrainAccuracy), F($"History[{i}].TrainAccuracy = {e.TrainAccuracy} is outside 0..1"));
            require(double.IsNaN(e.ValidationLoss) || (double.IsFinite(e.ValidationLoss) && e.ValidationLoss >= 0),
                F($"History[{i}].ValidationLoss = {e.ValidationLoss} is not a finite non-negative loss (or NaN when not evaluated)"));
            require(FractionOrNaN(e.ValidationAccuracy), F($"History[{i}].ValidationAccuracy = {e.ValidationAccuracy} is outside 0..1"));
            require(FractionOrNaN(e.MeanMaxWeight), F($"History[{i}].MeanMaxWeight = {e.MeanMaxWeight} is outside 0..1"));
            require(double.IsFinite(e.WeightLearningRate) && e.WeightLearningRate >= 0,
                F($"History[{i}].WeightLearningRate = {e.WeightLearningRate} is not a finite non-negative rate"));
            require(e.Duration >= TimeSpan.Zero && e.Duration.TotalSeconds <= Checkpoints.CheckpointFiles.MaxDurationSeconds,
                F($"History[{i}].Duration = {e.Duration} is not a run time of 0 to 100 years"));
            require(e.Metrics is not null, $"History[{i}].Metrics is null");
            var shape = ArchitectureShape(e.Architecture, i, require);
            if (firstShape is null) firstShape = shape;
            else require(SameShape(firstShape, shape),
                F($"History[{i}].Architecture has the shape {Describe(shape)} but History[0].Architecture has {Describe(firstShape)}"));
        }
    }

    /// <summary>The rows × columns of each α snapshot tensor of an epoch, after checking it is non-empty, rectangular and finite.</summary>
    private static int[][] ArchitectureShape(IReadOnlyList<double[][]>? architecture, int epoch, Action<bool, string> require)
    {
        require(architecture is { Count: > 0 }, $"History[{epoch}].Architecture is missing or empty (an epoch records every α tensor)");
        var shape = new int[architecture!.Count][];
        for (int t = 0; t < architecture.Count; t++)
        {
            var rows = architecture[t];
            require(rows is { Length: > 0 } && rows.All(r => r is { Length: > 0 }),
                $"History[{epoch}].Architecture[{t}] (α tensor {t} of epoch {epoch + 1}) is missing, empty or holds an empty or null row");
            require(rows!.All(r => r.Length == rows[0].Length),
                $"History[{epoch}].Architecture[{t}] (α tensor {t} of epoch {epoch + 1}) has rows of different lengths");
            require(rows.All(r => r.All(double.IsFinite)), $"History[{epoch}].Architecture[{t}] (α tensor {t} of epoch {epoch + 1}) holds a non-finite value");
            shape[t] = [rows.Length, rows[0].Length];
        }
        return shape;
    }

    /// <summary>
    /// Refuses a history whose α snapshots do not have the shapes of <paramref name="architecture"/> (the supernet's α tensors
    /// as the runner snapshots them), naming the epoch and tensor: such a checkpoint is damaged, and resuming from it would
    /// publish a wrong α.
    /// </summary>
    /// <param name="directory">The checkpoint folder (for the message).</param>
    /// <param name="architecture">The supernet's α tensors.</param>
    public void RequireArchitectureShapes(string directory, IReadOnlyList<TorchSharp.Modules.Parameter> architecture)
    {
        var expected = architecture.Select(a => a.dim() == 1 ? new[] { 1, (int)a.shape[0] } : [(int)a.shape[0], (int)(a.numel() / Math.Max(1, a.shape[0]))]).ToArray();
        for (int i = 0; i < History.Count; i++)
        {
            var saved = History[i].Architecture;
            for (int t = 0; t < Math.Max(saved.Count, expected.Length); t++)
            {
                string? problem = t >= expected.Length ? $"holds α tensor {t} but the supernet has {expected.Length} α tensors"
                    : t >= saved.Count ? $"has {saved.Count} α tensors but the supernet has {expected.Length}"
                    : saved[t].Length != expected[t][0] || saved[t][0].Length != expected[t][1]
                        ? F($"[{t}] is {saved[t].Length}×{saved[t][0].Length} but the supernet's α tensor {t} is {expected[t][0]}×{expected[t][1]}")
                        : null;
                if (problem is not null)
                    throw new InvalidDataException(
                        $"Checkpoint manifest '{ManifestPath(directory)}' is corrupt: History[{i}].Architecture{(problem[0] == '[' ? "" : " ")}{problem} (epoch {i + 1}). Delete the folder or choose another checkpoint folder to start over.");
            }
        }

        static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
    }

    private static bool SameShape(int[][] a, int[][] b) => a.Length == b.Length && a.Zip(b).All(p => p.First.SequenceEqual(p.Second));

    private static string Describe(int[][] shape) => "[" + string.Join(", ", shape.Select(s => $"{s[0]}×{s[1]}")) + "]";
}
