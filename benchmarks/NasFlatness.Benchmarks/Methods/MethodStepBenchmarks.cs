using NasFlatness.SearchSpaces;
using NasFlatness.Advanced;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using NasFlatness.Optimizers;
using NasFlatness.Search;
using NasFlatness.SearchSpaces.Nb201;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.Benchmarks.Methods;

/// <summary>
/// Cost of one architecture step (gradient computation of the method's optimizer and regularizers + the Adam step on α) of
/// every method preset on the same NB201 supernet shape (C = 8, N = 1, batch 64, 32×32, synthetic inputs), in one run, so
/// each can be read relative to DARTS first order. The preset's supernet variant is used (partial channels for the PC
/// presets) but its batch size is not: every method runs at batch 64. Also records the process peak resident set size
/// (VmHWM, reset through /proc/self/clear_refs after setup) over each case, written to
/// <c>BenchmarkDotNet.Artifacts/methods-peak-rss.csv</c> — MemoryDiagnoser sees only managed memory.
/// </summary>
[SlowStepJob(iterations: 5)]
public class MethodStepBenchmarks
{
    private Supernet _net = null!;
    private SGD _sgd = null!;
    private Adam _adam = null!;
    private Batch _train, _valid;
    private MethodPreset _preset = null!;
    private IArchitectureOptimizer _optimizer = null!;
    private IReadOnlyList<IFlatnessRegularizer> _regularizers = null!;
    private double _rssAfterSetup;
    private long _step;

    /// <summary>The method preset.</summary>
    [Params("darts", "darts-2nd", "beta-darts", "na-darts", "darts+a2m", "beta-darts+a2m", "pc-darts", "pc-darts+a2m", "pc-darts-a2m-repo", "pc-darts-a2m-repo+a2m")]
    public string Method { get; set; } = "darts";

    [GlobalSetup]
    public void Setup()
    {
        TorchRuntime.EnsureCorrectCpuKernels();
        torch.manual_seed(0);
        _preset = MethodPresets.Get(Method);
        var options = new Nb201Options { Channels = 8, CellsPerStage = 1 }.WithSupernetVariant(_preset);
        var space = new Nb201SearchSpace(options);
        _net = space.CreateSupernet(DatasetInfo.Cifar10);
        _sgd = torch.optim.SGD(_net.WeightParameters().ToArray(), 0.025, 0.9, 0.0, 3e-4, false);
        _adam = torch.optim.Adam(_net.ArchitectureParameters(), 3e-4, 0.5, 0.999, 1e-8, 1e-3);
        _optimizer = _preset.CreateOptimizer();
        _regularizers = _preset.CreateRegularizers(space.Name);
        _train = SyntheticBatch.Create();
        _valid = SyntheticBatch.Create();
        _rssAfterSetup = Rss("VmRSS:");
        try { File.WriteAllText("/proc/self/clear_refs", "5"); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>One architecture step at epoch 10 (so β-decay's λ = 5 is active).</summary>
    [Benchmark(Description = "architecture step")]
    public void ArchitectureStep()
    {
        using var scope = torch.NewDisposeScope();
        var state = WeightOptimizerState.FromSgd(_sgd, 0.025, 0.9, 3e-4);
        var step = new ArchitectureStep(_net, _train, _valid, state, SoftmaxActivation.Instance, new SearchClock(10, 50, 0, 1, _step++));
        ArchitectureStepper.Step(step, _optimizer, _regularizers, _net.ArchitectureParameters(), _adam);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        double peak = Rss("VmHWM:");
        var path = Path.Combine("BenchmarkDotNet.Artifacts", "methods-peak-rss.csv");
        Directory.CreateDirectory("BenchmarkDotNet.Artifacts");
        if (!File.Exists(path)) File.WriteAllText(path, "method,rss_after_setup_mib,peak_rss_mib,peak_minus_setup_mib" + Environment.NewLine);
        File.AppendAllText(path, string.Create(CultureInfo.InvariantCulture, $"{Method},{_rssAfterSetup:F1},{peak:F1},{peak - _rssAfterSetup:F1}") + Environment.NewLine);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"// peak RSS {Method}: {peak:F1} MiB (after setup {_rssAfterSetup:F1} MiB, step working set {peak - _rssAfterSetup:F1} MiB)"));
        _sgd.Dispose();
        _adam.Dispose();
        _net.Dispose();
    }

    private static double Rss(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(field, StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
        return double.NaN;
    }
}
