using BenchmarkDotNet.Attributes;
using NasFlatness.Advanced;
using NasFlatness.Optimizers;
using NasFlatness.SearchSpaces.Nb201;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.Benchmarks.Methods;

/// <summary>
/// One round of R = 10 search steps as the runner takes them (issue 14: ms per step of ZO-DARTS against DARTS 1st and 2nd
/// order in one run), on the shape of <see cref="MethodStepBenchmarks"/> (NB201, C = 8, N = 1, batch 64, synthetic inputs) with
/// the search-cell BatchNorms on batch statistics for every method (ZO-DARTS needs it). DARTS (1st / 2nd order): an α step
/// before each of the 10 weight steps. ZO-DARTS: 10 weight steps, each followed by the shadow network's step, and one
/// zeroth-order α step before the 10th (the <c>every-10-steps</c> schedule). Divide the round's time by 10 for ms per step.
/// One torch thread, 3 measured rounds after 1 warm-up round (a darts-2nd round is ≈ 10 s of one idle core).
/// </summary>
[SlowStepJob(iterations: 3)]
public class SearchRoundBenchmarks
{
    private const int Round = ZeroOrderPresets.RoundSteps;
    private Supernet _net = null!;
    private SGD _sgd = null!;
    private Adam _adam = null!;
    private IArchitectureOptimizer _optimizer = null!;
    private ZeroOrderDarts? _zo;
    private Batch _train, _valid;
    private Parameter[] _weights = [];
    private long _step;

    /// <summary>The method: <c>darts</c> (1st order), <c>darts-2nd</c> or <c>zo-darts</c>.</summary>
    [Params("darts", "darts-2nd", "zo-darts")]
    public string Method { get; set; } = "darts";

    [GlobalSetup]
    public void Setup()
    {
        TorchRuntime.EnsureCorrectCpuKernels();
        torch.set_num_threads(1); // as the searches (one thread each)
        torch.manual_seed(0);
        _net = new Nb201SearchSpace(new Nb201Options { Channels = 8, CellsPerStage = 1, TrackRunningStats = false }).CreateSupernet(DatasetInfo.Cifar10);
        _weights = _net.WeightParameters().ToArray();
        _sgd = torch.optim.SGD(_weights, 0.025, 0.9, 0.0, 3e-4, false);
        _adam = torch.optim.Adam(_net.ArchitectureParameters(), 3e-4, 0.5, 0.999, 1e-8, 1e-3);
        if (Method == "zo-darts")
        {
            _zo = new ZeroOrderDarts();
            _optimizer = _zo;
            _zo.OnEpochStarting(new EpochStart(SearchClock.At(0, 50, 0, 100), 0.025, _net, SoftmaxActivation.Instance) { WeightOptimizer = WeightOptimizerState.FromSgd(_sgd, 0.025, 0.9, 3e-4) });
        }
        else
        {
            _optimizer = MethodPresets.Get(Method).CreateOptimizer();
        }
        _train = SyntheticBatch.Create();
        _valid = SyntheticBatch.Create();
    }

    /// <summary>Ten search steps (one ZO round).</summary>
    [Benchmark(Description = "round of 10 search steps")]
    public void SearchRound()
    {
        for (int s = 0; s < Round; s++)
        {
            using var scope = torch.NewDisposeScope();
            bool alpha = _zo is null || s == Round - 1;
            if (alpha)
            {
                var state = WeightOptimizerState.FromSgd(_sgd, 0.025, 0.9, 3e-4);
                var step = new ArchitectureStep(_net, _train, _valid, state, SoftmaxActivation.Instance, new SearchClock(10, 50, s, 100, _step));
                ArchitectureStepper.Step(step, _optimizer, [], _net.ArchitectureParameters(), _adam);
                _zo?.OnArchitectureStepped(step);
            }
            _sgd.zero_grad();
            var loss = nn.functional.cross_entropy(_net.ForwardFixedArchitecture(_train.Images, SoftmaxActivation.Instance), _train.Labels);
            loss.backward();
            double norm = nn.utils.clip_grad_norm_(_weights, 5.0);
            _sgd.step();
            _zo?.OnWeightStep(new NasFlatness.WeightStep(_net, _train, new SearchClock(10, 50, s, 100, _step), 0.025, loss.item<float>(), norm, alpha, SoftmaxActivation.Instance));
            _step++;
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _zo?.Dispose();
        _sgd.Dispose();
        _adam.Dispose();
        _net.Dispose();
    }
}
