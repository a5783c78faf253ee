using NasFlatness.Evaluation;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace NasFlatness.Data.Tests;

/// <summary>SAM / ASAM against the hand-worked quadratic of docs/spec/secondary-methods.md §4.5 (float64).</summary>
[Collection(TorchCollection.Name)]
public sealed class SharpnessAwareTests
{
    /// <summary>L = ½(3w₁² + w₂²) with w = (1, 2), so g = (3, 2).</summary>
    private sealed class Quadratic : nn.Module<Tensor, Tensor>
    {
        public readonly Parameter W;

        public Quadratic() : base(nameof(Quadratic))
        {
            W = nn.Parameter(torch.tensor(new[] { 1.0, 2.0 }, float64));
            RegisterComponents();
        }

        public Tensor Loss() => (W.square() * torch.tensor(new[] { 3.0, 1.0 }, float64)).sum() * 0.5;

        public override Tensor forward(Tensor input) => Loss();
    }

    private static double[] Values(Tensor t) => t.to(float64).data<double>().ToArray();

    [Theory]
    [InlineData(SharpnessAwareness.Sam, 0.41603, 0.27735, 4.24808, 2.27735)]
    [InlineData(SharpnessAwareness.Asam, 0.3, 0.8, 3.9, 2.8)]
    public void EpsilonAndSecondGradientMatchTheOracle(SharpnessAwareness mode, double e1, double e2, double g1, double g2)
    {
        using var scope = torch.NewDisposeScope();
        var model = new Quadratic();
        var step = new SharpnessAwareStep(model.parameters(), mode, rho: 0.5, model);
        model.Loss().backward();
        Assert.Equal([3.0, 2.0], Values(model.W.grad!));
        var epsilon = step.Perturb();
        Assert.Equal(e1, Values(epsilon[0]!)[0], 5);
        Assert.Equal(e2, Values(epsilon[0]!)[1], 5);
        Assert.Equal(1 + e1, Values(model.W)[0], 5);
        model.W.grad!.zero_();
        model.Loss().backward();
        step.Restore();
        var g = Values(model.W.grad!);
        Assert.Equal(g1, g[0], 5);
        Assert.Equal(g2, g[1], 5);
        // Restored from the copy, bit for bit.
        Assert.Equal([1.0, 2.0], Values(model.W));
    }

    [Theory]
    [InlineData(SharpnessAwareness.Sam)]
    [InlineData(SharpnessAwareness.Asam)]
    public void StepMovesFromTheRestoredWeightsWithTheSecondGradient(SharpnessAwareness mode)
    {
        using var scope = torch.NewDisposeScope();
        var model = new Quadratic();
        const double lr = 0.25;
        using var sgd = torch.optim.SGD(model.parameters(), lr);
        var step = new SharpnessAwareStep(model.parameters(), mode, 0.5, model);
        var first = step.Step(model.Loss, sgd);
        Assert.Equal(0.5 * (3 + 4), first.item<double>());
        var g = Values(model.W.grad!);
        // lr is a power of two, so w − lr·g is exact whatever the optimizer's arithmetic: any restore error would show.
        Assert.Equal(new[] { 1.0 - lr * g[0], 2.0 - lr * g[1] }, Values(model.W));
        double[] expected = mode == SharpnessAwareness.Sam ? [4.24808, 2.27735] : [3.9, 2.8];
        Assert.Equal(expected[0], g[0], 5);
        Assert.Equal(expected[1], g[1], 5);
    }

