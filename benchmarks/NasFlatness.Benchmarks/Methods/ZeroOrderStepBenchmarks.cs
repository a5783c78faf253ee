using BenchmarkDotNet.Attributes;
using NasFlatness.Advanced;
using NasFlatness.Optimizers;
using NasFlatness.SearchSpaces.Nb201;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.Benchmarks.Methods;

/// <summary>
/// Cost of ZO-DARTS's two parts on the shape of <see cref="MethodStepBenchmarks"/> (NB201, C = 8, N = 1, batch 64, synthetic
/// inputs, search-cell BatchNorms without running statistics): the weight step with and without the shadow network's step
/// (paid on every weight step), and the zeroth-order architecture step (paid once per round of R = 10 steps). A ZO-DARTS
/// weight step of a round therefore costs "weight step (shadow)" and α adds "ZO architecture step" / R.
/// </summary>
[SlowStepJob(iterations: 5)]
public class ZeroOrderStepBenchmarks
{
    private Supernet _net = null!;
    private SGD _sgd = null!;
    private Adam _adam = null!;
    private ZeroOrderDarts _zo = null!;
    private Batch _train, _valid;
    private Parameter[] _weights = [];
    private long _step;

    /// <summary>Whether the weight step includes the shadow network's step.</summary>
    [Params(false, true)]
    public bool Shadow { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        TorchRuntime.EnsureCorrectCpuKernels();
        torch.manual_seed(0);
        _net = new Nb201SearchSpace(new Nb201Options { Channels = 8, CellsPerStage = 1, TrackRunningStats = false }).CreateSupernet(DatasetInfo.Cifar10);
        _weights = _net.WeightParameters().ToArray();
        _sgd = torch.optim.SGD(_weights, 0.025, 0.9, 0.0, 3e-4, false);
        _adam = torch.optim.Adam(_net.ArchitectureParameters(), 1.5e-2, 0.5, 0.999, 1e-8, 1e-3);
        _zo = new ZeroOrderDarts();
        _train = SyntheticBatch.Create();
        _valid = SyntheticBatch.Create();
        _zo.OnEpochStarting(new EpochStart(SearchClock.At(0, 50, 0, 100), 0.025, _net, SoftmaxActivation.Instance) { WeightOptimizer = WeightOptimizerState.FromSgd(_sgd, 0.025, 0.9, 3e-4) });
    }

    /// <summary>One weight step as the runner takes it, plus the shadow's step when <see cref="Shadow"/> is set.</summary>
    [Benchmark(Description = "weight step")]
    public void WeightStep()
    {
        using var scope = torch.NewDisposeScope();
        _sgd.zero_grad();
        var loss = nn.functional.cross_entropy(_net.ForwardFixedArchitecture(_train.Images, SoftmaxActivation.Instance), _train.Labels);
        loss.backward();
        double norm = nn.utils.clip_grad_norm_(_weights, 5.0);
        _sgd.step();
        if (Shadow) _zo.OnWeightStep(new NasFlatness.WeightStep(_net, _train, new SearchClock(0, 50, (int)(_step % 100), 100, _step), 0.025, loss.item<float>(), norm, false, SoftmaxActivation.Instance));
        _step++;
    }

    /// <summary>The zeroth-order architecture step: a, b from one validation pass, Ĝ, Adam, and the next round's start.</summary>
    [Benchmark(Description = "ZO architecture step")]
    public void ArchitectureStep()
    {
        using var scope = torch.NewDisposeScope();
        var state = WeightOptimizerState.FromSgd(_sgd, 0.025, 0.9, 3e-4);
        var step = new ArchitectureStep(_net, _train, _valid, state, SoftmaxActivation.Instance, new SearchClock(10, 50, 0, 100, _step++));
        ArchitectureStepper.Step(step, _zo, [], _net.ArchitectureParameters(), _adam);
        _zo.OnArchitectureStepped(step);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _zo.Dispose();
        _sgd.Dispose();
        _adam.Dispose();
        _net.Dispose();
    }
}
