using NasFlatness.Advanced;
using BenchmarkDotNet.Attributes;
using NasFlatness.Optimizers;
using NasFlatness.Search;
using NasFlatness.SearchSpaces.Nb201;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.Benchmarks.Search;

/// <summary>
/// One step of the NAS-Bench-201 supernet at the paper's shape (C=16, N=5, batch 64, 32×32, CIFAR-10 classes):
/// the weight step (forward, backward, clip, SGD) and the architecture step (first and second order, incl. the Adam update).
/// Synthetic normal inputs; time is what matters here. Allocated = managed memory only (native tensors are not seen).
/// </summary>
[SlowStepJob]
public class SupernetStepBenchmarks
{
    private Nb201Supernet _net = null!;
    private SGD _sgd = null!;
    private Adam _adam = null!;
    private Parameter[] _weights = null!;
    private Batch _train, _valid;

    /// <summary>Shape: C and N of the supernet.</summary>
    [Params("C16N5", "C8N1")]
    public string Shape { get; set; } = "C16N5";

    [GlobalSetup]
    public void Setup()
    {
        TorchRuntime.EnsureCorrectCpuKernels();
        torch.manual_seed(0);
        var (c, n) = Shape == "C16N5" ? (16, 5) : (8, 1);
        _net = (Nb201Supernet)new Nb201SearchSpace(new Nb201Options { Channels = c, CellsPerStage = n }).CreateSupernet(DatasetInfo.Cifar10);
        _weights = _net.WeightParameters().ToArray();
        _sgd = torch.optim.SGD(_weights, 0.025, 0.9, 0.0, 3e-4, false);
        _adam = torch.optim.Adam(_net.ArchitectureParameters(), 3e-4, 0.5, 0.999, 1e-8, 1e-3);
        _train = SyntheticBatch.Create();
        _valid = SyntheticBatch.Create();
        WeightStep(); // fills the momentum buffers second order reads
    }

    [Benchmark(Description = "weight step")]
    public void WeightStep()
    {
        using var scope = torch.NewDisposeScope();
        _sgd.zero_grad();
        var loss = nn.functional.cross_entropy(_net.ForwardFixedArchitecture(_train.Images, SoftmaxActivation.Instance), _train.Labels);
        loss.backward();
        nn.utils.clip_grad_norm_(_weights, 5.0);
        _sgd.step();
    }

    [Benchmark(Description = "architecture step, first order")]
    public void ArchitectureFirstOrder() => ArchitectureStep(new DartsFirstOrder());

    [Benchmark(Description = "architecture step, second order")]
    public void ArchitectureSecondOrder() => ArchitectureStep(new DartsSecondOrder());

    private void ArchitectureStep(IArchitectureOptimizer optimizer)
    {
        using var scope = torch.NewDisposeScope();
        var state = WeightOptimizerState.FromSgd(_sgd, 0.025, 0.9, 3e-4);
        var step = new ArchitectureStep(_net, _train, _valid, state, SoftmaxActivation.Instance);
        ArchitectureStepper.Step(step, optimizer, [], _net.ArchitectureParameters(), _adam);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _sgd.Dispose();
        _adam.Dispose();
        _net.Dispose();
    }
}
