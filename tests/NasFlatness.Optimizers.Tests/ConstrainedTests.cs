using NasFlatness.Genotypes;
using NasFlatness.Search;
using NasFlatness.SearchSpaces;
using NasFlatness.SearchSpaces.Darts;
using NasFlatness.SearchSpaces.Nb201;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace NasFlatness.Optimizers.Tests;

/// <summary>p = α: lets the oracles of docs/spec/secondary-methods.md §3.5 be stated on p directly.</summary>
internal sealed class IdentityActivation : IArchitectureActivation
{
    public string Name => "identity";

    public Tensor Activate(Tensor logits) => logits.alias();
}

[Collection(TorchCollection.Name)]
public sealed class ConstrainedTests
{
    private static ArchitectureStep StepAt(Supernet net, IArchitectureActivation activation, int epoch, int totalEpochs, int step = 0, int stepsPerEpoch = 1) =>
        new(net, TestHelpers.RandomBatch(1), TestHelpers.RandomBatch(2), new WeightOptimizerState(0.1, 0.9, 3e-4), activation, new SearchClock(epoch, totalEpochs, step, stepsPerEpoch, 0));

    private static double[] Values(Tensor t) => t.detach().to(float64).contiguous().data<double>().ToArray();

    private static void SetAlpha(Supernet net, double[,] values)
    {
        using var noGrad = torch.no_grad();
        net.ArchitectureParameters()[0].copy_(torch.tensor(values, dtype: float64));
    }

    // ---------------- proximity ----------------

    [Fact]
    public void ProximityOracle()
    {
        using var scope = torch.NewDisposeScope();
        using var net = new TinyLinearSupernet(1);
        var identity = new IdentityActivation();
        var alpha = torch.tensor(new double[,] { { 0.5, 0.3, 0.2 }, { 1, 0, 0 } }, dtype: float64).requires_grad_(true);
        var step = StepAt(net, identity, epoch: 1, totalEpochs: 2); // t/T = 0.5
        Assert.Equal(0.5, step.Progress);
        var term = new ProximityRegularizer(0.1).LossTerm([alpha], step)!;
        Assert.Equal(0.5 * 0.05 * Math.Sqrt(0.38), term.item<double>(), 12);
        Assert.Equal(0.015411, term.item<double>(), 6);
        var grad = Values(torch.autograd.grad([term], [alpha])[0]);
        double[] expected = [-0.020278, 0.012167, 0.008111, 0, 0, 0];
        for (int i = 0; i < 6; i++) Assert.Equal(expected[i], grad[i], 6);
        // Exactly 0.025·(p − D)/‖p − D‖: no gradient through D.
        double n = Math.Sqrt(0.38);
        Assert.Equal(0.025 * -0.5 / n, grad[0], 14);
        Assert.Equal(0.025 * 0.3 / n, grad[1], 14);

        // No term at the start of the search (t = 0).
        Assert.Null(new ProximityRegularizer().LossTerm([alpha], StepAt(net, identity, 0, 2)));
        // The fractional clock: epoch 1, step 1 of 4, of 2 epochs → t/T = 0.625.
        var later = new ProximityRegularizer(0.1).LossTerm([alpha], StepAt(net, identity, 1, 2, step: 1, stepsPerEpoch: 4))!;
        Assert.Equal(0.625 * 0.05 * Math.Sqrt(0.38), later.item<double>(), 12);
    }

