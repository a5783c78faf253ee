using BenchmarkDotNet.Running;
using NasFlatness.Benchmarks;

// `memory [steps] [shape]`: the long-run memory check (resident memory after 100 and after N search steps).
// `time [shape] [implementation] [optimizer] [steps]`: a quick step timing outside BenchmarkDotNet.
// `onednn-check [on|off]`: float32 convolution gradients against float64 over a grid of shapes.
// Anything else goes to BenchmarkDotNet (e.g. --filter '*SearchStep*').
return args.FirstOrDefault() switch
{
    "memory" => LongRun.Memory(args.Skip(1).ToArray()),
    "time" => LongRun.Time(args.Skip(1).ToArray()),
    "onednn-check" => OneDnnCheck.Run(args.Skip(1).ToArray()),
    "pool-variants" => PoolVariants.Run(args.Skip(1).ToArray()),
    _ => Run(args),
};

static int Run(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(LongRun).Assembly).Run(args);
    return 0;
}
