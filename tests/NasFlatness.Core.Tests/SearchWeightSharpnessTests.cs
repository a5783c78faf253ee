using NasFlatness.Evaluation;
using NasFlatness.Genotypes;
using NasFlatness.Optimizers;
using NasFlatness.Search;
using NasFlatness.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace NasFlatness.Tests;

/// <summary>
/// SAM / ASAM in the search's weight step (<see cref="SearchOptions.WeightSharpness"/>): one step of the runner on the float64
/// <see cref="TinyLinearSupernet"/> against w − lr·∇L(w + ε) computed independently from its functional form; α untouched;
/// the default step unchanged; a resumed SAM search equal to an uninterrupted one.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class SearchWeightSharpnessTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("nasflatness-wsam-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    /// <summary>The argmax operation of each of the two edges, e.g. <c>lin[2,0]</c>.</summary>
    [System.Text.Json.Serialization.JsonConverter(typeof(GenotypeJsonConverter))]
    private sealed class LinearGenotype(int first, int second) : Genotype
    {
        public const string Space = "tiny-linear";
        private readonly int _first = first, _second = second;

        public override string SpaceName => Space;

        public override string ToString() => $"lin[{_first},{_second}]";

        public static LinearGenotype Parse(string text)
        {
            var parts = text.Trim()["lin[".Length..^1].Split(',');
            return new LinearGenotype(int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
        }

        public static LinearGenotype Derive(IReadOnlyList<Tensor> architecture)
        {
            var best = architecture[0].argmax(1);
            return new LinearGenotype((int)best[0].item<long>(), (int)best[1].item<long>());
        }

        public override bool Equals(Genotype? other) => other is LinearGenotype g && g._first == _first && g._second == _second;

        public override int GetHashCode() => HashCode.Combine(_first, _second);
    }

    private sealed class LinearSpace(int seed) : ISearchSpace
    {
        public string Name => LinearGenotype.Space;

        public IReadOnlyList<string> OperationNames { get; } = ["a", "b", "c"];

        public void Validate(DatasetInfo dataset) { }

        public Supernet CreateSupernet(DatasetInfo dataset) => new TinyLinearSupernet(seed, LinearGenotype.Derive);

        public nn.Module<Tensor, Tensor> CreateNetwork(Genotype genotype, DatasetInfo dataset) => throw new NotSupportedException();

        public Genotype Parse(string text) => LinearGenotype.Parse(text);

        public IEnumerable<Genotype> Neighbors(Genotype genotype) => [];
    }

    /// <summary>Fixed float64 features (a noisy linear labelling), the same for every call with the same seed.</summary>
    private sealed class LinearData : ISearchDataset
    {
        private readonly Tensor _x, _y;

        public LinearData(int count, int seed)
        {
            var g = new torch.Generator((ulong)seed);
            _x = torch.randn([2 * count, TinyLinearSupernet.Features], dtype: float64, generator: g);
            var projection = torch.randn([TinyLinearSupernet.Features, TinyLinearSupernet.Classes], dtype: float64, generator: g);
            _y = (_x.matmul(projection) + torch.randn([2 * count, TinyLinearSupernet.Classes], dtype: float64, generator: g)).argmax(1);
            Info = new DatasetInfo(1, 1, TinyLinearSupernet.Features, TinyLinearSupernet.Classes);
            Count_ = count;
        }

        private int Count_ { get; }

        public DatasetInfo Info { get; }

        public int Count(SearchSplit split) => Count_;

        public Batch GetBatch(SearchSplit split, ReadOnlySpan<int> indices, bool augment, Random random, Device device)
        {
            int offset = split == SearchSplit.Train ? 0 : Count_;
            var index = torch.tensor(indices.ToArray().Select(i => (long)(i + offset)).ToArray());
            return new Batch(_x.index_select(0, index).to(device), _y.index_select(0, index).to(device));
        }

        public void Dispose()
        {
            _x.Dispose();
            _y.Dispose();
        }
    }

    /// <summary>Records, for the first weight step, w and α before it (after the α step), w and α after it, and its batch.</summary>
    private sealed class FirstStepRecorder : ISearchObserver
    {
        public Tensor[]? WeightsBefore, WeightsAfter, AlphaBefore, AlphaAfter;
        public Tensor? Images, Labels;

        private static Tensor[] Copy(IEnumerable<Tensor> tensors) => [.. tensors.Select(t => t.detach().clone().DetachFromDisposeScope())];

        public void OnArchitectureStepped(ArchitectureStep step)
        {
            if (step.Clock.GlobalStep != 0) return;
            WeightsBefore = Copy(step.Supernet.WeightParameters());
            AlphaBefore = Copy(step.Supernet.ArchitectureParameters());
        }

        public void OnWeightStep(WeightStep step)
        {
            if (step.Clock.GlobalStep != 0) return;
            WeightsAfter = Copy(step.Supernet.WeightParameters());
            AlphaAfter = Copy(step.Supernet.ArchitectureParameters());
            Images = step.Train.Images.detach().clone().DetachFromDisposeScope();
            Labels = step.Train.Labels.detach().clone().DetachFromDisposeScope();
        }
    }

    private static SearchOptions Options(SharpnessAwareness mode, double rho = 0.5, bool plainSgd = true) => new()
    {
        Epochs = 2,
        BatchSize = 16,
        Seed = 3,
        Augment = false,
        WeightLearningRate = 0.1,
        WeightMomentum = plainSgd ? 0 : 0.9,
        WeightDecay = plainSgd ? 0 : 3e-4,
        GradientClip = plainSgd ? 1e9 : 5,
        ArchitectureLearningRate = 3e-2,
        WeightSharpness = mode,
        WeightSharpnessRho = rho,
    };

    private static FirstStepRecorder RunFirstSteps(SearchOptions options)
    {
        var recorder = new FirstStepRecorder();
        using var data = new LinearData(48, seed: 11);
        new SearchRunner(new LinearSpace(5), new DartsFirstOrder(), options: options) { Observers = [recorder] }.Run(data);
        Assert.NotNull(recorder.WeightsBefore);
        Assert.NotNull(recorder.WeightsAfter);
        return recorder;
    }

    private static Tensor[] Gradient(Tensor x, Tensor y, Tensor alpha, IReadOnlyList<Tensor> weights)
    {
        var leaves = weights.Select(w => w.detach().clone().requires_grad_(true)).ToArray();
        var loss = nn.functional.cross_entropy(TinyLinearSupernet.Functional(x, alpha, leaves), y);
        return [.. torch.autograd.grad([loss], leaves).Select(g => g.detach())];
    }

    private static double[] Values(Tensor t) => t.to(float64).contiguous().data<double>().ToArray();

    private static double MaxDifference(Tensor a, Tensor b) => (a - b).abs().max().item<double>();

    [Theory]
    [InlineData(SharpnessAwareness.Sam)]
    [InlineData(SharpnessAwareness.Asam)]
    public void OneWeightStepEqualsSgdWithTheGradientAtThePerturbedWeights(SharpnessAwareness mode)
    {
        using var scope = torch.NewDisposeScope();
        const double rho = 0.5, lr = 0.1;
        var r = RunFirstSteps(Options(mode, rho));
        var w = r.WeightsBefore!;
        var alpha = r.AlphaBefore![0];

        // Independent: g = ∇L(w); ε = ρ·g/‖g‖ (SAM) or ρ·w²⊙g/‖|w|⊙g‖ (ASAM), norms over all weights; w' = w − lr·∇L(w + ε).
        var g = Gradient(r.Images!, r.Labels!, alpha, w);
        var t = mode == SharpnessAwareness.Asam ? w.Zip(g, (wi, gi) => wi.abs() * gi).ToArray() : g;
        double norm = Math.Sqrt(t.Sum(ti => ti.square().sum().item<double>()));
        var epsilon = w.Zip(g, (wi, gi) => (mode == SharpnessAwareness.Asam ? wi.square() * gi : gi) * (rho / (norm + 1e-12))).ToArray();
        var g2 = Gradient(r.Images!, r.Labels!, alpha, w.Zip(epsilon, (wi, e) => wi + e).ToArray());
        for (int i = 0; i < w.Length; i++)
        {
            var expected = w[i] - lr * g2[i];
            Assert.True(MaxDifference(expected, r.WeightsAfter![i]) < 1e-12, $"weight tensor {i}: max |Δ| = {MaxDifference(expected, r.WeightsAfter![i])}");
            // The SAM step is not the plain step.
            Assert.True(MaxDifference(w[i] - lr * g[i], r.WeightsAfter![i]) > 1e-6);
        }
        // α is neither perturbed nor moved by the weight step: bit-identical.
        Assert.Equal(Values(r.AlphaBefore![0]), Values(r.AlphaAfter![0]));
    }

    [Fact]
    public void DefaultWeightStepIsThePlainSgdStepBitForBit()
    {
        using var scope = torch.NewDisposeScope();
        var options = Options(SharpnessAwareness.None, plainSgd: false);
        Assert.Equal(SharpnessAwareness.None, new SearchOptions().WeightSharpness);
        var r = RunFirstSteps(options);

        // The weight step as the runner took it before this option existed: zero_grad, forward with α detached, CE,
        // backward, clip, SGD step (momentum, weight decay) — replayed on a copy of the supernet at w.
        using var net = new TinyLinearSupernet(5);
        using (torch.no_grad())
        {
            var ws = net.WeightParameters().ToArray();
            for (int i = 0; i < ws.Length; i++) ws[i].copy_(r.WeightsBefore![i]);
            net.ArchitectureParameters()[0].copy_(r.AlphaBefore![0]);
        }
        var weights = net.WeightParameters().ToArray();
        using var sgd = torch.optim.SGD(weights, options.WeightLearningRate, options.WeightMomentum, 0.0, options.WeightDecay, false);
        sgd.zero_grad();
        nn.functional.cross_entropy(net.ForwardFixedArchitecture(r.Images!, SoftmaxActivation.Instance), r.Labels!).backward();
        nn.utils.clip_grad_norm_(weights, options.GradientClip);
        sgd.step();
        for (int i = 0; i < weights.Length; i++) Assert.Equal(Values(weights[i]), Values(r.WeightsAfter![i]));
        Assert.Equal(Values(r.AlphaBefore![0]), Values(r.AlphaAfter![0]));
    }

    [Fact]
    public void SharpnessIsValidatedAndPartOfTheCheckpointSettings()
    {
        var bad = new SearchOptions { WeightSharpness = (SharpnessAwareness)7, WeightSharpnessRho = 0 };
        var errors = bad.Validate();
        Assert.Contains(errors, e => e.StartsWith("WeightSharpness = 7", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("WeightSharpnessRho = 0", StringComparison.Ordinal));
        Assert.Throws<ArgumentException>(() => new SearchRunner(new LinearSpace(5), new DartsFirstOrder(), options: bad));

        // A checkpoint written with SAM is refused by a search with plain SGD (and names the field).
        var folder = Path.Combine(_temp, "refuse");
        using var data = new LinearData(32, seed: 2);
        var sam = Options(SharpnessAwareness.Sam);
        sam.Epochs = 1;
        sam.CheckpointDirectory = folder;
        new SearchRunner(new LinearSpace(5), new DartsFirstOrder(), options: sam).Run(data);
        var plain = sam.Clone();
        plain.WeightSharpness = SharpnessAwareness.None;
        var ex = Assert.Throws<CheckpointMismatchException>(() => new SearchRunner(new LinearSpace(5), new DartsFirstOrder(), options: plain).Run(data));
        Assert.Contains("WeightSharpness = Sam, but this search uses None", ex.Message);
    }

    [Fact]
    public void InterruptedAsamSearchOfANb201SupernetResumesToTheSameResult()
    {
        // The real supernet has BatchNorm, so the buffers written back after pass 2 are part of what must resume exactly.
        using var data = Tiny.Data(train: 96, valid: 96);
        SearchOptions Opts(string? folder)
        {
            var o = Tiny.Options(epochs: 3);
            o.WeightSharpness = SharpnessAwareness.Asam;
            o.WeightSharpnessRho = 0.5;
            o.CheckpointDirectory = folder;
            return o;
        }
        var uninterrupted = new SearchRunner(Tiny.Space(), new DartsFirstOrder(), options: Opts(null)).Run(data);
        var plain = new SearchRunner(Tiny.Space(), new DartsFirstOrder(), options: Tiny.Options(epochs: 1)).Run(data);
        Assert.NotEqual(plain.Epochs[0].TrainLoss, uninterrupted.Epochs[0].TrainLoss); // ASAM took other steps

        var folder = Path.Combine(_temp, "ckpt");
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress(p =>
        {
            if (p.Epoch == 1 && p.Step == 1) cts.Cancel();
        });
        Assert.Throws<OperationCanceledException>(() => new SearchRunner(Tiny.Space(), new DartsFirstOrder(), options: Opts(folder)).Run(data, progress, cts.Token));
        var resumed = new SearchRunner(Tiny.Space(), new DartsFirstOrder(), options: Opts(folder)).Run(data);
        Assert.Equal(uninterrupted.Genotype, resumed.Genotype);
        for (int e = 0; e < 3; e++)
        {
            Assert.Equal(uninterrupted.Epochs[e].Architecture.SelectMany(m => m.SelectMany(x => x)), resumed.Epochs[e].Architecture.SelectMany(m => m.SelectMany(x => x)));
            Assert.Equal(uninterrupted.Epochs[e].TrainLoss, resumed.Epochs[e].TrainLoss);
            Assert.Equal(uninterrupted.Epochs[e].ValidationLoss, resumed.Epochs[e].ValidationLoss);
        }
    }

    /// <summary>At the first weight step: a copy of the supernet after the α step, and the supernet's buffers after the weight step.</summary>
    private sealed class BufferRecorder : ISearchObserver
    {
        public Supernet? Before;
        public Tensor[]? BuffersAfter;
        public Tensor? Images;

        public void OnArchitectureStepped(ArchitectureStep step)
        {
            if (step.Clock.GlobalStep == 0) Before = step.Supernet.Clone();
        }

        public void OnWeightStep(WeightStep step)
        {
            if (step.Clock.GlobalStep != 0) return;
            BuffersAfter = [.. step.Supernet.buffers().Select(b => b.detach().clone().DetachFromDisposeScope())];
            Images = step.Train.Images.detach().clone().DetachFromDisposeScope();
        }
    }

    [Fact]
    public void BatchNormStatisticsOfASamStepAreThoseOfPassOneOnly()
    {
        using var scope = torch.NewDisposeScope();
        using var data = Tiny.Data(train: 32, valid: 32);
        var options = Tiny.Options(epochs: 1);
        options.WeightSharpness = SharpnessAwareness.Sam;
        var recorder = new BufferRecorder();
        new SearchRunner(Tiny.Space(), new DartsFirstOrder(), options: options) { Observers = [recorder] }.Run(data);
        using var before = recorder.Before!;
        Assert.NotEmpty(recorder.BuffersAfter!);

        // Independent: one training-mode forward of the same batch at w (pass 1) updates the running statistics once.
        before.train();
        using (torch.no_grad()) before.ForwardFixedArchitecture(recorder.Images!, SoftmaxActivation.Instance);
        var once = before.buffers().ToArray();
        for (int i = 0; i < once.Length; i++) Assert.Equal(Values(once[i]), Values(recorder.BuffersAfter![i]));
        // A second forward (what pass 2 would have added without the restore) changes them.
        using (torch.no_grad()) before.ForwardFixedArchitecture(recorder.Images!, SoftmaxActivation.Instance);
        Assert.Contains(Enumerable.Range(0, once.Length), i => !Values(before.buffers().ElementAt(i)).SequenceEqual(Values(recorder.BuffersAfter![i])));
    }
}
