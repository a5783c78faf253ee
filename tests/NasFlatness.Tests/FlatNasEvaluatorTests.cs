using NasFlatness.Data;
using NasFlatness.Evaluation;
using NasFlatness.Genotypes;
using NasFlatness.MultiObjective;
using NasFlatness.MultiObjective.FlatNas;
using NasFlatness.MultiObjective.Nachos;
using NasFlatness.SearchSpaces.Nb201;
using Xunit;

namespace NasFlatness.Tests;

/// <summary>The trained FlatNAS candidate evaluator on a tiny real-CIFAR-10 configuration (C = 4, N = 1, 128 images, 1 epoch).</summary>
[Collection(TorchCollection.Name)]
public sealed class FlatNasEvaluatorTests
{
    private static readonly Nb201Genotype Cell = Nb201Genotype.Parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|");

    private static CifarClassificationData Data() => new(TestData.Cifar10Train, TestData.Cifar10Test,
        new CifarClassificationDataOptions { MaxTrainExamples = 128, MaxTestExamples = 1 });

    private static FlatNasEvaluatorOptions Tiny(SharpnessAwareness sharpness)
    {
        var training = FlatNasEvaluatorOptions.DefaultTraining();
        training.Epochs = 1;
        training.BatchSize = 32;
        training.Sharpness = sharpness;
        training.SharpnessRho = sharpness == SharpnessAwareness.Asam ? 2.0 : 0.05;
        return new FlatNasEvaluatorOptions
        {
            Network = new Nb201Options { Channels = 4, CellsPerStage = 1 },
            Training = training,
            Robustness = new WeightPerturbationOptions { Sigma = 0.05, Samples = 4, Seed = 3 },
            ValidationFraction = 0.25,
            Seed = 7,
        };
    }

    [Fact]
    public void MetricsAreFiniteReproducibleAndRIsTheDirectMeasurement()
    {
        using var data = Data();
        var options = Tiny(SharpnessAwareness.Asam);
        WeightPerturbationResult? direct = null;
        var evaluator = new FlatNasEvaluator(data, options);
        var details = evaluator.Train(Cell, CancellationToken.None,
            (network, split) => direct = WeightPerturbationRobustness.Measure(network, split, EvaluationSplit.Test, options.Robustness));
        var metrics = evaluator.Evaluate(Cell, CancellationToken.None);

        Assert.Equal(3, metrics.Count);
        Assert.All(metrics, m => Assert.True(double.IsFinite(m)));
        Assert.InRange(metrics[FlatNasMetrics.Error], 0, 100);
        Assert.True(metrics[FlatNasMetrics.Robustness] >= 0);
        // Parameters of the C = 16, N = 5 evaluation network (secondary-methods §6: cell 6111 has 1,073,466), not of the proxy.
        Assert.Equal(1.073466, metrics[FlatNasMetrics.Parameters], 12);
        Assert.Equal(new Nb201ResourceModel(new Nb201Options { Channels = 4, CellsPerStage = 1 }).Parameters(Cell), details.ProxyParameters);
        // R is exactly what a direct call measures on the same trained network and held-out split (32 images).
        Assert.NotNull(direct);
        Assert.Equal(direct.Robustness, details.Robustness.Robustness);
        Assert.Equal(direct.PerturbedAccuracies, details.Robustness.PerturbedAccuracies);
        Assert.Equal(100 * details.Training.TestAccuracy, direct.CleanAccuracy, 9);
        // Reproducible: the second evaluation (same evaluator) and a fresh evaluator give identical metrics.
        Assert.Equal(details.Robustness.Robustness, metrics[FlatNasMetrics.Robustness]);
        Assert.Equal(100 * (1 - details.Training.TestAccuracy), metrics[FlatNasMetrics.Error], 12);
        var again = new FlatNasEvaluator(data, options).Evaluate(Cell, CancellationToken.None);
        Assert.Equal(metrics, again);
        Assert.Single(evaluator.Details);
    }

    [Fact]
    public void SgdAndSamCandidatesDifferAndTheCorruptionReportIsKept()
    {
        using var data = Data();
        var sgd = Tiny(SharpnessAwareness.None);
        sgd.CorruptionError = (network, split, token) => MeanCorruptionError.Evaluate(network, split, CifarImages.Mean(CifarKind.Cifar10), CifarImages.Std(CifarKind.Cifar10),
            new MeanCorruptionErrorOptions { Corruptions = [Corruption.GaussianNoise, Corruption.Contrast], Severities = [3] }, token).Mean;
        var evaluator = new FlatNasEvaluator(data, sgd);
        var plain = evaluator.Train(Cell, CancellationToken.None, keep: null);
        Assert.NotNull(plain.CorruptionError);
        Assert.InRange(plain.CorruptionError!.Value, 0, 100);
        var sam = new FlatNasEvaluator(data, Tiny(SharpnessAwareness.Sam)).Train(Cell, CancellationToken.None, keep: null);
        Assert.Null(sam.CorruptionError);
        // Same initial weights and batches, different step: the trained networks differ.
        Assert.NotEqual(plain.Training.TestLoss, sam.Training.TestLoss);
        Assert.True(double.IsFinite(sam.Training.TestLoss) && double.IsFinite(sam.Robustness.Robustness));
    }

    [Fact]
    public void AFinishedCandidateCheckpointIsReusedWithIdenticalMetrics()
    {
        string root = Path.Combine(Path.GetTempPath(), "nasflatness-flatnas-eval-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var data = Data();
            var options = Tiny(SharpnessAwareness.Sam);
            options.CheckpointRoot = root;
            var first = new FlatNasEvaluator(data, options).Evaluate(Cell, CancellationToken.None);
            Assert.True(Directory.Exists(Path.Combine(root, new Nb201CandidateEncoding().Key(Cell))));
            // A new evaluator (e.g. after a killed search) restores the trained weights instead of training again: same error and R.
            var restored = new FlatNasEvaluator(data, options);
            var second = restored.Evaluate(Cell, CancellationToken.None);
            Assert.Equal(first, second);
            Assert.Single(restored.Details.Single().Value.Training.Epochs);
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void CancelledEvaluationThrowsAndInvalidOptionsAreNamed()
    {
        using var data = Data();
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => new FlatNasEvaluator(data, Tiny(SharpnessAwareness.Sam)).Evaluate(Cell, cts.Token));
        var bad = Tiny(SharpnessAwareness.Sam);
        bad.ValidationFraction = 1;
        bad.Robustness.Samples = 0;
        var error = Assert.Throws<ArgumentException>(() => new FlatNasEvaluator(data, bad));
        Assert.Contains("ValidationFraction", error.Message);
        Assert.Contains("Robustness.Samples", error.Message);
    }
}
