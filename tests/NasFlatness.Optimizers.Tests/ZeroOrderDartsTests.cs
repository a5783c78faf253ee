using NasFlatness.Advanced;
using NasFlatness.Data;
using NasFlatness.Search;
using NasFlatness.SearchSpaces;
using NasFlatness.SearchSpaces.Darts;
using NasFlatness.SearchSpaces.Nb201;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace NasFlatness.Optimizers.Tests;

[Collection(TorchCollection.Name)]
public sealed class ZeroOrderDartsTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("nasflat-zo-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_temp, recursive: true); } catch (IOException) { }
    }

    /// <summary>
    /// docs/spec/secondary-methods.md §2.6: L_tr = ½‖w − Aα‖², A = diag(1, 2), plain SGD η = 0.5, R = 2, w0 = 0; L_val = ½‖w − c‖² + dᵀα,
    /// c = [1, 1], d = [0.1, −0.2], α = [1, 1]. Δ is exact for a linear map, so Ĝ(e_i) are the hypergradient's components.
    /// </summary>
    private static double[] LinearOracle(double[] z)
    {
        var a = torch.tensor(new[] { 1.0, 2.0 }, dtype: float64);
        var alpha = torch.tensor(new[] { 1.0, 1.0 }, dtype: float64);
        var zt = torch.tensor(z, dtype: float64);
        double mu = 0.005 * alpha.norm().item<double>();
        var alphaPlus = alpha + mu * zt;
        var w = torch.zeros(2, dtype: float64);
        var wPlus = torch.zeros(2, dtype: float64);
        for (int step = 0; step < 2; step++)
        {
            ZeroOrderDarts.SgdStep([w], [w - a * alpha], new Tensor?[1], 0.5, 0, 0);
            ZeroOrderDarts.SgdStep([wPlus], [wPlus - a * alphaPlus], new Tensor?[1], 0.5, 0, 0);
        }
        Assert.Equal([0.75, 1.5], w.data<double>().ToArray());
        var gradAlpha = torch.tensor(new[] { 0.1, -0.2 }, dtype: float64);  // a = ∇α L_val = d
        var gradW = w - torch.ones(2, dtype: float64);                       // b = ∇w L_val = w − c
        return ZeroOrderDarts.Estimate([gradAlpha], [gradW], [w], [wPlus], mu, [zt])[0].data<double>().ToArray();
    }

    [Fact]
    public void LinearInnerProblemOracle()
    {
        var g1 = LinearOracle([1, 0]);
        var g2 = LinearOracle([0, 1]);
        Assert.Equal(-0.0875, g1[0], 10);
        Assert.Equal(0.0, g1[1], 10);
        Assert.Equal(0.0, g2[0], 10);
        Assert.Equal(0.55, g2[1], 10);
        Assert.Equal(-0.0875, g1[0] + g2[0], 10); // Σ_i Ĝ(e_i) = g* = a + 0.75·Aᵀb
        Assert.Equal(0.55, g1[1] + g2[1], 10);
        var diagonal = LinearOracle([1 / Math.Sqrt(2), 1 / Math.Sqrt(2)]);
        Assert.Equal(0.23125, diagonal[0], 10);
        Assert.Equal(0.23125, diagonal[1], 10);
    }

    private static Batch RandomBatch(int seed, int n = 8) => TestHelpers.RandomBatch(seed, n);

    /// <summary>Runs one round of R = 1 on the tiny float64 supernet as the runner would, with z = e_index; returns Ĝ.</summary>
    private static Tensor OneStepEstimate(int index, double scale, double eta, double momentum, double decay, Tensor?[] buffers, Batch train, Batch valid)
    {
        using var net = new TinyLinearSupernet(4);
        using var zo = new ZeroOrderDarts(new ZeroOrderDartsOptions { PerturbationScale = scale, GradientClip = 1e9 })
        {
            DirectionOverride = (_, like) =>
            {
                var e = torch.zeros_like(like[0]);
                e.view(-1)[index] = 1.0;
                return [e];
            },
        };
        var weights = net.WeightParameters().ToArray();
        var state = new WeightOptimizerState(eta, momentum, decay, () => buffers);
        zo.OnEpochStarting(new EpochStart(SearchClock.At(0, 1, 0, 1), eta, net, SoftmaxActivation.Instance) { WeightOptimizer = state });

        // The runner's weight step: w ← w − η(μ·m + ∇w L_tr + λ·w), then the observers.
        var trainLoss = nn.functional.cross_entropy(net.ForwardFixedArchitecture(train.Images, SoftmaxActivation.Instance), train.Labels);
        var g = torch.autograd.grad([trainLoss], weights);
        using (torch.no_grad())
            for (int i = 0; i < weights.Length; i++) weights[i].sub_(eta * (momentum * buffers[i]! + g[i] + decay * weights[i]));
        zo.OnWeightStep(new WeightStep(net, train, new SearchClock(0, 1, 0, 1, 0), eta, trainLoss.item<double>(), 0, false, SoftmaxActivation.Instance));
        Assert.Equal(1, zo.RoundSteps);

        var step = new ArchitectureStep(net, train, valid, state, SoftmaxActivation.Instance);
        var before = net.parameters().Select(p => p.detach().clone()).ToArray();
        var estimate = zo.ComputeGradient(step, step.CurrentArchitecture())[0];
        // The estimate leaves the main network (weights and α) untouched and accumulates no .grad.
        var after = net.parameters().ToArray();
        for (int i = 0; i < before.Length; i++) Assert.True(TensorAssert.Same(before[i], after[i]));
        Assert.All(after, p => Assert.True(p.grad is null || p.grad.IsInvalid || p.grad.abs().max().item<double>() == 0));
        return estimate.detach().clone();
    }

    [Fact]
    public void SumOverBasisDirectionsMatchesTheUnrolledHypergradient()
    {
        var train = RandomBatch(5);
        var valid = RandomBatch(6);
        const double eta = 0.3, mu = 0.9, wd = 3e-4;
        Tensor?[] buffers;
        Tensor exact;
        using (var net = new TinyLinearSupernet(4))
        {
            var weights = net.WeightParameters().ToArray();
            var g = new torch.Generator(9);
            buffers = weights.Select(w => (Tensor?)(torch.randn(w.shape, dtype: float64, generator: g) * 0.1)).ToArray();
            // Oracle: d/dα L_val(w1(α), α) with w1 = w − η(μm + ∇w L_tr(w, α) + λw), by double backward.
            var alpha = net.Alpha().detach().clone().requires_grad_(true);
            var w = weights.Select(p => p.detach().clone().requires_grad_(true)).ToArray();
            var trainLoss = nn.functional.cross_entropy(TinyLinearSupernet.Functional(train.Images, alpha, w), train.Labels);
            var gw = torch.autograd.grad([trainLoss], w, retain_graph: true, create_graph: true);
            var unrolled = w.Select((wi, i) => wi - eta * (mu * buffers[i]! + gw[i] + wd * wi)).ToArray();
            var valLoss = nn.functional.cross_entropy(TinyLinearSupernet.Functional(valid.Images, alpha, unrolled), valid.Labels);
            exact = torch.autograd.grad([valLoss], [alpha])[0].detach();
            var firstOrder = torch.autograd.grad([nn.functional.cross_entropy(TinyLinearSupernet.Functional(valid.Images, alpha, unrolled.Select(u => u.detach()).ToArray()), valid.Labels)], [alpha])[0];
            Assert.True((firstOrder - exact).abs().max().item<double>() > 1e-3, "the weight-path term is too small for the check to mean anything");
        }

        double Error(double scale)
        {
            var sum = torch.zeros_like(exact);
            for (int i = 0; i < exact.numel(); i++) sum += OneStepEstimate(i, scale, eta, mu, wd, buffers, train, valid);
            double error = (sum - exact).abs().max().item<double>();
            output.WriteLine($"scale {scale}: max |Σ Ĝ(e_i) − exact| = {error:E3} (max |exact| = {exact.abs().max().item<double>():E3})");
            return error;
        }
        double coarse = Error(0.005), fine = Error(5e-5);
        Assert.True(coarse < 2e-5, $"O(μ) error too large: {coarse}");
        Assert.True(fine < coarse / 50, $"the error does not shrink with μ: {fine} vs {coarse}");
    }

    [Fact]
    public void ArchitectureStepChangesOnlyAlphaAndByAdamAlone()
    {
        using var net = new TinyLinearSupernet(11);
        var train = RandomBatch(12);
        var valid = RandomBatch(13);
        using var zo = new ZeroOrderDarts(new ZeroOrderDartsOptions { Seed = 3 });
        var state = new WeightOptimizerState(0.1, 0.9, 3e-4);
        zo.OnEpochStarting(new EpochStart(SearchClock.At(0, 1, 0, 4), 0.1, net, SoftmaxActivation.Instance) { WeightOptimizer = state });
        var shadowAlpha = zo.Shadow!.ArchitectureParameters()[0].detach().clone();
        Assert.Equal(zo.PerturbationSize, (shadowAlpha - net.Alpha()).norm().item<double>(), 12); // α⁺ = α + μz, ‖z‖ = 1
        Assert.Equal(0.005 * net.Alpha().norm().item<double>(), zo.PerturbationSize, 12);
        zo.OnWeightStep(new WeightStep(net, train, new SearchClock(0, 1, 0, 4, 0), 0.1, 0, 0, false, SoftmaxActivation.Instance));
        Assert.True(TensorAssert.Same(shadowAlpha, zo.Shadow!.ArchitectureParameters()[0])); // clean: α⁺ held fixed

        var weightsBefore = net.WeightParameters().Select(p => p.detach().clone()).ToArray();
        var alpha = net.ArchitectureParameters();
        var copy = alpha[0].detach().clone().requires_grad_(true);
        using var reference = torch.optim.Adam([new TorchSharp.Modules.Parameter(copy)], 1.5e-2, 0.5, 0.999, 1e-8, 1e-3);
        using var adam = torch.optim.Adam(alpha, 1.5e-2, 0.5, 0.999, 1e-8, 1e-3);
        var step = new ArchitectureStep(net, train, valid, state, SoftmaxActivation.Instance);
        var estimate = zo.ComputeGradient(step, step.CurrentArchitecture())[0];
        ArchitectureStepper.Step(step, new ZeroOrderDartsReplay(estimate), [], alpha, adam);
        var p = reference.parameters().First();
        p.grad = estimate.clone();
        reference.step();
        Assert.True(TensorAssert.Same(p.detach(), alpha[0].detach()));
        var weightsAfter = net.WeightParameters().ToArray();
        for (int i = 0; i < weightsBefore.Length; i++) Assert.True(TensorAssert.Same(weightsBefore[i], weightsAfter[i]));
    }

    /// <summary>Replays a fixed gradient (to drive ArchitectureStepper with an estimate computed once).</summary>
    private sealed class ZeroOrderDartsReplay(Tensor gradient) : IArchitectureOptimizer
    {
        public string Name => "replay";
        public bool IsFirstOrder => false;
        public IReadOnlyList<Tensor> ComputeGradient(ArchitectureStep step, IReadOnlyList<Tensor> architecture) => [gradient.clone()];
    }

    [Fact]
    public void DirectionsAreReproducibleUnitVectors()
    {
        var like = new[] { torch.zeros([6, 5]), torch.zeros([6]) };
        var z1 = ZeroOrderDarts.RandomDirection(7, 40, like);
        var z2 = ZeroOrderDarts.RandomDirection(7, 40, like);
        var z3 = ZeroOrderDarts.RandomDirection(7, 41, like);
        Assert.True(TensorAssert.Same(z1[0], z2[0]));
        Assert.True(TensorAssert.Same(z1[1], z2[1]));
        Assert.False(TensorAssert.Same(z1[0], z3[0]));
        double norm = Math.Sqrt(z1.Sum(t => t.to(float64).square().sum().item<double>()));
        Assert.Equal(1.0, norm, 6);
        Assert.Equal(float32, z1[0].dtype);
    }

    [Fact]
    public void TheShadowNetworkTrainsUnderTheSearchsActivation()
    {
        using var net = Space().CreateSupernet(DatasetInfo.Cifar10);
        var train = TestHelpers.RandomImages(1, 2);
        foreach (bool compatible in new[] { false, true })
        {
            var activation = new CountingActivation(new SparsemaxActivation());
            using var zo = new ZeroOrderDarts(new ZeroOrderDartsOptions { CodeCompatible = compatible });
            zo.OnEpochStarting(new EpochStart(SearchClock.At(0, 1, 0, 4), 0.1, net, activation) { WeightOptimizer = new WeightOptimizerState(0.1, 0.9, 0) });
            int before = activation.Calls;
            zo.OnWeightStep(new WeightStep(net, train, new SearchClock(0, 1, 0, 4, 0), 0.1, 0, 0, false, activation));
            Assert.Equal(before + 1, activation.Calls); // the shadow's one forward pass mixes its one α with the search's activation
        }
    }

    private sealed class CountingActivation(IArchitectureActivation inner) : IArchitectureActivation
    {
        public int Calls { get; private set; }

        public string Name => inner.Name;

        public Tensor Activate(Tensor logits)
        {
            Calls++;
            return inner.Activate(logits);
        }
    }

    [Fact]
    public void CodeCompatibleShadowTrainsAlphaWithFreshMomentum()
    {
        using var net = new TinyLinearSupernet(14);
        var train = RandomBatch(15);
        var buffers = net.WeightParameters().Select(w => (Tensor?)torch.ones_like(w)).ToArray();
        var state = new WeightOptimizerState(0.1, 0.9, 0, () => buffers);
        Tensor ShadowWeightsAfterOneStep(bool compatible, out bool alphaMoved)
        {
            using var zo = new ZeroOrderDarts(new ZeroOrderDartsOptions { CodeCompatible = compatible });
            zo.OnEpochStarting(new EpochStart(SearchClock.At(0, 1, 0, 4), 0.1, net, SoftmaxActivation.Instance) { WeightOptimizer = state });
            var alphaPlus = zo.Shadow!.ArchitectureParameters()[0].detach().clone();
            zo.OnWeightStep(new WeightStep(net, train, new SearchClock(0, 1, 0, 4, 0), 0.1, 0, 0, false, SoftmaxActivation.Instance));
            alphaMoved = !TensorAssert.Same(alphaPlus, zo.Shadow!.ArchitectureParameters()[0]);
            return zo.Shadow.WeightParameters().First().detach().clone();
        }
        var clean = ShadowWeightsAfterOneStep(false, out bool cleanMoved);
        var compat = ShadowWeightsAfterOneStep(true, out bool compatMoved);
        Assert.False(cleanMoved);
        Assert.True(compatMoved);
        // Clean: w − η(μ·1 + g); code-compatible: w − η·g (fresh momentum). They differ by η·μ = 0.09 everywhere.
        Assert.True(torch.allclose(clean - compat, torch.full_like(clean, -0.09), rtol: 0, atol: 1e-12));
    }

    private static CifarSearchData Data(int train, int valid) =>
        new(TestData.Cifar10Train, new CifarSearchDataOptions { MaxTrainExamples = train, MaxValidationExamples = valid });

    private static Nb201SearchSpace Space(bool track = false) => new(new Nb201Options { Channels = 4, CellsPerStage = 1, TrackRunningStats = track });

    private static SearchOptions Options(int epochs = 2) => new()
    {
        Epochs = epochs,
        BatchSize = 16,
        Seed = 1,
        ArchitectureLearningRate = 1.5e-2,
        EpochValidationBatches = 2,
    };

    private static SearchRunner Runner(SearchOptions options) =>
        new(Space(), new ZeroOrderDarts(new ZeroOrderDartsOptions { Seed = 2 }), options: options)
        {
            Activation = new SparsemaxActivation(1.0, 0.5, 1),
            Schedule = new EveryKStepsSchedule(2),
        };

    private static double[] Flat(EpochRecord e) => e.Architecture.SelectMany(m => m.SelectMany(r => r)).ToArray();

    [Fact]
    public void InterruptedZeroOrderSearchResumesToTheSameResult()
    {
        using var data = Data(64, 64);
        var uninterrupted = Runner(Options()).Run(data);
        Assert.All(uninterrupted.Epochs, e => Assert.Equal(2, e.ArchitectureUpdates)); // 4 steps per epoch, rounds of 2

        var options = Options();
        options.CheckpointDirectory = Path.Combine(_temp, "ckpt");
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress(p =>
        {
            if (p.Epoch == 1 && p.Step == 2) cts.Cancel();
        });
        Assert.Throws<OperationCanceledException>(() => Runner(options).Run(data, progress, cts.Token));
        var resumed = Runner(options).Run(data);

        Assert.Equal(2, resumed.Epochs.Count);
        Assert.Equal(uninterrupted.Genotype, resumed.Genotype);
        for (int e = 0; e < 2; e++)
        {
            var (u, r) = (uninterrupted.Epochs[e], resumed.Epochs[e]);
            output.WriteLine($"{e}: {u.TrainLoss} {u.ValidationLoss} {u.MeanMaxWeight} {u.Genotype} | {r.TrainLoss} {r.ValidationLoss} {r.MeanMaxWeight} {r.Genotype}");
            Assert.Equal(Flat(u), Flat(r));
            Assert.Equal(u.TrainLoss, r.TrainLoss);
            Assert.Equal(u.ValidationLoss, r.ValidationLoss);
            Assert.Equal(u.MeanMaxWeight, r.MeanMaxWeight);
        }
        Assert.NotEqual(Flat(uninterrupted.Epochs[0]), Flat(uninterrupted.Epochs[1])); // α did move
    }

    [Fact]
    public void SupernetWithRunningStatisticsIsRefusedBeforeAnyStep()
    {
        using var data = Data(16, 16);
        var runner = new SearchRunner(Space(track: true), new ZeroOrderDarts(), options: Options(epochs: 1)) { Schedule = new EveryKStepsSchedule(2) };
        var steps = 0;
        var ex = Assert.Throws<InvalidOperationException>(() => runner.Run(data, new SyncProgress(_ => steps++)));
        Assert.Contains("TrackRunningStats = false", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, steps);
        Assert.True(ZeroOrderDarts.TracksRunningStatistics(Space(track: true).CreateSupernet(DatasetInfo.Cifar10)));
        Assert.False(ZeroOrderDarts.TracksRunningStatistics(Space().CreateSupernet(DatasetInfo.Cifar10)));
        var invalid = Assert.Throws<ArgumentException>(() => new ZeroOrderDarts(new ZeroOrderDartsOptions { PerturbationScale = 0 }));
        Assert.Contains("PerturbationScale = 0 is invalid", invalid.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() =>
        {
            using var net = new TinyLinearSupernet(1);
            var step = new ArchitectureStep(net, RandomBatch(1), RandomBatch(2), new WeightOptimizerState(0.1, 0.9, 0), SoftmaxActivation.Instance);
            new ZeroOrderDarts().ComputeGradient(step, step.CurrentArchitecture());
        });
    }

    [Fact]
    public void PresetsComposeTheZeroOrderMethods()
    {
        var registry = new NasFlatnessRegistry().AddBuiltInSearchSpaces(new Nb201Options { TrackRunningStats = false }).AddBuiltInMethods();
        var runner = registry.CreateRunner(new SearchComposition { Method = "ZO-DARTS+" });
        Assert.IsType<ZeroOrderDarts>(runner.Optimizer);
        Assert.IsType<SparsemaxActivation>(runner.Activation);
        Assert.Equal(10, Assert.IsType<EveryKStepsSchedule>(runner.Schedule).K);
        var o = runner.Options;
        Assert.Equal((256, 0.1, 0.001, 1.5e-2, 0.5, 0.999, 1e-3, SelectionRule.LastEpoch),
            (o.BatchSize, o.WeightLearningRate, o.WeightLearningRateMin, o.ArchitectureLearningRate, o.ArchitectureBeta1, o.ArchitectureBeta2, o.ArchitectureWeightDecay, o.Selection));
        var plain = registry.CreateRunner(new SearchComposition { Method = "zo-darts" });
        Assert.IsType<SoftmaxActivation>(plain.Activation);
        Assert.False(MethodPresets.Get("zo-darts-plus").IsFirstOrder);
        Assert.Throws<InvalidOperationException>(() => MethodPresets.Get("zo-darts").WithA2M());
        Assert.Equal(0.75, Assert.IsType<SparsemaxActivation>(registry.Activations.Create("sparsemax-medmnist")).Decay);
        Assert.DoesNotContain("zo-darts", MethodPresets.Names); // the zeroth-order presets live in ZeroOrderPresets
    }

    [Fact]
    public void ClonesAreIndependentCopiesAndLeaveTheRandomGeneratorAlone()
    {
        var spaces = new ISearchSpace[]
        {
            Space(),
            new Nb201SearchSpace(new Nb201Options { Channels = 4, CellsPerStage = 1, PartialChannels = true, PartialChannelProportion = 2 }),
            new DartsSearchSpace(new DartsSpaceOptions { Channels = 4, Cells = 3 }),
        };
        var x = torch.randn([2, 3, 32, 32], generator: new torch.Generator(1));
        foreach (var space in spaces)
        {
            using var net = space.CreateSupernet(DatasetInfo.Cifar10);
            torch.manual_seed(123);
            using var copy = net.Clone();
            var afterClone = torch.rand(3);
            torch.manual_seed(123);
            Assert.True(TensorAssert.Same(afterClone, torch.rand(3)), $"{space.Name}: cloning consumed the global generator");
            Supernet scoped;
            using (torch.NewDisposeScope()) scoped = net.Clone(); // the copy outlives the scope it was made in
            using (scoped)
                Assert.All(scoped.parameters().Zip(net.parameters()), pair => Assert.True(TensorAssert.Same(pair.First, pair.Second)));
            Assert.Equal(net.GetType(), copy.GetType());
            foreach (var ((n1, p1), (n2, p2)) in net.named_parameters().Zip(copy.named_parameters()))
            {
                Assert.Equal(n1, n2);
                Assert.True(TensorAssert.Same(p1, p2));
                Assert.NotEqual(p1.Handle, p2.Handle);
            }
            using (torch.no_grad())
            {
                net.eval();
                copy.eval();
                Assert.True(torch.allclose(net.forward(x), copy.forward(x), rtol: 1e-5, atol: 1e-6));
                copy.ArchitectureParameters()[0].add_(1.0);
                Assert.False(TensorAssert.Same(net.ArchitectureParameters()[0], copy.ArchitectureParameters()[0]));
            }
        }
    }

    [Fact]
    public void ARunnerFromTheRegistryDisposesTheOptimizerItCreatedButNotOnePassedIn()
    {
        using var net = new TinyLinearSupernet(4);
        var start = new EpochStart(SearchClock.At(0, 1, 0, 1), 0.1, net, SoftmaxActivation.Instance) { WeightOptimizer = new WeightOptimizerState(0.1, 0.9, 0) };
        var registry = new NasFlatnessRegistry().AddBuiltInSearchSpaces().AddBuiltInMethods();
        var runner = registry.CreateRunner(new SearchComposition { Optimizer = ZeroOrderDarts.OptimizerName });
        var created = Assert.IsType<ZeroOrderDarts>(runner.Optimizer);
        created.OnEpochStarting(start);
        Assert.NotNull(created.Shadow);
        runner.Dispose();
        Assert.Null(created.Shadow); // the shadow supernet is freed with the runner
        Assert.Throws<ObjectDisposedException>(() => created.OnEpochStarting(start));
        using (var data = Data(16, 16)) Assert.Throws<ObjectDisposedException>(() => runner.Run(data));
        runner.Dispose(); // idempotent

        using var passed = new ZeroOrderDarts();
        new SearchRunner(new Nb201SearchSpace(), passed).Dispose();
        passed.OnEpochStarting(start); // still usable: the user owns it
        Assert.NotNull(passed.Shadow);
    }
}

internal sealed class SyncProgress(Action<SearchProgress> report) : IProgress<SearchProgress>
{
    public void Report(SearchProgress value) => report(value);
}

internal static class SupernetExtensions
{
    public static Tensor Alpha(this Supernet net) => net.ArchitectureParameters()[0];
}