    [Fact]
    public void ProximityGradientUnderSoftmaxMatchesFiniteDifferencesWithDHeldFixed()
    {
        using var scope = torch.NewDisposeScope();
        using var net = new TinyLinearSupernet(3);
        var a0 = torch.tensor(new double[,] { { 0.9, -0.2, 0.4 }, { -0.3, 0.1, 0.25 } }, dtype: float64);
        var alpha = a0.clone().requires_grad_(true);
        var step = StepAt(net, SoftmaxActivation.Instance, 3, 10);
        var reg = new ProximityRegularizer(0.1);
        var grad = Values(torch.autograd.grad([reg.LossTerm([alpha], step)!], [alpha])[0]);
        // Independent: the plain formula with D = one-hot(argmax α) fixed, by central differences.
        var v = Values(a0);
        double F(double[] x)
        {
            double total = 0;
            for (int r = 0; r < 2; r++) // one Frobenius norm over the whole tensor
            {
                var row = x.Skip(3 * r).Take(3).ToArray();
                int best = Array.IndexOf(v.Skip(3 * r).Take(3).ToArray(), v.Skip(3 * r).Take(3).Max());
                double max = row.Max(), sum = row.Sum(z => Math.Exp(z - max));
                for (int o = 0; o < 3; o++)
                {
                    double d = Math.Exp(row[o] - max) / sum - (o == best ? 1 : 0);
                    total += d * d;
                }
            }
            return 0.3 * 0.05 * Math.Sqrt(total);
        }
        Assert.Equal(F(v), reg.LossTerm([a0], step)!.item<double>(), 13);
        const double h = 1e-6;
        for (int i = 0; i < v.Length; i++)
        {
            var plus = (double[])v.Clone(); plus[i] += h;
            var minus = (double[])v.Clone(); minus[i] -= h;
            Assert.Equal((F(plus) - F(minus)) / (2 * h), grad[i], 9);
        }
    }