    [Fact]
    public void RestoreIsBitExactForFloat32Weights()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(3);
        var net = nn.Sequential(nn.Linear(7, 5), nn.Tanh(), nn.Linear(5, 3));
        var before = net.parameters().Select(p => p.detach().clone()).ToArray();
        var x = torch.randn(16, 7);
        var y = torch.randint(0, 3, [16]);
        nn.functional.cross_entropy(net.forward(x), y).backward();
        var step = new SharpnessAwareStep(net.parameters(), SharpnessAwareness.Asam, rho: 0.7, net);
        step.Perturb();
        Assert.Contains(net.parameters().Zip(before), pair => !pair.First.eq(pair.Second).all().item<bool>());
        step.Restore();
        foreach (var (p, b) in net.parameters().Zip(before))
            Assert.Equal(b.data<float>().ToArray(), p.data<float>().ToArray());
    }

    [Fact]
    public void BatchNormStatisticsAreUpdatedInPassOneOnly()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(5);
        var x = torch.randn(32, 4) * 3 + 1;
        var y = torch.randint(0, 2, [32]);
        Sequential Make()
        {
            torch.manual_seed(11);
            return nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 2));
        }
        // Reference: one forward at w in training mode.
        var reference = Make();
        reference.train();
        reference.forward(x);
        var expected = reference.buffers().Select(b => b.detach().clone()).ToArray();

        var net = Make();
        net.train();
        using var sgd = torch.optim.SGD(net.parameters(), 0.1);
        new SharpnessAwareStep(net.parameters(), SharpnessAwareness.Sam, 0.5, net).Step(() => nn.functional.cross_entropy(net.forward(x), y), sgd);
        var actual = net.buffers().ToArray();
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(expected[i].eq(actual[i]).all().item<bool>(), $"buffer {i} differs");
    }

    [Fact]
    public void BadArgumentsAreRejected()
    {
        var model = new Quadratic();
        Assert.Throws<ArgumentOutOfRangeException>(() => new SharpnessAwareStep(model.parameters(), SharpnessAwareness.None, 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SharpnessAwareStep(model.parameters(), SharpnessAwareness.Sam, 0));
        var step = new SharpnessAwareStep(model.parameters(), SharpnessAwareness.Sam, 0.5);
        Assert.Throws<InvalidOperationException>(step.Restore);
        Assert.Throws<InvalidOperationException>(() => step.Perturb()); // no gradient yet
        var errors = new EvaluationOptions { Sharpness = SharpnessAwareness.Asam, SharpnessRho = -1 }.Validate();
        Assert.Contains(errors, e => e.Contains(nameof(EvaluationOptions.SharpnessRho)));
        Assert.Contains(new EvaluationOptions { Sharpness = (SharpnessAwareness)9 }.Validate(), e => e.Contains(nameof(EvaluationOptions.Sharpness)));
        Assert.Empty(new EvaluationOptions().Validate());
    }

    /// <summary>A fixed random dataset: 24 training and 8 test examples of 2×3×3 images, 3 classes; augment is ignored.</summary>
    private sealed class RandomData : IClassificationDataset
    {
        private readonly Tensor _x, _y;

        public RandomData()
        {
            var g = new torch.Generator(42);
            _x = torch.randn([32, 2, 3, 3], generator: g);
            _y = torch.randint(0, 3, [32], generator: g);
        }

        public DatasetInfo Info => new(2, 3, 3, 3);

        public int Count(EvaluationSplit split) => split == EvaluationSplit.Train ? 24 : 8;

        public Batch GetBatch(EvaluationSplit split, ReadOnlySpan<int> indices, bool augment, Random random, Device device)
        {
            var rows = torch.tensor(indices.ToArray().Select(i => (long)(split == EvaluationSplit.Train ? i : 24 + i)).ToArray());
            return new Batch(_x.index_select(0, rows).to(device), _y.index_select(0, rows).to(device));
        }

        public void Dispose()
        {
            _x.Dispose();
            _y.Dispose();
        }
    }

    private static Sequential Network()
    {
        torch.manual_seed(9);
        return nn.Sequential(nn.Flatten(), nn.Linear(18, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 3));
    }

    [Fact]
    public void TrainerStepEqualsTheManualSamStep()
    {
        using var scope = torch.NewDisposeScope();
        using var data = new RandomData();
        var options = new EvaluationOptions
        {
            Epochs = 1, BatchSize = 24, LearningRate = 0.5, Momentum = 0, WeightDecay = 0, GradientClip = 1e6,
            AuxiliaryWeight = 0, DropPathProbability = 0, Sharpness = SharpnessAwareness.Sam, SharpnessRho = 0.3,
        };
        var trained = Network();
        new EvaluationTrainer(options).Train(trained, data);

        var manual = Network();
        manual.train();
        var batch = data.GetBatch(EvaluationSplit.Train, Enumerable.Range(0, 24).ToArray(), false, new Random(0), torch.CPU);
        using var sgd = torch.optim.SGD(manual.parameters(), 0.5);
        new SharpnessAwareStep(manual.parameters(), SharpnessAwareness.Sam, 0.3, manual).Step(() => nn.functional.cross_entropy(manual.forward(batch.Images), batch.Labels), sgd);

        foreach (var (a, b) in trained.parameters().Zip(manual.parameters()))
            Assert.True(a.allclose(b, rtol: 1e-5, atol: 1e-6));
        // The plain step lands elsewhere.
        var plain = Network();
        new EvaluationTrainer(new EvaluationOptions
        {
            Epochs = 1, BatchSize = 24, LearningRate = 0.5, Momentum = 0, WeightDecay = 0, GradientClip = 1e6, AuxiliaryWeight = 0, DropPathProbability = 0,
        }).Train(plain, data);
        Assert.Contains(plain.parameters().Zip(manual.parameters()), pair => !pair.First.allclose(pair.Second, rtol: 1e-5, atol: 1e-6));
    }
}
