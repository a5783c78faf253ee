using BenchmarkDotNet.Running;
using NasFlatness.Benchmarks;

// `memory [steps] [shape]`: the long-run memory check (resident memory after 100 and after N search steps).
// `time [shape] [implementation] [optimizer] [steps]`: a quick step timing outside BenchmarkDotNet.
// `onednn-check [on|off] [grid]`: float32 convolution results against float64 over a grid of shapes.
// `pool-variants [channels] [on|off]`, `padded-conv [cin] [cout]`: kernel probes (docs/performance.md).
// Anything else goes to BenchmarkDotNet (e.g. --filter '*SearchStep*').
return args.FirstOrDefault() switch
{
    "memory" => LongRun.Memory(args.Skip(1).ToArray()),
    "time" => LongRun.Time(args.Skip(1).ToArray()),
    "onednn-check" => OneDnnCheck.Run(args.Skip(1).ToArray()),
    "pool-variants" => KernelProbes.PoolVariants(args.Skip(1).ToArray()),
    "padded-conv" => KernelProbes.PaddedConv(args.Skip(1).ToArray()),
    _ => Run(args),
};

static int Run(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(LongRun).Assembly).Run(args);
    return 0;
}
