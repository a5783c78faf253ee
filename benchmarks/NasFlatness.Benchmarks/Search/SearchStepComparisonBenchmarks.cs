using BenchmarkDotNet.Attributes;
using NasFlatness.Optimizers;
using NasFlatness.Search;
using NasFlatness.SearchSpaces.Nb201;
using NasFlatness.SearchSpaces.Nb201.Reference;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.Benchmarks.Search;

/// <summary>
/// One full search step (architecture step on a validation batch + weight step on a training batch,
/// batch 64, 32×32, CIFAR-10 classes) of the library's NB201 supernet against the straightforward
/// transcription (<see cref="Nb201ReferenceSupernet"/>), measured in the same run, at the three shapes of
/// the performance issue. Synthetic normal inputs.
/// </summary>
[SlowStepJob(iterations: 5)]
public class SearchStepComparisonBenchmarks
{
    private Supernet _net = null!;
    private SGD _sgd = null!;
    private Adam _adam = null!;
    private Parameter[] _weights = null!;
    private Batch _train, _valid;
    private IArchitectureOptimizer _optimizer = null!;

    /// <summary>Supernet shape.</summary>
    [Params("C16N5", "C16N1", "C8N1")]
    public string Shape { get; set; } = "C8N1";

    /// <summary>Library (optimised) or straightforward transcription.</summary>
    [Params("library", "straightforward")]
    public string Implementation { get; set; } = "library";

    /// <summary>Architecture optimizer.</summary>
    [Params("darts-1st", "darts-2nd")]
    public string Optimizer { get; set; } = "darts-1st";

    [GlobalSetup]
    public void Setup()
    {
        TorchRuntime.EnsureCorrectCpuKernels();
        torch.manual_seed(0);
        var (c, n) = Shape switch { "C16N5" => (16, 5), "C16N1" => (16, 1), _ => (8, 1) };
        var options = new Nb201Options { Channels = c, CellsPerStage = n };
        _net = Implementation == "library"
            ? new Nb201SearchSpace(options).CreateSupernet(DatasetInfo.Cifar10)
            : new Nb201ReferenceSupernet(options, DatasetInfo.Cifar10);
        _weights = _net.WeightParameters().ToArray();
        _sgd = torch.optim.SGD(_weights, 0.025, 0.9, 0.0, 3e-4, false);
        _adam = torch.optim.Adam(_net.ArchitectureParameters(), 3e-4, 0.5, 0.999, 1e-8, 1e-3);
        _optimizer = Optimizer == "darts-1st" ? new DartsFirstOrder() : new DartsSecondOrder();
        _train = new Batch(torch.randn(64, 3, 32, 32).DetachFromDisposeScope(), torch.randint(10, [64]).DetachFromDisposeScope());
        _valid = new Batch(torch.randn(64, 3, 32, 32).DetachFromDisposeScope(), torch.randint(10, [64]).DetachFromDisposeScope());
    }

    [Benchmark(Description = "search step")]
    public void SearchStep()
    {
        using var scope = torch.NewDisposeScope();
        var state = WeightOptimizerState.FromSgd(_sgd, 0.025, 0.9, 3e-4);
        ArchitectureStepper.Step(new ArchitectureStep(_net, _train, _valid, state), _optimizer, [], _net.ArchitectureParameters(), _adam);
        _sgd.zero_grad();
        nn.functional.cross_entropy(_net.forward(_train.Images), _train.Labels).backward();
        nn.utils.clip_grad_norm_(_weights, 5.0);
        _sgd.step();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _sgd.Dispose();
        _adam.Dispose();
        _net.Dispose();
    }
}
