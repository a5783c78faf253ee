using NasFlatness.Genotypes;
using NasFlatness.Optimizers;
using NasFlatness.Search;
using NasFlatness.SearchSpaces;
using NasFlatness.SearchSpaces.Darts;
using NasFlatness.SearchSpaces.Nb201;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace NasFlatness.Tests;

/// <summary>The extension points: activation, update schedule, observers, stateful components, checkpoint failures, registry.</summary>
[Collection(TorchCollection.Name)]
public sealed class ExtensionModelTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("nasflatness-ext-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private static double[] Flat(EpochRecord e) => e.Architecture.SelectMany(m => m.SelectMany(r => r)).ToArray();

    /// <summary>softmax(α / T): a user activation (a temperature), to see that every place uses the configured one.</summary>
    private sealed class TemperatureSoftmax(double temperature) : IArchitectureActivation
    {
        public string Name => $"softmax/{temperature}";

        public Tensor Activate(Tensor logits) => (logits / temperature).softmax(-1);
    }

    [Fact]
    public void TheActivationIsUsedByTheSupernetTheDerivationAndTheReport()
    {
        torch.manual_seed(3);
        using var net = new Nb201SearchSpace(new Nb201Options { Channels = 4, CellsPerStage = 1 }).CreateSupernet(DatasetInfo.Cifar10);
        net.eval();
        using var x = torch.randn(2, 3, 32, 32);
        using var alpha = torch.randn(6, 5);
        // Under softmax(α/2) the supernet computes what it computes at α/2 under softmax.
        using var half = alpha / 2;
        using var expected = net.Forward(x, [half], SoftmaxActivation.Instance);
        var activation = new TemperatureSoftmax(2);
        using var actual = net.Forward(x, [alpha], activation);
        Assert.True(torch.allclose(expected, actual, rtol: 1e-5, atol: 1e-6));
        // MixingWeights and the mean-max report use it too.
        var p = net.MixingWeights([alpha], activation)[0];
        Assert.True(torch.allclose(p, half.softmax(-1)));
        double meanMax = half.softmax(-1).max(-1).values.mean().item<float>();
        using (torch.no_grad()) net.ArchitectureParameters()[0].copy_(alpha);
        Assert.Equal(meanMax, SearchRunner.MeanMaxWeight(net, activation), 5);
    }

    [Fact]
    public void DartsEdgeScoresComeFromTheActivation()
    {
        // Node 1 reads edges 2, 3, 4 (inputs 0, 1, 2). Under softmax the strongest single ops win: edge 2 (one op at logit 3,
        // score 0.742) and edge 4 (one op at 2.5, score 0.635) beat edge 3 (two ops at 2, score 0.356), so node 1 reads inputs
        // 0 and 2. Under softmax(−α) the order flips: edge 3 scores 1/(6 + 2e⁻²) = 0.159, edge 2 1/(7 + e⁻³) = 0.142 and
        // edge 4 1/(7 + e^−2.5) = 0.141, so node 1 reads inputs 0 and 1.
        var names = new DartsSearchSpace().OperationNames;
        var a = torch.zeros(14, names.Count, dtype: float64);
        a[2, 4] = torch.tensor(3.0, dtype: float64);
        a[3, 5] = torch.tensor(2.0, dtype: float64);
        a[3, 6] = torch.tensor(2.0, dtype: float64);
        a[4, 7] = torch.tensor(2.5, dtype: float64);
        torch.manual_seed(0);
        using var net = new DartsSearchSpace(new DartsSpaceOptions { Channels = 4, Cells = 3 }).CreateSupernet(DatasetInfo.Cifar10);
        static int[] Node1Inputs(NasFlatness.Genotypes.Genotype g) =>
            ((NasFlatness.Genotypes.DartsGenotype)g).Normal.Skip(2).Take(2).Select(e => e.Input).Order().ToArray();
        Assert.Equal([0, 2], Node1Inputs(net.DeriveGenotype([a, a.clone()], SoftmaxActivation.Instance)));
        var negated = new TemperatureSoftmax(-1);
        var derived = net.DeriveGenotype([a, a.clone()], negated);
        Assert.Equal([0, 1], Node1Inputs(derived));
        Assert.Equal(DartsSearchSpace.DeriveFromWeights(negated.Activate(a), negated.Activate(a)), derived);
    }

    [Fact]
    public void EveryKStepsScheduleUpdatesAlphaOncePerRoundAndObserversSeeEveryStep()
    {
        using var data = Tiny.Data(train: 128, valid: 128); // 4 steps per epoch at batch 32
        var recorder = new Recorder();
        var runner = new SearchRunner(Tiny.Space(), new DartsFirstOrder(), options: Tiny.Options(epochs: 2))
        {
            Schedule = new EveryKStepsSchedule(2),
            Observers = [recorder],
        };
        var result = runner.Run(data);
        Assert.All(result.Epochs, e => Assert.Equal(2, e.ArchitectureUpdates));
        Assert.Equal([1, 3, 5, 7], recorder.ArchitectureSteps.Select(s => (int)s).ToArray());
        Assert.Equal(8, recorder.WeightSteps.Count);
        Assert.Equal([false, true, false, true, false, true, false, true], recorder.WeightSteps.Select(w => w.ArchitectureUpdated).ToArray());
        Assert.All(recorder.WeightSteps, w => Assert.True(w.GradientNorm > 0 && double.IsFinite(w.Loss)));
        Assert.Equal([0, 1], recorder.EpochStarts);
        Assert.Equal([0, 1], recorder.EpochsCompleted);
        // The recorded losses are the epoch's mean training loss.
        Assert.Equal(result.Epochs[0].TrainLoss, recorder.WeightSteps.Take(4).Average(w => w.Loss), 6);
    }

    [Fact]
    public void RuleScheduleSeesThePreviousWeightStep()
    {
        using var data = Tiny.Data(train: 128, valid: 128);
        var seen = new List<ScheduleContext>();
        var runner = new SearchRunner(Tiny.Space(), new DartsFirstOrder(), options: Tiny.Options(epochs: 1))
        {
            Schedule = new RuleSchedule("after-a-step", c =>
            {
                seen.Add(c);
                return c.PreviousWeightStep is { GradientNorm: > 0 };
            }),
        };
        var result = runner.Run(data);
        Assert.Equal(4, seen.Count);
        Assert.Null(seen[0].PreviousWeightStep);
        Assert.All(seen.Skip(1), c => Assert.Equal(c.Clock.Step - 1, c.PreviousWeightStep!.Clock.Step));
        Assert.Equal(3, result.Epochs[0].ArchitectureUpdates);
    }

    [Fact]
    public void RegularizerStateIsCheckpointedAndAResumedSearchIsBitIdentical()
    {
        using var data = Tiny.Data(train: 128, valid: 128);
        SearchRunner Runner(string? folder)
        {
            var o = Tiny.Options(epochs: 3);
            o.CheckpointDirectory = folder;
            return new SearchRunner(Tiny.Space(), new DartsFirstOrder(), [new CountingRegularizer()], o);
        }
        var uninterrupted = Runner(null).Run(data);

        var folder = Path.Combine(_temp, "ckpt");
        using var cts = new CancellationTokenSource();
        Assert.Throws<OperationCanceledException>(() => Runner(folder).Run(data, new SyncProgress(p =>
        {
            if (p.Epoch == 1 && p.Step == 2) cts.Cancel();
        }), cts.Token));
        Assert.Contains("counting", File.ReadAllText(Path.Combine(folder, "checkpoint.json")));
        var resumed = Runner(folder).Run(data);
        for (int e = 0; e < 3; e++)
        {
            Assert.Equal(Flat(uninterrupted.Epochs[e]), Flat(resumed.Epochs[e]));
            Assert.Equal(uninterrupted.Epochs[e].TrainLoss, resumed.Epochs[e].TrainLoss);
        }

        // Without the state the search would differ: a fresh counter restarts its weight at 0.
        var o = Tiny.Options(epochs: 3);
        o.CheckpointDirectory = folder;
        var ex = Assert.Throws<CheckpointMismatchException>(() => new SearchRunner(Tiny.Space(), new DartsFirstOrder(), options: o).Run(data));
        Assert.Contains("regularizers = counting, but this search uses", ex.Message);
        Assert.Contains("stateful components = counting, but this search uses", ex.Message);
    }

    [Fact]
    public void AnUnusableCheckpointFolderIsRefusedBeforeAnyCompute()
    {
        using var data = Tiny.Data(train: 64, valid: 64);
        var blocker = Path.Combine(_temp, "a-file");
        File.WriteAllText(blocker, "not a folder");
        var o = Tiny.Options(epochs: 2);
        o.CheckpointDirectory = Path.Combine(blocker, "ckpt");
        var reported = new List<SearchProgress>();
        var ex = Assert.Throws<IOException>(() => new SearchRunner(Tiny.Space(), new DartsFirstOrder(), options: o)
            .Run(data, new SyncProgress(reported.Add)));
        Assert.Empty(reported); // not one step was spent
        Assert.Contains(o.CheckpointDirectory, ex.Message);
        Assert.Equal(["a-file"], Directory.GetFileSystemEntries(_temp).Select(f => Path.GetFileName(f)!).ToArray());
    }

    [Fact]
    public void AFailingComponentStateRemovesTheEpochsFilesAndKeepsThePreviousCheckpoint()
    {
        using var data = Tiny.Data(train: 64, valid: 64);
        var o = Tiny.Options(epochs: 2);
        o.CheckpointDirectory = Path.Combine(_temp, "ckpt");
        var failing = new FailingStateObserver(failAtEpoch: 1);
        var reported = new List<int>();
        var ex = Assert.Throws<IOException>(() => new SearchRunner(Tiny.Space(), new DartsFirstOrder(), options: o) { Observers = [failing] }
            .Run(data, new SyncProgress(p =>
            {
                if (p.CompletedEpoch is { } e) reported.Add(e.Epoch);
            })));
        Assert.Equal([0, 1], reported); // epoch 2's report arrived before its checkpoint failed
        Assert.Contains("the checkpoint of epoch 2", ex.Message);
        Assert.Contains("disk full (simulated)", ex.Message);
        var files = Directory.GetFiles(o.CheckpointDirectory).Select(f => Path.GetFileName(f)!).Order().ToArray();
        Assert.Equal(["architecture-optimizer-epoch1.bin", "checkpoint.json", "state-epoch1.bin", "supernet-epoch1.bin", "weight-optimizer-epoch1.bin"], files);
        Assert.Contains("\"CompletedEpochs\": 1", File.ReadAllText(Path.Combine(o.CheckpointDirectory, "checkpoint.json")));
    }

    [Fact]
    public void TheRegistryComposesByNameAndNamesWhatIsUnknown()
    {
        var registry = new NasFlatnessRegistry().AddBuiltInSearchSpaces(new Nb201Options { Channels = 4, CellsPerStage = 1 }).AddBuiltInMethods();
        registry.Regularizers.Add("counting", _ => new CountingRegularizer());
        registry.Presets.Add(new MethodPreset("counted-darts", "DARTS with the counting regularizer", "darts-1st", ["counting"],
            new PresetSearchSettings { BatchSize = 16 }));
        var runner = registry.CreateRunner(new SearchComposition { Method = "counted-darts", Regularizers = ["beta-decay"] });
        Assert.Equal(["counting", "beta-decay"], runner.Regularizers.Select(r => r.Name).ToArray());
        Assert.Equal(16, runner.Options.BatchSize);
        Assert.IsType<Nb201SearchSpace>(runner.SearchSpace);
        Assert.Equal("softmax", runner.Activation.Name);
        Assert.Equal("every-step", runner.Schedule.Name);
        Assert.IsType<NaDartsOptimizer>(registry.CreateRunner(new SearchComposition { Optimizer = "na-darts" }).Optimizer);
        // PC-DARTS presets give the space their supernet variant.
        var pc = Assert.IsType<Nb201SearchSpace>(registry.CreateRunner(new SearchComposition { Method = "pc-darts" }).SearchSpace);
        Assert.True(pc.Options.PartialChannels);

        var ex = Assert.Throws<ArgumentException>(() => registry.CreateRunner(new SearchComposition
        {
            SearchSpace = "nope", Method = "darts-2nd", Optimizer = "darts-1st", Regularizers = ["magic"], Activation = "sparse",
        }));
        Assert.Contains("SearchSpace = 'nope' is invalid: expected one of nas-bench-201, darts", ex.Message);
        Assert.Contains("Optimizer = 'darts-1st' contradicts Method = 'darts-2nd', which uses 'darts-2nd'", ex.Message);
        Assert.Matches("Regularizers = 'magic' is invalid: expected one of beta-decay, a2m, [^.]*counting", ex.Message);
        Assert.Contains("Activation = 'sparse' is invalid: expected one of softmax, ", ex.Message);
    }

    [Fact]
    public void TypedResultsNeedNoCast()
    {
        using var data = Tiny.Data(train: 32, valid: 32);
        var result = new SearchRunner(Tiny.Space(), new DartsFirstOrder(), options: Tiny.Options(epochs: 1)).Run(data);
        Nb201Genotype g = result.GetGenotype<Nb201Genotype>();
        Assert.Equal(result.Genotype, g);
        var ex = Assert.Throws<InvalidOperationException>(() => result.GetGenotype<NasFlatness.Genotypes.DartsGenotype>());
        Assert.Contains("genotype of space 'nas-bench-201' (Nb201Genotype), not a DartsGenotype", ex.Message);
    }

    /// <summary>A loss-shaping regularizer with state: weight 1e-3 × (number of α steps so far) on Σα².</summary>
    private sealed class CountingRegularizer : IFlatnessRegularizer, IStatefulSearchComponent
    {
        private long _steps;

        public string Name => "counting";

        public string StateName => "counting";

        public RegularizerContribution Contribute(ArchitectureStep step) => new()
        {
            LossTerm = architecture => architecture[0].square().sum() * (1e-3 * _steps),
        };

        public void OnArchitectureStepped(ArchitectureStep step) => _steps++;

        public void SaveState(BinaryWriter writer) => writer.Write(_steps);

        public void LoadState(BinaryReader reader) => _steps = reader.ReadInt64();
    }

    private sealed class FailingStateObserver(int failAtEpoch) : ISearchObserver, IStatefulSearchComponent
    {
        private int _completed;

        public string StateName => "failing";

        public void OnEpochCompleted(EpochRecord record) => _completed = record.Epoch;

        public void SaveState(BinaryWriter writer)
        {
            if (_completed == failAtEpoch) throw new IOException("disk full (simulated)");
            writer.Write(_completed);
        }

        public void LoadState(BinaryReader reader) => _completed = reader.ReadInt32();
    }

    private sealed class Recorder : ISearchObserver
    {
        public List<WeightStep> WeightSteps { get; } = [];
        public List<long> ArchitectureSteps { get; } = [];
        public List<int> EpochStarts { get; } = [];
        public List<int> EpochsCompleted { get; } = [];

        public void OnEpochStarting(EpochStart epoch) => EpochStarts.Add(epoch.Clock.Epoch);

        public void OnWeightStep(WeightStep step) => WeightSteps.Add(step with { Train = default });

        public void OnArchitectureStepped(ArchitectureStep step) => ArchitectureSteps.Add(step.Clock.GlobalStep);

        public void OnEpochCompleted(EpochRecord record) => EpochsCompleted.Add(record.Epoch);
    }
}
