using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace NasFlatness.Benchmarks;

/// <summary>
/// Job for operations that take hundreds of milliseconds to seconds (supernet steps): in process (no
/// rebuild of the solution), one warm-up, <see cref="Iterations"/> measured single invocations, managed allocations reported.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class SlowStepJobAttribute : Attribute, IConfigSource
{
    public SlowStepJobAttribute(int iterations = 5)
    {
        Iterations = iterations;
        Config = ManualConfig.CreateEmpty()
            .AddJob(Job.Default
                .WithStrategy(RunStrategy.Monitoring)
                .WithLaunchCount(1)
                .WithWarmupCount(1)
                .WithIterationCount(iterations)
                .WithInvocationCount(1)
                .WithUnrollFactor(1)
                .WithToolchain(new InProcessEmitToolchain(TimeSpan.FromHours(2), logOutput: true)))
            .AddDiagnoser(MemoryDiagnoser.Default);
    }

    public int Iterations { get; }

    public IConfig Config { get; }
}
