using NasFlatness.Data;
using NasFlatness.Evaluation;
using NasFlatness.MultiObjective.FlatNas;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace NasFlatness.MultiObjective.Tests.FlatNas;

/// <summary>R(σ) against the logistic oracle of docs/spec/secondary-methods.md §4.5, plus restore, zero-weight and seed properties.</summary>
[Collection(TorchCollection.Name)]
public sealed class WeightPerturbationTests
{
    /// <summary>s = w·x + b; logits [0, s], so class 1 iff s &gt; 0. Records the weights it was evaluated with.</summary>
    private sealed class Logistic : nn.Module<Tensor, Tensor>
    {
        public readonly Parameter W, B;
        public readonly List<(double W, double B)> Seen = [];

        public Logistic(double w, double b) : base(nameof(Logistic))
        {
            W = nn.Parameter(torch.tensor(new[] { w }, float64));
            B = nn.Parameter(torch.tensor(new[] { b }, float64));
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            Seen.Add((W.item<double>(), B.item<double>()));
            var s = x.mul(W).add(B);
            return torch.cat([torch.zeros_like(s), s], 1);
        }
    }

    private static List<Batch> OracleBatches() =>
    [
        new(torch.tensor(new[] { -0.2, -0.05 }, float64).view(2, 1), torch.tensor(new long[] { 0, 0 })),
        new(torch.tensor(new[] { 0.05, 0.3 }, float64).view(2, 1), torch.tensor(new long[] { 1, 1 })),
    ];

    [Fact]
    public void LogisticOracleGivesTwelveAndAHalf()
    {
        using var scope = torch.NewDisposeScope();
        var model = new Logistic(1.0, 0.1);
        // Draw 0: ξ_w = 0, ξ_b = −2 (b → 0.1 + 0.5·0.1·(−2) = 0, acc 100 %); draw 1: ξ = 0 (acc 75 %).
        IReadOnlyList<Tensor> Noise(int m, IReadOnlyList<Parameter> parameters) => m == 0
            ? [torch.zeros(1, float64), torch.tensor(new[] { -2.0 }, float64)]
            : [torch.zeros(1, float64), torch.zeros(1, float64)];
        var result = WeightPerturbationRobustness.Measure(model, OracleBatches(), sigma: 0.5, samples: 2, Noise);
        Assert.Equal(75.0, result.CleanAccuracy);
        Assert.Equal([100.0, 75.0], result.PerturbedAccuracies);
        Assert.Equal(12.5, result.Robustness);
        Assert.Contains((1.0, 0.0), model.Seen);
        Assert.Equal((1.0, 0.1), (model.W.item<double>(), model.B.item<double>()));
    }

    [Fact]
    public void ZeroWeightsStayZeroAndNoiseIsMultiplicativeSeededGaussian()
    {
        using var scope = torch.NewDisposeScope();
        var model = new Logistic(0.0, 0.1);
        var result = WeightPerturbationRobustness.Measure(model, OracleBatches(), new WeightPerturbationOptions { Sigma = 0.3, Samples = 3, Seed = 4 });
        Assert.Equal(8, model.Seen.Count); // clean + 3 draws, two batches each
        Assert.All(model.Seen, s => Assert.Equal(0.0, s.W));
        // Draw m: ξ from a CPU generator seeded 4·1,000,003 + m, one randn per parameter in order (w, then b).
        for (int m = 0; m < 3; m++)
        {
            using var g = new torch.Generator((ulong)(4 * 1_000_003 + m));
            torch.randn([1], dtype: float64, generator: g);
            double xiB = torch.randn([1], dtype: float64, generator: g).item<double>();
            Assert.Equal(0.1 + 0.3 * 0.1 * xiB, model.Seen[2 * (m + 1)].B, 12);
        }
        Assert.Equal(3, result.PerturbedAccuracies.Count);
    }

    [Fact]
    public void WeightsAndModeAreRestoredBitExactlyAndTheSeedFixesR()
    {
        using var scope = torch.NewDisposeScope();
        using var data = new CifarClassificationData(TestData.Cifar10Test, TestData.Cifar10Test,
            new CifarClassificationDataOptions { MaxTrainExamples = 1, MaxTestExamples = 300 });
        torch.manual_seed(1);
        var net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 10));
        // A little structure so that accuracy moves under noise: a few SGD steps on the test images themselves.
        using (var sgd = torch.optim.SGD(net.parameters(), 0.05))
        {
            var batch = data.GetBatch(EvaluationSplit.Test, Enumerable.Range(0, 300).ToArray(), false, new Random(0), torch.CPU);
            for (int i = 0; i < 30; i++)
            {
                sgd.zero_grad();
                nn.functional.cross_entropy(net.forward(batch.Images), batch.Labels).backward();
                sgd.step();
            }
        }
        net.train();
        var before = net.parameters().Select(p => p.detach().clone()).ToArray();
        var buffers = net.buffers().Select(b => b.detach().clone()).ToArray();
        var options = new WeightPerturbationOptions { Sigma = 0.5, Samples = 4, Seed = 7, BatchSize = 128 };
        var first = WeightPerturbationRobustness.Measure(net, data, EvaluationSplit.Test, options);
        Assert.True(net.training);
        foreach (var (p, b) in net.parameters().Zip(before)) Assert.Equal(b.data<float>().ToArray(), p.data<float>().ToArray());
        foreach (var (p, b) in net.buffers().Zip(buffers)) Assert.True(p.eq(b).all().item<bool>());
        var second = WeightPerturbationRobustness.Measure(net, data, EvaluationSplit.Test, options);
        Assert.Equal(first, second, new ResultComparer());
        Assert.True(first.Robustness > 0, "σ = 0.5 should move the accuracy");
        var other = WeightPerturbationRobustness.Measure(net, data, EvaluationSplit.Test, new WeightPerturbationOptions { Sigma = 0.5, Samples = 4, Seed = 8 });
        Assert.Equal(first.CleanAccuracy, other.CleanAccuracy);
        Assert.NotEqual(first.PerturbedAccuracies, other.PerturbedAccuracies);
        var none = WeightPerturbationRobustness.Measure(net, data, EvaluationSplit.Test, new WeightPerturbationOptions { Sigma = 0, Samples = 2 });
        Assert.Equal(0.0, none.Robustness);
    }

    private sealed class ResultComparer : IEqualityComparer<WeightPerturbationResult>
    {
        public bool Equals(WeightPerturbationResult? x, WeightPerturbationResult? y) =>
            x!.Robustness == y!.Robustness && x.CleanAccuracy == y.CleanAccuracy && x.PerturbedAccuracies.SequenceEqual(y.PerturbedAccuracies);

        public int GetHashCode(WeightPerturbationResult obj) => obj.Robustness.GetHashCode();
    }

    [Fact]
    public void BadOptionsAreNamed()
    {
        var model = new Logistic(1, 0);
        var ex = Assert.Throws<ArgumentException>(() => WeightPerturbationRobustness.Measure(model, OracleBatches(), new WeightPerturbationOptions { Samples = 0 }));
        Assert.Contains(nameof(WeightPerturbationOptions.Samples), ex.Message);
        ex = Assert.Throws<ArgumentException>(() => WeightPerturbationRobustness.Measure(model, OracleBatches(), new WeightPerturbationOptions { Sigma = double.NaN }));
        Assert.Contains(nameof(WeightPerturbationOptions.Sigma), ex.Message);
    }
}
