using NasFlatness.Data;
using NasFlatness.Search;
using NasFlatness.SearchSpaces.Nb201;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace NasFlatness.Optimizers.Tests;

[Collection(TorchCollection.Name)]
public sealed class ArchitectureHessianTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("nasflat-hessian-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_temp, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public void JacobiMatchesHandWorkedEigenvalues()
    {
        // [[2,1],[1,2]]: characteristic polynomial (2−λ)² − 1 = 0 → λ = 3, 1.
        Assert.Equal([3.0, 1.0], SymmetricEigen.Eigenvalues(new double[,] { { 2, 1 }, { 1, 2 } }).Select(v => Math.Round(v, 12)));
        // Tridiagonal [2, −1] of size 3: λ_k = 2 − 2 cos(kπ/4) → 2 + √2, 2, 2 − √2.
        var t = SymmetricEigen.Eigenvalues(new double[,] { { 2, -1, 0 }, { -1, 2, -1 }, { 0, -1, 2 } });
        Assert.Equal(2 + Math.Sqrt(2), t[0], 12);
        Assert.Equal(2.0, t[1], 12);
        Assert.Equal(2 - Math.Sqrt(2), t[2], 12);
        // Diagonal with a negative entry: the dominant (largest) eigenvalue is the algebraically largest, not the largest |λ|.
        Assert.Equal([1.0, -5.0], SymmetricEigen.Eigenvalues(new double[,] { { -5, 0 }, { 0, 1 } }));
        Assert.Throws<ArgumentException>(() => SymmetricEigen.Eigenvalues(new double[2, 3]));
    }

    [Fact]
    public void HessianOfTinySupernetMatchesFiniteDifferencesOfFloat64Gradients()
    {
        using var net = new TinyLinearSupernet(3);
        var batch = TestHelpers.RandomBatch(5, n: 12);
        var h = ArchitectureHessianObserver.Hessian(net, batch.Images, batch.Labels);
        int n = 2 * TinyLinearSupernet.Ops;
        Assert.Equal(n, h.GetLength(0));

        // Independent oracle: central differences of first-order autograd gradients in float64 (no double backward).
        double[] Gradient(double[] a)
        {
            using var scope = torch.NewDisposeScope();
            var alpha = torch.tensor(a, dtype: float64).reshape(2, TinyLinearSupernet.Ops).requires_grad_(true);
            var loss = nn.functional.cross_entropy(net.Forward(batch.Images, [alpha], SoftmaxActivation.Instance), batch.Labels);
            return torch.autograd.grad([loss], [alpha])[0].reshape(-1).data<double>().ToArray();
        }
        var a0 = net.ArchitectureParameters()[0].detach().reshape(-1).data<double>().ToArray();
        const double eps = 1e-5;
        var fd = new double[n, n];
        for (int j = 0; j < n; j++)
        {
            var plus = (double[])a0.Clone();
            var minus = (double[])a0.Clone();
            plus[j] += eps;
            minus[j] -= eps;
            var gp = Gradient(plus);
            var gm = Gradient(minus);
            for (int i = 0; i < n; i++) fd[i, j] = (gp[i] - gm[i]) / (2 * eps);
        }
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) Assert.Equal(fd[i, j], h[i, j], 7);
        double observed = ArchitectureHessianObserver.DominantEigenvalue(net, batch.Images, batch.Labels);
        double oracle = SymmetricEigen.Eigenvalues(fd)[0];
        output.WriteLine($"dominant eigenvalue {observed} (oracle {oracle})");
        Assert.Equal(oracle, observed, 6);
        // Softmax is invariant to a constant shift of a row, so each row's all-ones direction is in the null space.
        var ones = new double[n];
        for (int j = 0; j < TinyLinearSupernet.Ops; j++) ones[j] = 1;
        for (int i = 0; i < n; i++) Assert.Equal(0, Enumerable.Range(0, n).Sum(j => h[i, j] * ones[j]), 9);
    }

    [Fact]
    public void EveryEpochsMeasuresEveryKthAndTheLastEpochAndKeepsItsListThroughSaveAndLoad()
    {
        using var net = new TinyLinearSupernet(2);
        var train = TestHelpers.RandomBatch(1);
        var valid = TestHelpers.RandomBatch(2);
        using var observer = new ArchitectureHessianObserver { EveryEpochs = 2 };
        var metrics = new List<Dictionary<string, double>>();
        for (int epoch = 0; epoch < 3; epoch++)
        {
            observer.OnEpochStarting(new EpochStart(SearchClock.At(epoch, 3, 0, 1), 0.1, net, SoftmaxActivation.Instance));
            if (epoch != 1) observer.OnArchitectureStepped(TestHelpers.Step(net, train, valid, epoch));
            var m = new Dictionary<string, double>();
            observer.AddEpochMetrics(epoch, m);
            metrics.Add(m);
        }
        // Epoch 0: not due (k = 2). Epoch 1: due but no α step (warm-up-like) → NaN. Epoch 2: the last epoch → measured.
        Assert.True(double.IsNaN(observer.DominantEigenvalues[0]) && double.IsNaN(observer.DominantEigenvalues[1]));
        Assert.Empty(metrics[0]);
        Assert.Empty(metrics[1]);
        double expected = ArchitectureHessianObserver.DominantEigenvalue(net, valid.Images, valid.Labels);
        Assert.Equal(expected, observer.DominantEigenvalues[2]);
        Assert.Equal(expected, metrics[2][ArchitectureHessianObserver.MetricName]);

        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true)) observer.SaveState(w);
        buffer.Position = 0;
        using var restored = new ArchitectureHessianObserver();
        using (var r = new BinaryReader(buffer)) restored.LoadState(r);
        Assert.Equal(observer.DominantEigenvalues, restored.DominantEigenvalues);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ArchitectureHessianObserver { EveryEpochs = 0 });
    }

    private static CifarSearchData Data() =>
        new(TestData.Cifar10Train, new CifarSearchDataOptions { MaxTrainExamples = 64, MaxValidationExamples = 64 });

    private static SearchOptions Options() => new() { Epochs = 2, BatchSize = 16, Seed = 4, ArchitectureLearningRate = 3e-2, EpochValidationBatches = 2 };

    private static SearchRunner Runner(SearchOptions options, ArchitectureHessianObserver? observer) =>
        new(new Nb201SearchSpace(new Nb201Options { Channels = 4, CellsPerStage = 1 }), new DartsFirstOrder(), options: options)
        {
            Observers = observer is null ? [] : [observer],
        };

    private static double[] Flat(EpochRecord e) => e.Architecture.SelectMany(m => m.SelectMany(r => r)).ToArray();

    [Fact]
    public void Nb201SearchRecordsFiniteEigenvaluesPerEpochWithoutChangingTheSearchAndResumesToTheSameValues()
    {
        using var data = Data();
        using var observer = new ArchitectureHessianObserver();
        var result = Runner(Options(), observer).Run(data);
        var plain = Runner(Options(), null).Run(data);

        Assert.Equal(2, observer.DominantEigenvalues.Count);
        for (int e = 0; e < 2; e++)
        {
            double v = result.Epochs[e].Metrics[ArchitectureHessianObserver.MetricName];
            output.WriteLine($"epoch {e}: λ_max = {v}");
            Assert.True(double.IsFinite(v));
            Assert.Equal(observer.DominantEigenvalues[e], v);
            Assert.Equal(Flat(plain.Epochs[e]), Flat(result.Epochs[e])); // measuring does not change the search
            Assert.Equal(plain.Epochs[e].ValidationLoss, result.Epochs[e].ValidationLoss);
            Assert.Empty(plain.Epochs[e].Metrics);
        }

        var options = Options();
        options.CheckpointDirectory = Path.Combine(_temp, "ckpt");
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress(p =>
        {
            if (p.Epoch == 1 && p.Step == 2) cts.Cancel();
        });
        using (var first = new ArchitectureHessianObserver())
            Assert.Throws<OperationCanceledException>(() => Runner(options, first).Run(data, progress, cts.Token));
        using var second = new ArchitectureHessianObserver();
        var resumed = Runner(options, second).Run(data);
        Assert.Equal(observer.DominantEigenvalues, second.DominantEigenvalues);
        for (int e = 0; e < 2; e++)
            Assert.Equal(result.Epochs[e].Metrics[ArchitectureHessianObserver.MetricName], resumed.Epochs[e].Metrics[ArchitectureHessianObserver.MetricName]);
    }
}
