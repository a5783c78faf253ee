using NasFlatness.Optimizers;
using NasFlatness.Search;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;

namespace NasFlatness.Tests;

/// <summary>The constrained-DARTS components (DARTS-PRIME) inside real tiny NAS-Bench-201 searches.</summary>
[Collection(TorchCollection.Name)]
public sealed class ConstrainedSearchTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("nasflatness-constrained-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private static double[] Flat(EpochRecord e) => e.Architecture.SelectMany(m => m.SelectMany(r => r)).ToArray();

    // θ × 4 after a minibatch without an α step, ÷ 4 after one: decisions alternate for any average between θ/4 and 4θ,
    // so a 6-step search has both answers whatever the gradient norms are.
    private static DynamicScheduleOptions Lively() => new() { InitialThreshold = 1, Multiplier = 4, Frequency = 1 };

    private sealed class WeightSteps : ISearchObserver
    {
        public List<WeightStep> Steps { get; } = [];

        public void OnWeightStep(WeightStep step) => Steps.Add(step with { Train = default, Supernet = null! });
    }

    [Fact]
    public void RunnerUpdatesAlphaExactlyWhenTheDynamicRuleSays()
    {
        using var data = Tiny.Data(train: 64, valid: 64);
        var recorder = new WeightSteps();
        var schedule = new DynamicUpdateSchedule(Lively());
        var result = new SearchRunner(Tiny.Space(), new DartsFirstOrder(), options: Tiny.Options(epochs: 3))
        {
            Schedule = schedule,
            Observers = [recorder],
        }.Run(data);

        // Replay the rule independently from the gradient norms the runner reported (before clipping).
        double theta = 1, e = -1;
        var expected = new List<bool>();
        foreach (var s in recorder.Steps)
        {
            bool update = e > 0 && e < theta;
            theta *= update ? Math.Pow(4, -1) : 4;
            expected.Add(update);
            double fi = s.GradientNorm * s.GradientNorm;
            e = e == -1 ? fi : 0.2 * fi + 0.8 * e;
        }
        output.WriteLine(string.Join(", ", recorder.Steps.Select(s => $"{s.Clock.GlobalStep}: |g| {s.GradientNorm:F3} α {s.ArchitectureUpdated}")));
        Assert.Equal(6, recorder.Steps.Count);
        Assert.Equal(expected, recorder.Steps.Select(s => s.ArchitectureUpdated));
        Assert.Contains(true, expected);
        Assert.Contains(false, expected);
        Assert.False(expected[0]); // no average before the first weight step
        for (int epoch = 0; epoch < 3; epoch++)
            Assert.Equal(expected.Skip(2 * epoch).Take(2).Count(x => x), result.Epochs[epoch].ArchitectureUpdates);
        Assert.Equal(expected.Count(x => x), schedule.ArchitectureSteps);

        // α moved only on the steps with an update: the epochs without one keep α.
        for (int epoch = 1; epoch < 3; epoch++)
            if (result.Epochs[epoch].ArchitectureUpdates == 0) Assert.Equal(Flat(result.Epochs[epoch - 1]), Flat(result.Epochs[epoch]));
    }

    private static readonly Lazy<NasFlatness.Data.CifarSearchData> SharedData = new(() => Tiny.Data(train: 64, valid: 64));

    private static NasFlatness.Data.CifarSearchData Data => SharedData.Value;

    private (SearchResult Uninterrupted, SearchResult Resumed) RunTwice(Func<SearchOptions, SearchRunner> create, Action<SearchRunner, SearchRunner> compareState)
    {
        var plain = create(Tiny.Options(epochs: 3));
        var uninterrupted = plain.Run(Data);

        var options = Tiny.Options(epochs: 3);
        options.CheckpointDirectory = Path.Combine(_temp, Guid.NewGuid().ToString("N"));
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress(p =>
        {
            if (p.Epoch == 1 && p.Step == 1) cts.Cancel();
        });
        Assert.Throws<OperationCanceledException>(() => create(options).Run(Data, progress, cts.Token));
        Assert.True(File.Exists(Path.Combine(options.CheckpointDirectory, "checkpoint.json")));

        var again = create(options);
        var resumed = again.Run(Data);
        foreach (var (u, r) in uninterrupted.Epochs.Zip(resumed.Epochs))
            output.WriteLine($"{u.Epoch}: {u.TrainLoss} α-steps {u.ArchitectureUpdates} {u.Genotype} | {r.TrainLoss} α-steps {r.ArchitectureUpdates} {r.Genotype}");
        Assert.Equal(3, resumed.Epochs.Count);
        Assert.Equal(uninterrupted.Genotype, resumed.Genotype);
        for (int e = 0; e < 3; e++)
        {
            Assert.Equal(Flat(uninterrupted.Epochs[e]), Flat(resumed.Epochs[e]));
            Assert.Equal(uninterrupted.Epochs[e].TrainLoss, resumed.Epochs[e].TrainLoss);
            Assert.Equal(uninterrupted.Epochs[e].ValidationLoss, resumed.Epochs[e].ValidationLoss);
            Assert.Equal(uninterrupted.Epochs[e].MeanMaxWeight, resumed.Epochs[e].MeanMaxWeight);
            Assert.Equal(uninterrupted.Epochs[e].ArchitectureUpdates, resumed.Epochs[e].ArchitectureUpdates);
        }
        compareState(plain, again);
        return (uninterrupted, resumed);
    }

    private static double[] Values(IReadOnlyList<TorchSharp.torch.Tensor> tensors) =>
        tensors.SelectMany(t => t.to(torch.float64).contiguous().data<double>().ToArray()).ToArray();

    [Fact]
    public void AdmmWithTheDynamicScheduleResumesBitIdentically()
    {
        var (uninterrupted, _) = RunTwice(
            o => new SearchRunner(Tiny.Space(), new DartsFirstOrder(), [new AdmmRegularizer(new AdmmOptions { UpdateEvery = 1 })], o)
            {
                Schedule = new DynamicUpdateSchedule(Lively()),
            },
            (plain, resumed) =>
            {
                var a = (AdmmRegularizer)plain.Regularizers[0];
                var b = (AdmmRegularizer)resumed.Regularizers[0];
                Assert.Equal((a.ArchitectureSteps, a.Updates), (b.ArchitectureSteps, b.Updates));
                Assert.True(a.Updates >= 2, $"only {a.Updates} ADMM updates");
                Assert.Equal(Values(a.Targets()!), Values(b.Targets()!));
                Assert.Equal(Values(a.Duals()!), Values(b.Duals()!));
                var s = (DynamicUpdateSchedule)plain.Schedule;
                var t = (DynamicUpdateSchedule)resumed.Schedule;
                Assert.Equal((s.Threshold, s.Average, s.ArchitectureSteps), (t.Threshold, t.Average, t.ArchitectureSteps));
            });
        Assert.Contains(uninterrupted.Epochs, e => e.ArchitectureUpdates > 0);
        Assert.True(uninterrupted.Epochs.Sum(e => e.ArchitectureUpdates) < 6);
        // The α steps after the resume point (epoch 1 on) happened and changed α.
        Assert.True(uninterrupted.Epochs[1].ArchitectureUpdates + uninterrupted.Epochs[2].ArchitectureUpdates > 0);
    }

    [Fact]
    public void UnitClampMaskSurvivesAResume()
    {
        RunTwice(
            o =>
            {
                o.ArchitectureLearningRate = 0.1; // big steps, so some α reach 0 and are masked within 6 steps
                return new SearchRunner(Tiny.Space(), new DartsFirstOrder(), options: o)
                {
                    Activation = new UnitClampActivation(new UnitClampOptions { ExcludedColumns = [0] }),
                };
            },
            (plain, resumed) =>
            {
                var a = (UnitClampActivation)plain.Activation;
                var b = (UnitClampActivation)resumed.Activation;
                output.WriteLine($"masked: {a.MaskedCount} (6 of them the excluded none column)");
                Assert.True(a.MaskedCount > 6, "no operation reached 0");
                Assert.Equal(a.MaskedCount, b.MaskedCount);
                Assert.Equal(Values([a.MaskOf(0)!]), Values([b.MaskOf(0)!]));
            });
    }
}
