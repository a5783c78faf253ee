using NasFlatness.Data;
using NasFlatness.Evaluation;
using NasFlatness.Genotypes;
using NasFlatness.Optimizers;
using NasFlatness.Search;
using NasFlatness.SearchSpaces.Darts;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace NasFlatness.SearchSpaces.Tests;

/// <summary>End-to-end checks on real CIFAR-10 data, CPU-sized.</summary>
[Collection(TorchCollection.Name)]
public sealed class DartsCifarTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ShortSearchMovesAlphaAndYieldsAValidGenotype(bool pcDarts)
    {
        var spaceOptions = pcDarts
            ? new DartsSpaceOptions { Channels = 8, Cells = 3, PartialChannels = 4, EdgeNormalization = true }
            : new DartsSpaceOptions { Channels = 4, Cells = 3 };
        var space = new DartsSearchSpace(spaceOptions);
        using var data = new CifarSearchData(TestData.Cifar10Train, new CifarSearchDataOptions { MaxTrainExamples = 64, MaxValidationExamples = 64 });
        var options = new SearchOptions { Epochs = 1, BatchSize = 32, Seed = 3, ArchitectureLearningRate = 3e-2, EpochValidationBatches = 1 };
        var runner = new SearchRunner(space, new DartsFirstOrder(), options: options);
        var result = runner.Run(data);
        var genotype = Assert.IsType<DartsGenotype>(result.Genotype);
        output.WriteLine(genotype.ToString());
        Assert.Equal(genotype, DartsGenotype.Parse(genotype.ToString()));
        Assert.DoesNotContain(genotype.Normal.Concat(genotype.Reduce), e => e.Operation == "none");
        var alpha = result.Epochs[^1].Architecture;
        Assert.Equal(pcDarts ? 4 : 2, alpha.Count);
        // Initial α is 1e-3·N(0,1); two Adam steps of lr 3e-2 move entries by ~0.06.
        double maxAbs = alpha.Take(2).SelectMany(m => m).SelectMany(r => r).Max(Math.Abs);
        Assert.True(maxAbs > 0.02, $"α barely moved: max |α| = {maxAbs}");
        Assert.True(double.IsFinite(result.Epochs[^1].TrainLoss));
    }

    private static CifarClassificationData Data(int train, int test, int cutout = 16) =>
        new(TestData.Cifar10Train, TestData.Cifar10Test, new CifarClassificationDataOptions { MaxTrainExamples = train, MaxTestExamples = test, CutoutLength = cutout });

    private static DartsNetwork TinyNetwork(int seed)
    {
        torch.manual_seed(seed);
        var space = new DartsSearchSpace(new DartsSpaceOptions { NetworkChannels = 8, NetworkCells = 3 });
        return space.CreateDartsNetwork(DartsGenotype.DartsV2, DatasetInfo.Cifar10);
    }

    [Fact]
    public void TrainerReducesTheTrainingLossOfASmallNetwork()
    {
        using var data = Data(256, 200);
        using var net = TinyNetwork(1);
        var trainer = new EvaluationTrainer(new EvaluationOptions { Epochs = 4, BatchSize = 32, LearningRate = 0.05, TestBatchSize = 100, Seed = 1 });
        var reports = new List<EvaluationProgress>();
        var result = trainer.Train(net, data, new SyncProgress<EvaluationProgress>(reports.Add));
        foreach (var e in result.Epochs) output.WriteLine($"epoch {e.Epoch}: lr {e.LearningRate:F4} drop {e.DropPathProbability:F3} loss {e.TrainLoss:F4} acc {e.TrainAccuracy:P1}");
        output.WriteLine($"test acc {result.TestAccuracy:P1}, loss {result.TestLoss:F3}, params {result.ParameterCountWithoutAuxiliary:N0} (+aux {result.ParameterCount - result.ParameterCountWithoutAuxiliary:N0})");
        Assert.Equal(4, result.Epochs.Count);
        Assert.True(result.Epochs[^1].TrainLoss < result.Epochs[0].TrainLoss - 0.05, "training loss did not decrease");
        Assert.Equal(0.0, result.Epochs[0].DropPathProbability);
        Assert.Equal(0.2 * 3 / 4, result.Epochs[3].DropPathProbability, 12);
        Assert.Equal(0.05, result.Epochs[0].LearningRate, 12);
        Assert.InRange(result.TestAccuracy, 0.0, 1.0);
        Assert.True(double.IsFinite(result.TestLoss));
        Assert.Equal(4 * 8 + 4, reports.Count); // 8 batches per epoch + one end-of-epoch report each
        Assert.Equal(NetworkSize.CountParameters(net, excludeAuxiliary: true), result.ParameterCountWithoutAuxiliary);
    }

    [Fact]
    public void ResumedTrainingEqualsAnUninterruptedRun()
    {
        using var data = Data(96, 64);
        var dir = Path.Combine(Path.GetTempPath(), "nasflatness-eval-" + Guid.NewGuid().ToString("N"));
        try
        {
            EvaluationOptions Options(string? checkpoint) => new() { Epochs = 2, BatchSize = 32, LearningRate = 0.05, TestBatchSize = 64, Seed = 5, CheckpointDirectory = checkpoint };

            using var straight = TinyNetwork(7);
            var expected = new EvaluationTrainer(Options(null)).Train(straight, data);

            using var interrupted = TinyNetwork(7);
            using var cts = new CancellationTokenSource();
            Assert.Throws<OperationCanceledException>(() => new EvaluationTrainer(Options(dir)).Train(interrupted, data,
                new SyncProgress<EvaluationProgress>(p => { if (p.CompletedEpoch is not null) cts.Cancel(); }), cts.Token));
            Assert.True(File.Exists(Path.Combine(dir, "evaluation.json")));

            using var resumed = TinyNetwork(99); // different initial weights: the checkpoint must replace them
            var actual = new EvaluationTrainer(Options(dir)).Train(resumed, data);

            Assert.Equal(2, actual.Epochs.Count);
            for (int i = 0; i < 2; i++) Assert.Equal(expected.Epochs[i].TrainLoss, actual.Epochs[i].TrainLoss, 6);
            Assert.Equal(expected.TestAccuracy, actual.TestAccuracy, 6);
            var a = straight.state_dict();
            var b = resumed.state_dict();
            Assert.Equal(a.Keys, b.Keys);
            foreach (var key in a.Keys) Assert.True(a[key].allclose(b[key], 1e-5, 1e-6), $"{key} differs");
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void TrainerRejectsADatasetThatDoesNotFitTheNetwork()
    {
        using var net = TinyNetwork(1);
        using var data = new FakeData(new DatasetInfo(3, 32, 32, 100));
        var ex = Assert.Throws<ArgumentException>(() => new EvaluationTrainer(new EvaluationOptions { Epochs = 1 }).Train(net, data));
        Assert.Contains("100 classes", ex.Message, StringComparison.Ordinal);
        using var small = new FakeData(new DatasetInfo(3, 8, 8, 10));
        var before = net.state_dict().ToDictionary(p => p.Key, p => p.Value.clone());
        ex = Assert.Throws<ArgumentException>(() => new EvaluationTrainer(new EvaluationOptions { Epochs = 1 }).Train(net, small));
        Assert.Contains("cannot process the dataset's images (3x8x8, 10 classes", ex.Message, StringComparison.Ordinal);
        foreach (var (key, value) in net.state_dict()) Assert.True(value.equal(before[key]).all().item<bool>(), $"{key} changed by the check");
        Assert.Throws<ArgumentException>(() => new EvaluationTrainer(new EvaluationOptions { Epochs = 0 }));
    }

    [Fact]
    public void CutoutZeroesOneClippedSquarePerImage()
    {
        using var images = torch.ones(50, 3, 32, 32);
        using var cut = Cutout.Apply(images, 16, new Random(4));
        var zeros = cut.eq(0).sum([1, 2, 3]).data<long>().ToArray();
        Assert.All(zeros, z => Assert.InRange(z, 3 * 8 * 8, 3 * 16 * 16));
        Assert.All(zeros, z => Assert.Equal(0, z % 3));
        Assert.Contains(zeros, z => z == 3 * 16 * 16);
        using var again = Cutout.Apply(images, 16, new Random(4));
        Assert.True(cut.eq(again).all().item<bool>());
    }

    [Fact]
    public void ClassificationDataAugmentsOnlyTheTrainingSplit()
    {
        using var data = Data(64, 32);
        Assert.Equal(64, data.Count(EvaluationSplit.Train));
        Assert.Equal(32, data.Count(EvaluationSplit.Test));
        using var scope = torch.NewDisposeScope();
        int[] idx = [0, 1, 2, 3];
        var t1 = data.GetBatch(EvaluationSplit.Test, idx, augment: false, new Random(1), torch.CPU);
        var t2 = data.GetBatch(EvaluationSplit.Test, idx, augment: false, new Random(2), torch.CPU);
        Assert.True(t1.Images.eq(t2.Images).all().item<bool>());
        Assert.Equal(TestData.Cifar10Test.Labels.Take(4).Select(l => (long)l), t1.Labels.data<long>().ToArray());
        var a1 = data.GetBatch(EvaluationSplit.Train, idx, augment: true, new Random(1), torch.CPU);
        var a2 = data.GetBatch(EvaluationSplit.Train, idx, augment: true, new Random(1), torch.CPU);
        var a3 = data.GetBatch(EvaluationSplit.Train, idx, augment: true, new Random(2), torch.CPU);
        Assert.True(a1.Images.eq(a2.Images).all().item<bool>());
        Assert.False(a1.Images.eq(a3.Images).all().item<bool>());
        Assert.Equal(new long[] { 4, 3, 32, 32 }, a1.Images.shape);
        Assert.Throws<ArgumentOutOfRangeException>(() => data.GetBatch(EvaluationSplit.Test, [32], false, new Random(1), torch.CPU));
    }

    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    private sealed class FakeData(DatasetInfo info) : IClassificationDataset
    {
        public DatasetInfo Info => info;

        public int Count(EvaluationSplit split) => 8;

        public Batch GetBatch(EvaluationSplit split, ReadOnlySpan<int> indices, bool augment, Random random, Device device) =>
            new(torch.randn(indices.Length, info.Channels, info.Height, info.Width), torch.zeros(indices.Length, dtype: int64));

        public void Dispose()
        {
        }
    }
}
