using NasFlatness.Advanced;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using NasFlatness.Optimizers;
using NasFlatness.Search;
using NasFlatness.SearchSpaces.Darts;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.Benchmarks.Darts;

/// <summary>
/// One DARTS-space search step on the CPU — a first-order architecture step (DARTS-V1 gradient + Adam on α)
/// followed by a weight step (forward, backward, clip 5, SGD) — for the plain DARTS supernet and the PC-DARTS
/// supernet (K = 4, edge normalisation). Shape: C = 8, 5 cells, batch 16 of 3×32×32 random images, 10 classes
/// (a CPU-sized proxy of the paper's C = 16, 8 cells, batch 64), one libtorch thread. Native memory is not seen by the
/// MemoryDiagnoser; the process's peak resident set (VmHWM) is printed in the global cleanup.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class DartsSupernetBenchmarks
{
    private DartsSupernet _supernet = null!;
    private SGD _weightOptimizer = null!;
    private Adam _architectureOptimizer = null!;
    private Parameter[] _weights = null!;
    private Batch _train;
    private Batch _validation;
    private readonly DartsFirstOrder _darts = new();

    /// <summary>Supernet variant.</summary>
    [Params("darts", "pc-darts")]
    public string Variant { get; set; } = "darts";

    /// <summary>Channels C of the supernet.</summary>
    public const int Channels = 8;

    /// <summary>Cells of the supernet.</summary>
    public const int Cells = 5;

    /// <summary>Batch size of the train and validation batches.</summary>
    public const int BatchSize = 16;

    /// <summary>libtorch intra-op threads.</summary>
    public const int Threads = 1;

    [GlobalSetup]
    public void Setup()
    {
        TorchRuntime.EnsureCorrectCpuKernels();
        // One intra-op thread: on the shared 2-core VM, OpenMP synchronisation of many tiny kernels made
        // 2 threads 10-100x slower whenever another process was busy (docs/darts-space.md).
        torch.set_num_threads(Threads);
        torch.manual_seed(0);
        var options = new DartsSpaceOptions { Channels = Channels, Cells = Cells };
        if (Variant == "pc-darts")
        {
            options.PartialChannels = 4;
            options.EdgeNormalization = true;
        }
        _supernet = (DartsSupernet)new DartsSearchSpace(options).CreateSupernet(DatasetInfo.Cifar10);
        _weights = _supernet.WeightParameters().ToArray();
        _weightOptimizer = torch.optim.SGD(_weights, 0.025, 0.9, 0.0, 3e-4, false);
        _architectureOptimizer = torch.optim.Adam(_supernet.ArchitectureParameters(), 3e-4, 0.5, 0.999, 1e-8, 1e-3);
        _train = SyntheticBatch.Create(BatchSize);
        _validation = SyntheticBatch.Create(BatchSize);
    }

    /// <summary>First-order architecture step + weight step.</summary>
    [Benchmark]
    public float SearchStep()
    {
        using var scope = torch.NewDisposeScope();
        var state = new WeightOptimizerState(0.025, 0.9, 3e-4);
        var step = new ArchitectureStep(_supernet, _train, _validation, state, SoftmaxActivation.Instance);
        ArchitectureStepper.Step(step, _darts, [], _supernet.ArchitectureParameters(), _architectureOptimizer);
        _weightOptimizer.zero_grad();
        var loss = nn.functional.cross_entropy(_supernet.ForwardFixedArchitecture(_train.Images, SoftmaxActivation.Instance), _train.Labels);
        loss.backward();
        nn.utils.clip_grad_norm_(_weights, 5.0);
        _weightOptimizer.step();
        return loss.item<float>();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        string peak = PeakResidentSet();
        Console.WriteLine($"// DARTS supernet {Variant}: peak RSS {peak}");
        try
        {
            var dir = Path.Combine(Directory.GetCurrentDirectory(), "BenchmarkDotNet.Artifacts");
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, $"darts-peak-rss-{Variant}.txt"), peak + Environment.NewLine);
        }
        catch (IOException)
        {
        }
        _weightOptimizer.Dispose();
        _architectureOptimizer.Dispose();
        _supernet.Dispose();
    }

    /// <summary>VmHWM of /proc/self/status (Linux), e.g. "812345 kB"; "n/a" elsewhere.</summary>
    internal static string PeakResidentSet()
    {
        const string path = "/proc/self/status";
        if (!File.Exists(path)) return "n/a";
        var line = File.ReadLines(path).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        if (line is null) return "n/a";
        var kb = long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        return string.Create(CultureInfo.InvariantCulture, $"{kb / 1024.0:F0} MiB");
    }
}
