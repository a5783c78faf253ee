using NasFlatness.Advanced;
using System.Diagnostics;
using NasFlatness.Genotypes;
using NasFlatness.Optimizers;
using NasFlatness.Search;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;

namespace NasFlatness.Tests;

[Collection(TorchCollection.Name)]
public sealed class SearchRunnerTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("nasflatness-search-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private static double[] Flat(EpochRecord e) => e.Architecture.SelectMany(m => m.SelectMany(r => r)).ToArray();

    private static double[] InitialAlpha(SearchOptions options)
    {
        torch.manual_seed(options.Seed);
        using var net = Tiny.Space().CreateSupernet(DatasetInfo.Cifar10);
        return net.ArchitectureParameters()[0].to(torch.float64).data<double>().ToArray();
    }

    [Fact]
    public void SearchLogsWhichCpuConvolutionKernelsItUses()
    {
        using var data = Tiny.Data(train: 32, valid: 32);
        var logger = new ListLogger();
        new SearchRunner(Tiny.Space(), new DartsFirstOrder(), options: Tiny.Options(epochs: 1), logger: logger).Run(data);
        var line = Assert.Single(logger.Lines, l => l.StartsWith("CPU convolutions: ", StringComparison.Ordinal));
        // Whatever this machine's oneDNN does, the log says what the search ran on, and why when it is native.
        if (TorchRuntime.OneDnnDisabled)
            Assert.StartsWith("CPU convolutions: libtorch native", line);
        else
            Assert.Equal("CPU convolutions: oneDNN (every convolution shape of the supernet verified)", line);
        if (TorchRuntime.OneDnnFailure is { } why) Assert.Contains(why, line);
        TorchRuntime.EnsureCorrectCpuKernels();
    }

    private sealed class ListLogger : Microsoft.Extensions.Logging.ILogger<SearchRunner>
    {
        public List<string> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add(formatter(state, exception));
    }

    [Fact]
    public void SearchMovesAlphaAndRecordsEveryEpoch()
    {
        using var data = Tiny.Data();
        var options = Tiny.Options(epochs: 2);
        var result = new SearchRunner(Tiny.Space(), new DartsFirstOrder(), options: options).Run(data);

        Assert.Equal(2, result.Epochs.Count);
        Assert.All(result.Epochs, e => Assert.Equal(8, e.Steps)); // 256 images / batch 32
        var initial = InitialAlpha(options);
        var after1 = Flat(result.Epochs[0]);
        var after2 = Flat(result.Epochs[1]);
        double moved1 = initial.Zip(after1, (a, b) => Math.Abs(a - b)).Max();
        double moved2 = after1.Zip(after2, (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine($"max |Δα| epoch 1: {moved1:G4}, epoch 2: {moved2:G4}; genotype {result.Genotype}");
        // 8 Adam steps of lr 0.03 move some logit by much more than its 1e-3 initial scale.
        Assert.True(moved1 > 0.05, $"α moved only {moved1}");
        Assert.True(moved2 > 0.05, $"α moved only {moved2}");
        Assert.Equal(result.Epochs[^1].Genotype, result.Genotype);
        Assert.Equal(Nb201SearchSpaceDerive(after2), result.Genotype);
        Assert.All(result.Epochs, e => Assert.True(double.IsFinite(e.TrainLoss) && double.IsFinite(e.ValidationLoss)));
        Assert.InRange(result.Epochs[^1].MeanMaxWeight, 0.2, 1.0);
    }

    private static Genotype Nb201SearchSpaceDerive(double[] alpha)
    {
        using var t = torch.tensor(alpha, [6, 5]);
        return NasFlatness.SearchSpaces.Nb201.Nb201SearchSpace.Derive(t);
    }

    [Fact]
    public void WarmupEpochsLeaveAlphaUntouched()
    {
        using var data = Tiny.Data(train: 64, valid: 64);
        var options = Tiny.Options(epochs: 2);
        options.WarmupEpochs = 1;
        var result = new SearchRunner(Tiny.Space(), new DartsFirstOrder(), options: options).Run(data);
        Assert.Equal(InitialAlpha(options), Flat(result.Epochs[0]));
        Assert.False(result.Epochs[0].ArchitectureUpdated);
        Assert.NotEqual(Flat(result.Epochs[0]), Flat(result.Epochs[1]));
    }

    [Fact]
    public void SameSeedGivesTheSameGenotypeAndAlpha()
    {
        using var data = Tiny.Data(train: 128, valid: 128);
        SearchResult Run(int seed) => new SearchRunner(Tiny.Space(), new DartsFirstOrder(), options: Tiny.Options(epochs: 2, seed: seed)).Run(data);
        var a = Run(5);
        var b = Run(5);
        var c = Run(6);
        Assert.Equal(a.Genotype, b.Genotype);
        for (int e = 0; e < a.Epochs.Count; e++)
        {
            Assert.Equal(Flat(a.Epochs[e]), Flat(b.Epochs[e]));
            Assert.Equal(a.Epochs[e].TrainLoss, b.Epochs[e].TrainLoss);
        }
        Assert.NotEqual(Flat(a.Epochs[^1]), Flat(c.Epochs[^1]));
    }

    [Fact]
    public void InterruptedSearchResumesToTheSameResult()
    {
        using var data = Tiny.Data(train: 128, valid: 128);
        var uninterrupted = new SearchRunner(Tiny.Space(), new DartsFirstOrder(), options: Tiny.Options(epochs: 3)).Run(data);

        var options = Tiny.Options(epochs: 3);
        options.CheckpointDirectory = Path.Combine(_temp, "ckpt");
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress(p =>
        {
            if (p.Epoch == 1 && p.Step == 2) cts.Cancel();
        });
        Assert.Throws<OperationCanceledException>(() => new SearchRunner(Tiny.Space(), new DartsFirstOrder(), options: options).Run(data, progress, cts.Token));
        Assert.True(File.Exists(Path.Combine(options.CheckpointDirectory, "checkpoint.json")));
        Assert.Empty(Directory.GetFiles(options.CheckpointDirectory, "*.tmp"));

        var resumed = new SearchRunner(Tiny.Space(), new DartsFirstOrder(), options: options).Run(data);
        foreach (var (u, r) in uninterrupted.Epochs.Zip(resumed.Epochs))
            output.WriteLine($"{u.Epoch}: {u.TrainLoss} {u.MeanMaxWeight} {u.Genotype} | {r.TrainLoss} {r.MeanMaxWeight} {r.Genotype}");
        Assert.Equal(3, resumed.Epochs.Count);
        Assert.Equal(uninterrupted.Genotype, resumed.Genotype);
        for (int e = 0; e < 3; e++)
        {
            Assert.Equal(Flat(uninterrupted.Epochs[e]), Flat(resumed.Epochs[e]));
            Assert.Equal(uninterrupted.Epochs[e].TrainLoss, resumed.Epochs[e].TrainLoss);
        }

        // A finished checkpoint resumes to the same result without more steps.
        var again = new SearchRunner(Tiny.Space(), new DartsFirstOrder(), options: options).Run(data);
        Assert.Equal(resumed.Genotype, again.Genotype);
    }

    [Fact]
    public void CheckpointOfAnotherConfigurationIsRefused()
    {
        using var data = Tiny.Data(train: 32, valid: 32);
        var options = Tiny.Options(epochs: 1);
        options.CheckpointDirectory = Path.Combine(_temp, "ckpt");
        new SearchRunner(Tiny.Space(), new DartsFirstOrder(), options: options).Run(data);
        options.Seed = 99;
        var ex = Assert.Throws<CheckpointMismatchException>(() => new SearchRunner(Tiny.Space(), new DartsFirstOrder(), options: options).Run(data));
        Assert.Contains("Seed = 1", ex.Message);
        Assert.Contains("uses 99", ex.Message);
    }

    [Fact]
    public void BestValidationLossRuleSelectsTheLowestEpochAndStopsEarly()
    {
        using var data = Tiny.Data(train: 64, valid: 64);
        var options = Tiny.Options(epochs: 6);
        options.Selection = SelectionRule.BestSupernetValidationLoss;
        options.SelectionPatience = 1;
        options.WeightLearningRate = 0.5; // unstable on purpose, so the validation loss does not fall every epoch
        options.WeightLearningRateMin = 0.5;
        var result = new SearchRunner(Tiny.Space(), new DartsFirstOrder(), options: options).Run(data);
        int best = result.Epochs.Select((e, i) => (e.ValidationLoss, i)).Min().i;
        Assert.Equal(best, result.SelectedEpoch);
        Assert.Equal(result.Epochs[best].Genotype, result.Genotype);
        if (result.StoppedEarly) Assert.Equal(best + 2, result.Epochs.Count);
        else Assert.Equal(6, result.Epochs.Count);
    }

    [Theory]
    [InlineData("Epochs", "Epochs = 0 is invalid")]
    [InlineData("BatchSize", "BatchSize = -1 is invalid")]
    [InlineData("Device", "Device = gpu is invalid")]
    [InlineData("Warmup", "WarmupEpochs = 60 is invalid")]
    public void InvalidOptionsAreRejectedBeforeAnyCompute(string which, string expected)
    {
        var options = new SearchOptions();
        switch (which)
        {
            case "Epochs": options.Epochs = 0; break;
            case "BatchSize": options.BatchSize = -1; break;
            case "Device": options.Device = "gpu"; break;
            default: options.WarmupEpochs = 60; break;
        }
        var ex = Assert.Throws<ArgumentException>(() => new SearchRunner(Tiny.Space(), new DartsFirstOrder(), options: options));
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void CudaOnACpuMachineIsAClearError()
    {
        if (torch.cuda.is_available()) return; // only meaningful without CUDA
        using var data = Tiny.Data(train: 32, valid: 32);
        var options = Tiny.Options(epochs: 1);
        options.Device = "cuda";
        var ex = Assert.Throws<ArgumentException>(() => new SearchRunner(Tiny.Space(), new DartsFirstOrder(), options: options).Run(data));
        Assert.Contains("CUDA is not available", ex.Message);
    }

    [Fact]
    public void MemoryStaysFlatOverThreeHundredSteps()
    {
        using var data = Tiny.Data(train: 512, valid: 512);
        var options = Tiny.Options(epochs: 12);
        options.BatchSize = 16;
        options.EpochValidationBatches = 0;
        var samples = new List<(long Step, long Rss)>();
        long step = 0;
        var progress = new SyncProgress(p =>
        {
            step++;
            if (step % 25 == 0)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                using var self = Process.GetCurrentProcess();
                samples.Add((step, self.WorkingSet64));
            }
        });
        new SearchRunner(Tiny.Space(), new DartsSecondOrder(), options: options).Run(data, progress);
        // 12 epochs × 32 steps = 384 steps; compare the end with step 75 (after warm-up).
        var warm = samples.First(s => s.Step >= 75);
        var end = samples[^1];
        output.WriteLine(string.Join(", ", samples.Select(s => $"{s.Step}:{s.Rss / 1048576}MB")));
        Assert.True(end.Step - warm.Step >= 300);
        Assert.True(end.Rss <= warm.Rss * 1.05, $"RSS grew from {warm.Rss / 1048576} MB at step {warm.Step} to {end.Rss / 1048576} MB at step {end.Step}");
    }
}

/// <summary>Synchronous progress (Progress&lt;T&gt; posts to the thread pool).</summary>
internal sealed class SyncProgress(Action<SearchProgress> report) : IProgress<SearchProgress>
{
    public void Report(SearchProgress value) => report(value);
}
