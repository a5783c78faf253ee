using BenchmarkDotNet.Attributes;

namespace NasFlatness.Benchmarks.Search;

/// <summary>
/// One full search step (architecture step on a validation batch + weight step on a training batch,
/// batch 64, 32×32, CIFAR-10 classes) of the library's NB201 supernet against the straightforward
/// transcription (<c>Nb201ReferenceSupernet</c>), measured in the same run, at the three shapes of
/// the performance issue. Synthetic normal inputs.
/// </summary>
[SlowStepJob(iterations: 5)]
public class SearchStepComparisonBenchmarks
{
    private LongRun.Stepper _stepper = null!;

    /// <summary>Supernet shape.</summary>
    [Params("C16N5", "C16N1", "C8N1")]
    public string Shape { get; set; } = "C8N1";

    /// <summary>Library (optimised) or straightforward transcription.</summary>
    [Params("library", "straightforward")]
    public string Implementation { get; set; } = "library";

    /// <summary>Architecture optimizer: DARTS first order, second order, or first order with A²M.</summary>
    [Params("darts-1st", "darts-2nd", "a2m")]
    public string Optimizer { get; set; } = "darts-1st";

    [GlobalSetup]
    public void Setup() => _stepper = new LongRun.Stepper(Shape, Implementation, Optimizer);

    [Benchmark(Description = "search step")]
    public void SearchStep() => _stepper.Step();

    [GlobalCleanup]
    public void Cleanup()
    {
        _stepper.Dispose();
        // The cases run in one process: hand the freed heap back so one case's cached pages do not add to the
        // next case's peak (the paper-shape straightforward second-order step alone peaks at ~14 GB).
        LongRun.ReleaseFreedMemory();
    }
}