    [Fact]
    public void NormHasAZeroGradientAtZero()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.zeros([2, 3], dtype: float64).requires_grad_(true);
        var g = torch.autograd.grad([ProximityRegularizer.FrobeniusNorm(x)], [x])[0];
        Assert.True(g.eq(0).all().item<bool>());
        var y = torch.tensor(new double[] { 3, 4 }, dtype: float64);
        Assert.Equal(5.0, ProximityRegularizer.FrobeniusNorm(y).item<double>(), 15);
    }

    // ---------------- D(p) ----------------

    [Fact]
    public void DefaultIndicatorIsRowOneHotAndDetached()
    {
        using var scope = torch.NewDisposeScope();
        using var net = new TinyLinearSupernet(1);
        var p = torch.tensor(new double[,] { { 0.2, 0.5, 0.3 }, { 0.4, 0.4, 0.2 } }, dtype: float64).requires_grad_(true);
        var beta = torch.tensor(new double[] { 0.1, -0.2 }, dtype: float64);
        var d = net.DiscreteIndicator([p, beta]);
        Assert.Equal([0, 1, 0, 1, 0, 0], Values(d[0])); // tie → lower column
        Assert.False(d[0].requires_grad);
        Assert.Equal(float64, d[0].dtype);
        Assert.Equal(Values(beta), Values(d[1]));
    }

    [Fact]
    public void Nb201IndicatorIsPerEdgeOneHotOfTheDerivedGenotype()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(5);
        using var net = new Nb201SearchSpace(new Nb201Options { Channels = 4, CellsPerStage = 1 }).CreateSupernet(DatasetInfo.Cifar10);
        var alpha = torch.randn([6, 5], dtype: float64);
        var d = net.DiscreteIndicator(net.MixingWeights([alpha], SoftmaxActivation.Instance));
        var genotype = (Nb201Genotype)net.DeriveGenotype([alpha], SoftmaxActivation.Instance);
        var values = Values(d[0]);
        var expected = new double[30];
        for (int e = 0; e < 6; e++) expected[e * 5 + genotype.Operations[e]] = 1;
        Assert.Equal(expected, values);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DartsIndicatorMarksTheTwoKeptEdgesPerNodeAtTheirBestNonNoneOperation(bool edgeNormalization)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(11);
        var space = new DartsSearchSpace(new DartsSpaceOptions { Channels = 4, Cells = 3, EdgeNormalization = edgeNormalization });
        using var net = space.CreateSupernet(DatasetInfo.Cifar10);
        var architecture = net.ArchitectureParameters().Select(a => (Tensor)(torch.randn(a.shape, dtype: float64) * 2)).ToArray();
        // Make none the largest on one edge: it must still not be marked.
        architecture[0][3, 0] = torch.tensor(10.0, dtype: float64);
        var p = net.MixingWeights(architecture, SoftmaxActivation.Instance);
        var d = net.DiscreteIndicator(p);
        var genotype = (DartsGenotype)net.DeriveGenotype(architecture, SoftmaxActivation.Instance);
        var names = space.OperationNames;
        foreach (var (cell, indicator) in new[] { (genotype.Normal, d[0]), (genotype.Reduce, d[1]) })
        {
            var v = Values(indicator);
            Assert.Equal(8.0, v.Sum()); // 4 nodes × 2 edges, one operation each
            var expected = new double[14 * names.Count];
            int start = 0;
            for (int node = 0; node < 4; node++)
            {
                foreach (var edge in cell.Skip(2 * node).Take(2))
                    expected[(start + edge.Input) * names.Count + names.ToList().IndexOf(edge.Operation)] = 1;
                start += node + 2;
            }
            Assert.Equal(expected, v);
            for (int e = 0; e < 14; e++) Assert.Equal(0.0, v[e * names.Count]); // none never kept
        }
        Assert.Equal(edgeNormalization ? 4 : 2, d.Count);
        if (edgeNormalization) Assert.Equal(Values(architecture[2]), Values(d[2]));
    }

    // ---------------- ADMM ----------------

    [Fact]
    public void AdmmPaperFormOracle()
    {
        using var scope = torch.NewDisposeScope();
        using var net = new TinyLinearSupernet(1);
        var identity = new IdentityActivation();
        SetAlpha(net, new double[,] { { 0.5, 0.3, 0.2 }, { 1, 0, 0 } });
        var admm = new AdmmRegularizer(new AdmmOptions { PaperForm = true, UpdateEvery = 2 });
        admm.OnEpochStarting(new EpochStart(SearchClock.At(0, 2, 0, 1), 0.1, net, identity));
        Assert.Equal([0.5, 0.3, 0.2, 1, 0, 0], Values(admm.Targets()![0])); // Z starts at p
        Assert.Equal(new double[6], Values(admm.Duals()![0]));

        var step = TestHelpers.Step(net, TestHelpers.RandomBatch(1), TestHelpers.RandomBatch(2), activation: identity);
        var alpha = step.CurrentArchitecture();
        var zeroTerm = admm.LossTerm(alpha, step)!;
        Assert.Equal(0.0, zeroTerm.item<double>(), 15);
        Assert.True(torch.autograd.grad([zeroTerm], [alpha[0]])[0].eq(0).all().item<bool>()); // no NaN at p − Z + U = 0

        admm.OnArchitectureStepped(step); // 1 of 2: no update yet
        Assert.Equal(0, admm.Updates);
        admm.OnArchitectureStepped(step);
        Assert.Equal(1, admm.Updates);
        Assert.Equal([1, 0, 0, 1, 0, 0], Values(admm.Targets()![0]));
        var u = Values(admm.Duals()![0]);
        double[] expectedU = [-0.5, 0.3, 0.2, 0, 0, 0];
        for (int i = 0; i < 6; i++) Assert.Equal(expectedU[i], u[i], 15);

        alpha = step.CurrentArchitecture();
        var term = admm.LossTerm(alpha, step)!;
        Assert.Equal(0.05 * Math.Sqrt(1.52), term.item<double>(), 14);
        Assert.Equal(0.05 * 1.23288, term.item<double>(), 6);
        var grad = Values(torch.autograd.grad([term], [alpha[0]])[0]);
        double[] expectedGrad = [0.05 * -0.8111, 0.05 * 0.4867, 0.05 * 0.3244, 0, 0, 0];
        for (int i = 0; i < 6; i++) Assert.Equal(expectedGrad[i], grad[i], tolerance: 5e-6); // the oracle has 4 digits
        double[] arg = [-1, 0.6, 0.4];
        for (int i = 0; i < 3; i++) Assert.Equal(0.05 * arg[i] / Math.Sqrt(1.52), grad[i], 14);

        admm.Update(net, identity); // the dual flips the target: argmax(p + U) = argmax([0, 0.6, 0.4]) = op 1
        Assert.Equal([0, 1, 0, 1, 0, 0], Values(admm.Targets()![0]));
        u = Values(admm.Duals()![0]);
        double[] expectedU2 = [0, -0.4, 0.4, 0, 0, 0];
        for (int i = 0; i < 6; i++) Assert.Equal(expectedU2[i], u[i], 14);
    }

    [Fact]
    public void AdmmCodeFormUsesRawAlpha()
    {
        using var scope = torch.NewDisposeScope();
        using var net = new TinyLinearSupernet(1); // softmax
        SetAlpha(net, new double[,] { { 1.0, 0.6, 0.0 }, { 0.2, -0.1, 0.3 } });
        var admm = new AdmmRegularizer(new AdmmOptions { UpdateEvery = 1 });
        admm.OnEpochStarting(new EpochStart(SearchClock.At(0, 2, 0, 1), 0.1, net, SoftmaxActivation.Instance));
        Assert.Equal([1.0, 0.6, 0.0, 0.2, -0.1, 0.3], Values(admm.Targets()![0])); // Z starts at α

        var step = TestHelpers.Step(net, TestHelpers.RandomBatch(1), TestHelpers.RandomBatch(2));
        double Softmax(double[] row, int o) => Math.Exp(row[o]) / row.Sum(Math.Exp);
        double[][] a = [[1.0, 0.6, 0.0], [0.2, -0.1, 0.3]];
        double NormOf(Func<int, int, double> entry)
        {
            double s = 0;
            for (int r = 0; r < 2; r++)
                for (int o = 0; o < 3; o++) s += entry(r, o) * entry(r, o);
            return Math.Sqrt(s);
        }
        // Initially ρ/2·‖softmax(α) − α‖ over the whole tensor.
        Assert.Equal(0.05 * NormOf((r, o) => Softmax(a[r], o) - a[r][o]), admm.LossTerm(step.CurrentArchitecture(), step)!.item<double>(), 13);

        Assert.Equal([1, 0, 0, 0, 0, 1], Values(net.DiscreteIndicator(step.MixingWeights(step.CurrentArchitecture()))[0]));
        admm.OnArchitectureStepped(step); // Z ← D(softmax(α + 0)), U ← α − Z
        Assert.Equal([1, 0, 0, 0, 0, 1], Values(admm.Targets()![0]));
        var u = Values(admm.Duals()![0]);
        double[] expectedU = [0, 0.6, 0, 0.2, -0.1, -0.7];
        for (int i = 0; i < 6; i++) Assert.Equal(expectedU[i], u[i], 14);

        admm.OnArchitectureStepped(step); // α + U = [1, 1.2, 0]: the target flips to op 1 (row 2: [0.4, −0.2, −0.4] → op 0)
        Assert.Equal([0, 1, 0, 1, 0, 0], Values(admm.Targets()![0]));
        u = Values(admm.Duals()![0]);
        double[] expectedU2 = [1, 0.2, 0, -0.6, -0.2, -0.4];
        for (int i = 0; i < 6; i++) Assert.Equal(expectedU2[i], u[i], 14);
    }

    [Fact]
    public void AdmmStateRoundTrips()
    {
        using var scope = torch.NewDisposeScope();
        using var net = new TinyLinearSupernet(2);
        var admm = new AdmmRegularizer(new AdmmOptions { UpdateEvery = 3 });
        admm.OnEpochStarting(new EpochStart(SearchClock.At(0, 2, 0, 1), 0.1, net, SoftmaxActivation.Instance));
        var step = TestHelpers.Step(net, TestHelpers.RandomBatch(1), TestHelpers.RandomBatch(2));
        for (int i = 0; i < 4; i++) admm.OnArchitectureStepped(step);
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true)) admm.SaveState(w);
        buffer.Position = 0;
        var copy = new AdmmRegularizer(new AdmmOptions { UpdateEvery = 3 });
        using (var r = new BinaryReader(buffer)) copy.LoadState(r);
        Assert.Equal((4L, 1L), (copy.ArchitectureSteps, copy.Updates));
        Assert.Equal(Values(admm.Targets()![0]), Values(copy.Targets()![0]));
        Assert.Equal(Values(admm.Duals()![0]), Values(copy.Duals()![0]));
        Assert.Equal(admm.LossTerm(step.CurrentArchitecture(), step)!.item<double>(), copy.LossTerm(step.CurrentArchitecture(), step)!.item<double>());
        copy.OnArchitectureStepped(step);
        copy.OnArchitectureStepped(step);
        Assert.Equal(2, copy.Updates); // the count resumed: the 6th α step updates
    }

    [Fact]
    public void AdmmOptionsAreValidated()
    {
        var ex = Assert.Throws<ArgumentException>(() => new AdmmRegularizer(new AdmmOptions { UpdateEvery = 0, Rho = -1 }));
        Assert.Contains("UpdateEvery = 0", ex.Message);
        Assert.Contains("Rho = -1", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProximityRegularizer(double.NaN));
    }

    // ---------------- dynamic schedule ----------------

    private static WeightStep FakeWeightStep(int t, double gradientNorm, bool updated) =>
        new(null!, default, new SearchClock(0, 1, t, 1000, t), 0.025, 2.3, gradientNorm, updated, SoftmaxActivation.Instance);

    private static List<int> Drive(DynamicUpdateSchedule schedule, int from, int to, Func<int, double> information)
    {
        var steps = new List<int>();
        for (int t = from; t < to; t++)
        {
            bool update = schedule.ShouldUpdate(new ScheduleContext(new SearchClock(0, 1, t, 1000, t), null));
            if (update) steps.Add(t);
            schedule.OnWeightStep(FakeWeightStep(t, Math.Sqrt(information(t)), update));
        }
        return steps;
    }

    [Fact]
    public void DynamicScheduleOracleWithConstantInformation()
    {
        var schedule = new DynamicUpdateSchedule();
        var steps = Drive(schedule, 0, 80, _ => 2.0);
        Assert.Equal([15, 26, 37, 48, 59, 70], steps);
        Assert.Equal(6, schedule.ArchitectureSteps);
        Assert.Equal(80, schedule.Decisions);
    }

    [Fact]
    public void DynamicScheduleAverageAndThresholdFollowTheRules()
    {
        var schedule = new DynamicUpdateSchedule(new DynamicScheduleOptions { InitialThreshold = 10, Frequency = 2 });
        Assert.Equal(-1, schedule.Average);
        Assert.False(schedule.ShouldUpdate(new ScheduleContext(new SearchClock(0, 1, 0, 10, 0), null))); // no average yet
        Assert.Equal(10 * 1.05, schedule.Threshold, 14);
        schedule.Observe(4);
        Assert.Equal(4, schedule.Average); // starts at FI_0
        schedule.Observe(9);
        Assert.Equal(0.2 * 9 + 0.8 * 4, schedule.Average, 14);
        Assert.True(schedule.ShouldUpdate(new ScheduleContext(new SearchClock(0, 1, 1, 10, 1), null))); // 0 < 5 < 10.5
        Assert.Equal(10 * 1.05 * Math.Pow(1.05, -2), schedule.Threshold, 13);
        Assert.Equal(10.0 / 11, DynamicUpdateSchedule.TrainPortionFor(10), 15);
        Assert.Throws<ArgumentException>(() => new DynamicUpdateSchedule(new DynamicScheduleOptions { Multiplier = 1 }));
    }

    [Fact]
    public void DynamicScheduleStateRoundTripsMidway()
    {
        Func<int, double> fi = t => 1.5 + Math.Sin(t * 0.7);
        var whole = new DynamicUpdateSchedule();
        var all = Drive(whole, 0, 120, fi);

        var first = new DynamicUpdateSchedule();
        var part = Drive(first, 0, 57, fi);
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true)) first.SaveState(w);
        buffer.Position = 0;
        var second = new DynamicUpdateSchedule();
        using (var r = new BinaryReader(buffer)) second.LoadState(r);
        part.AddRange(Drive(second, 57, 120, fi));
        Assert.Equal(all, part);
        Assert.NotEmpty(all);
        Assert.Equal(whole.Threshold, second.Threshold);
        Assert.Equal(whole.Average, second.Average);
    }

    // ---------------- unit clamp ----------------

    [Fact]
    public void UnitClampOracleAndPermanentMask()
    {
        using var scope = torch.NewDisposeScope();
        var clamp = new UnitClampActivation(new UnitClampOptions { InitializeUniform = false });
        Assert.Equal([0, 0.3, 1.0], Values(clamp.Activate(torch.tensor(new[] { -0.1, 0.3, 1.4 }, dtype: float64))));

        using var net = new TinyLinearSupernet(1);
        SetAlpha(net, new double[,] { { -0.1, 0.3, 1.4 }, { 0.5, 0.5, 0.5 } });
        clamp.OnEpochStarting(new EpochStart(SearchClock.At(0, 2, 0, 1), 0.1, net, clamp));
        Assert.Equal([0, 1, 1, 1, 1, 1], Values(clamp.MaskOf(0)!));
        Assert.Equal([0, 0.3, 1.4, 0.5, 0.5, 0.5], Values(net.ArchitectureParameters()[0]));
        Assert.Equal(1, clamp.MaskedCount);

        // A later step raises α of op 0 above 0: it stays masked (α back to 0, p = 0).
        SetAlpha(net, new double[,] { { 0.7, 0.3, 1.4 }, { 0.5, -0.01, 0.5 } });
        var step = TestHelpers.Step(net, TestHelpers.RandomBatch(1), TestHelpers.RandomBatch(2), activation: clamp);
        clamp.OnArchitectureStepped(step);
        Assert.Equal([0, 0.3, 1.4, 0.5, 0, 0.5], Values(net.ArchitectureParameters()[0]));
        Assert.Equal([0, 0.3, 1.0, 0.5, 0, 0.5], Values(net.MixingWeights(net.ArchitectureParameters().Cast<Tensor>().ToArray(), clamp)[0]));
        Assert.Equal(2, clamp.MaskedCount);

        // The mask survives a save/load into a fresh activation.
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true)) clamp.SaveState(w);
        buffer.Position = 0;
        var restored = new UnitClampActivation(new UnitClampOptions { InitializeUniform = false });
        using (var r = new BinaryReader(buffer)) restored.LoadState(r);
        restored.OnEpochStarting(new EpochStart(SearchClock.At(1, 2, 0, 1), 0.1, net, restored)); // a resumed epoch: no re-initialisation
        SetAlpha(net, new double[,] { { 0.9, 0.3, 1.4 }, { 0.5, 0.8, 0.5 } });
        restored.OnArchitectureStepped(step);
        Assert.Equal([0, 0.3, 1.4, 0.5, 0, 0.5], Values(net.ArchitectureParameters()[0]));
        Assert.Equal(Values(clamp.MaskOf(0)!), Values(restored.MaskOf(0)!));
    }

    [Fact]
    public void UnitClampInitialisesLikeTheCodeAndExcludesColumns()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(3);
        using var net = new TinyLinearSupernet(1);
        var clamp = new UnitClampActivation(new UnitClampOptions { ExcludedColumns = [0] });
        clamp.OnEpochStarting(new EpochStart(SearchClock.At(0, 2, 0, 1), 0.1, net, clamp));
        var alpha = Values(net.ArchitectureParameters()[0]);
        for (int r = 0; r < 2; r++)
        {
            Assert.Equal(0.0, alpha[3 * r]); // excluded
            for (int o = 1; o < 3; o++) Assert.InRange(alpha[3 * r + o], 1.0 / 3 - 1e-3, 1.0 / 3 + 1e-3);
        }
        Assert.Equal(2, clamp.MaskedCount);
        Assert.Throws<ArgumentException>(() => new UnitClampActivation(new UnitClampOptions { ExcludedColumns = [-1] }));
    }

    // ---------------- presets and composition ----------------

    [Fact]
    public void PresetsResolveAndCompose()
    {
        Assert.Equal(["darts-prime", "darts+prox", "darts+admm", "darts-clamp"], ConstrainedPresets.Names);
        foreach (var name in ConstrainedPresets.Names) Assert.Equal(name, MethodPresets.Get(name).Name);
        Assert.Same(ConstrainedPresets.DartsClamp, MethodPresets.Get("DARTS-CRB"));
        Assert.Equal(DynamicUpdateSchedule.ScheduleName, ConstrainedPresets.DartsPrime.Schedule);
        Assert.Equal(["prox"], ConstrainedPresets.DartsPrime.Regularizers);

        var registry = new NasFlatnessRegistry().AddBuiltInSearchSpaces().AddBuiltInMethods();
        var prime = registry.CreateRunner(new SearchComposition { Method = "darts-prime" });
        Assert.IsType<DynamicUpdateSchedule>(prime.Schedule);
        Assert.IsType<ProximityRegularizer>(Assert.Single(prime.Regularizers));
        Assert.IsType<SoftmaxActivation>(prime.Activation);
        var clamp = registry.CreateRunner(new SearchComposition { Method = "darts-clamp" });
        Assert.Equal([0], Assert.IsType<UnitClampActivation>(clamp.Activation).Options.ExcludedColumns);
        Assert.IsType<AdmmRegularizer>(Assert.Single(registry.CreateRunner(new SearchComposition { Method = "darts+admm" }).Regularizers));

        // A²M composes with all four (first order); β-decay with the softmax ones only.
        foreach (var preset in ConstrainedPresets.All)
        {
            var withA2M = preset.WithA2M();
            Assert.Equal(preset.Name + "+a2m", withA2M.Name);
            Assert.Equal("a2m", withA2M.Regularizers[^1]);
        }
        Assert.Equal(["prox", "beta-decay"], ConstrainedPresets.DartsPrime.WithBetaDecay().Regularizers);
        var refused = Assert.Throws<InvalidOperationException>(() => ConstrainedPresets.DartsClamp.WithBetaDecay());
        Assert.Contains("unit-clamp", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnitClampWithBetaDecayIsRefusedBeforeCompute()
    {
        var registry = new NasFlatnessRegistry().AddBuiltInSearchSpaces().AddBuiltInMethods();
        var runner = registry.CreateRunner(new SearchComposition { Method = "darts-clamp", Regularizers = ["beta-decay"] });
        var ex = Assert.Throws<ArgumentException>(() => runner.Run(new ThrowingData()));
        Assert.Contains("'unit-clamp' activation cannot be combined with the 'beta-decay' regularizer", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>Search data that fails if the search touches it beyond its shape.</summary>
    private sealed class ThrowingData : ISearchDataset
    {
        public DatasetInfo Info => DatasetInfo.Cifar10;

        public int Count(SearchSplit split) => 64;

        public Batch GetBatch(SearchSplit split, ReadOnlySpan<int> indices, bool augment, Random random, Device device) =>
            throw new InvalidOperationException("The search should have been refused before reading data.");

        public void Dispose()
        {
        }
    }
}
