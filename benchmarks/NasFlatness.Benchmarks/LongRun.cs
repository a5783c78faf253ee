using NasFlatness.Advanced;
using System.Diagnostics;
using System.Globalization;
using NasFlatness.Optimizers;
using NasFlatness.Search;
using NasFlatness.SearchSpaces.Nb201;
using NasFlatness.SearchSpaces.Nb201.Reference;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.Benchmarks;

/// <summary>Measurements that are not BenchmarkDotNet benchmarks: long-run resident memory and quick step timings.</summary>
internal static class LongRun
{
    internal static (int C, int N) ParseShape(string shape) => shape switch
    {
        "C16N5" => (16, 5),
        "C16N1" => (16, 1),
        "C8N1" => (8, 1),
        _ => throw new ArgumentException($"Unknown shape '{shape}'; expected C16N5, C16N1 or C8N1."),
    };

    /// <summary>A supernet with its optimizers and two synthetic batches: one call of <see cref="Step"/> is one full search step.</summary>
    internal sealed class Stepper : IDisposable
    {
        private readonly Supernet _net;
        private readonly SGD _sgd;
        private readonly Adam _adam;
        private readonly Parameter[] _weights;
        private readonly IArchitectureOptimizer _optimizer;
        private readonly IFlatnessRegularizer[] _regularizers;
        private readonly Batch _train, _valid;

        public Stepper(string shape, string implementation, string optimizer)
        {
            TorchRuntime.EnsureCorrectCpuKernels();
            torch.manual_seed(0);
            var (c, n) = ParseShape(shape);
            var options = new Nb201Options { Channels = c, CellsPerStage = n };
            _net = implementation == "straightforward"
                ? new Nb201ReferenceSupernet(options, DatasetInfo.Cifar10)
                : new Nb201SearchSpace(options).CreateSupernet(DatasetInfo.Cifar10);
            _weights = _net.WeightParameters().ToArray();
            _sgd = torch.optim.SGD(_weights, 0.025, 0.9, 0.0, 3e-4, false);
            _adam = torch.optim.Adam(_net.ArchitectureParameters(), 3e-4, 0.5, 0.999, 1e-8, 1e-3);
            _optimizer = optimizer switch
            {
                "darts-1st" or "a2m" => new DartsFirstOrder(),
                "darts-2nd" => new DartsSecondOrder(),
                _ => throw new ArgumentException($"Unknown optimizer '{optimizer}'; expected darts-1st, darts-2nd or a2m (first order + A²M)."),
            };
            _regularizers = optimizer == "a2m" ? [new A2MRegularizer()] : [];
            _train = SyntheticBatch.Create();
            _valid = SyntheticBatch.Create();
        }

        public void Step()
        {
            using var scope = torch.NewDisposeScope();
            var state = WeightOptimizerState.FromSgd(_sgd, 0.025, 0.9, 3e-4);
            ArchitectureStepper.Step(new ArchitectureStep(_net, _train, _valid, state, SoftmaxActivation.Instance), _optimizer, _regularizers, _net.ArchitectureParameters(), _adam);
            _sgd.zero_grad();
            nn.functional.cross_entropy(_net.ForwardFixedArchitecture(_train.Images, SoftmaxActivation.Instance), _train.Labels).backward();
            nn.utils.clip_grad_norm_(_weights, 5.0);
            _sgd.step();
        }

        public void Dispose()
        {
            _sgd.Dispose();
            _adam.Dispose();
            _net.Dispose();
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);

    /// <summary>Collects garbage and, on Linux, has glibc return its free heap pages to the system.</summary>
    internal static void ReleaseFreedMemory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        if (OperatingSystem.IsLinux()) MallocTrim(0);
    }

    /// <summary>Resident memory after <see cref="ReleaseFreedMemory"/> (so freed-but-cached memory does not count as growth).</summary>
    private static long ResidentBytes()
    {
        ReleaseFreedMemory();
        using var self = Process.GetCurrentProcess();
        return self.WorkingSet64;
    }

    /// <summary>Runs N search steps (`memory [steps] [shape] [threads]`, default 1,000, C8N1, first order) and prints resident memory after 100 and after N steps.</summary>
    public static int Memory(string[] args)
    {
        int steps = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1000;
        string shape = args.Length > 1 ? args[1] : "C8N1";
        if (args.Length > 2) torch.set_num_threads(int.Parse(args[2], CultureInfo.InvariantCulture));
        using var stepper = new Stepper(shape, "library", "darts-1st");
        long at100 = 0;
        for (int i = 1; i <= steps; i++)
        {
            stepper.Step();
            if (i == 100) at100 = ResidentBytes();
            if (i % 100 == 0)
            {
                // First as the process holds it (glibc keeps freed heap for reuse, see TorchRuntime.TuneAllocator), then after trimming.
                double held;
                using (var self = Process.GetCurrentProcess()) held = self.WorkingSet64 / 1048576.0;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"step {i,5}: resident {held:F1} MiB as held, {ResidentBytes() / 1048576.0:F1} MiB after trim"));
            }
        }
        long end = ResidentBytes();
        double ratio = (double)end / at100;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{shape}: resident after 100 steps {at100 / 1048576.0:F1} MiB, after {steps} steps {end / 1048576.0:F1} MiB, ratio {ratio:F3} ({(ratio <= 1.05 ? "within" : "OUTSIDE")} 5%)"));
        return ratio <= 1.05 ? 0 : 1;
    }

    /// <summary>Times single search steps (`time [shape] [implementation] [optimizer] [steps] [threads]`) and prints the median.</summary>
    public static int Time(string[] args)
    {
        string shape = args.Length > 0 ? args[0] : "C8N1";
        string implementation = args.Length > 1 ? args[1] : "library";
        string optimizer = args.Length > 2 ? args[2] : "darts-1st";
        int steps = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 7;
        if (args.Length > 4) torch.set_num_threads(int.Parse(args[4], CultureInfo.InvariantCulture));
        using var stepper = new Stepper(shape, implementation, optimizer);
        stepper.Step(); // warm-up
        var times = new List<double>();
        for (int i = 0; i < steps; i++)
        {
            var sw = Stopwatch.StartNew();
            stepper.Step();
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{shape} {implementation} {optimizer} oneDNN={(TorchRuntime.OneDnnDisabled ? "off" : "on")}{(TorchRuntime.OneDnnFailure is { } why ? $" ({why})" : "")} threads={torch.get_num_threads()}: median {times[times.Count / 2]:F0} ms, min {times[0]:F0}, max {times[^1]:F0}; resident {ResidentBytes() / 1073741824.0:F2} GiB"));
        return 0;
    }
}
