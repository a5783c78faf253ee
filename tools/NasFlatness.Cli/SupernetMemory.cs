using System.Globalization;
using NasFlatness.SearchSpaces.Darts;
using NasFlatness.SearchSpaces.Nb201;
using NasFlatness.SearchSpaces.ZoDartsPlusPlus;
using TorchSharp;

namespace NasFlatness.Cli;

/// <summary>
/// The memory a search needs at least, estimated before the supernet is built, so that a size that cannot fit (<c>--channels
/// 100000</c>) is one <c>error:</c> line instead of a crash in the native allocator (docs/reliability.md).
/// </summary>
/// <param name="Parameters">The supernet's weight parameters (α excluded).</param>
/// <param name="ParameterBytes">Weights, their gradients and the SGD momentum (float32).</param>
/// <param name="ActivationBytes">A lower bound of the activations one batch keeps for the backward pass: every operation of every
/// mixed edge of every cell keeps at least its output, and no cell's output is smaller than C × H × W / 4 per image.</param>
internal sealed record SupernetMemory(long Parameters, long ParameterBytes, long ActivationBytes)
{
    /// <summary>The cells built for the fit at most (per stage for NAS-Bench-201 spaces, in all for DARTS); more are scaled linearly.</summary>
    private const int MaxPerStageCells = 4, MaxDartsCells = 12;

    /// <summary>Reads the memory available to this process in bytes (tests replace it); null where it cannot be read.</summary>
    internal static Func<long?> Available { get; set; } = ReadAvailable;

    /// <summary>The total estimate in bytes.</summary>
    public long Bytes => ParameterBytes + ActivationBytes;

    /// <summary>
    /// Estimates the search of <paramref name="space"/> (a built-in space; null for another) on images of <paramref name="dataset"/>
    /// with batches of <paramref name="batchSize"/>. The parameter count is exact for the built-in spaces: it is a quadratic in the
    /// channels C at a fixed cell count (every layer's width is a multiple of C), fitted through three builds at the smallest valid
    /// channel counts; cells beyond a few are scaled linearly. With <paramref name="upperBound"/> one build suffices: every
    /// coefficient of that quadratic is ≥ 0, so P(C) ≤ P(c₀) · max(1, (C / c₀)²) — a bound for a quick "fits" (the parameters are then an upper bound).
    /// </summary>
    public static SupernetMemory? Estimate(ISearchSpace space, DatasetInfo dataset, int batchSize, bool upperBound = false)
    {
        var (channels, cells, step, maxCells, cellCount) = space switch
        {
            // The smallest valid channel steps: partial channels need C divisible by K (DARTS: C / K even; FactorizedReduce halves C).
            Nb201SearchSpace s => (s.Options.Channels, s.Options.CellsPerStage, 2 * (s.Options.PartialChannels ? s.Options.PartialChannelProportion : 1), MaxPerStageCells, 3L * s.Options.CellsPerStage),
            DartsSearchSpace s => (s.Options.Channels, s.Options.Cells, 2 * s.Options.PartialChannels, MaxDartsCells, (long)s.Options.Cells),
            ZoDartsPlusPlusSearchSpace s => (s.Options.Channels, s.Options.CellsPerStage, 2, MaxPerStageCells, 3L * s.Options.CellsPerStage),
            _ => (0, 0, 0, 0, 0L),
        };
        if (channels < 1 || step < 1) return null;
        int fitCells = Math.Min(cells, maxCells);
        var points = new (double C, double P)[upperBound ? 1 : 3];
        long operationsPerCell = 0;
        // The builds draw initial weights: keep the generator where it was, so a seeded run is unchanged by the estimate.
        using var rng = torch.random.get_rng_state();
        try
        {
            for (int i = 0; i < points.Length; i++)
            {
                int c = step * (i + 1);
                using var scope = torch.NewDisposeScope();
                using var supernet = WithSize(space, c, fitCells).CreateSupernet(dataset);
                points[i] = (c, supernet.WeightParameters().Sum(p => (double)p.numel()));
                operationsPerCell = supernet.ArchitectureParameters().Where(a => a.dim() == 2).Select(a => a.shape[0] * a.shape[1]).DefaultIfEmpty(0).Max();
            }
        }
        finally
        {
            torch.random.set_rng_state(rng);
        }
        double x = channels, parameters = 0;
        if (upperBound)
            parameters = points[0].P * Math.Max(1, x / points[0].C * (x / points[0].C));
        else
        {
            // Lagrange through (c1, p1), (c2, p2), (c3, p3) at C.
            for (int i = 0; i < 3; i++)
            {
                double term = points[i].P;
                for (int j = 0; j < 3; j++)
                    if (j != i) term *= (x - points[j].C) / (points[i].C - points[j].C);
                parameters += term;
            }
        }
        parameters *= (double)cells / fitCells; // the cells beyond the fit, linearly
        double activations = 4.0 * batchSize * dataset.Height * dataset.Width * channels / 4.0 * operationsPerCell * cellCount;
        return new SupernetMemory(Saturate(parameters), Saturate(parameters * 3 * sizeof(float)), Saturate(activations));
    }

    /// <summary>
    /// Refuses a search whose estimate exceeds the available memory, with one sentence naming the flags (CPU only: the memory of a
    /// CUDA device is not read). <paramref name="flags"/> is how the sizes were given, e.g. "--channels 100000 (--cells 1, --batch-size 64)".
    /// </summary>
    /// <exception cref="CliInputException">The search cannot fit.</exception>
    public static void Require(ISearchSpace space, DatasetInfo dataset, int batchSize, string device, string flags)
    {
        if (!device.StartsWith("cpu", StringComparison.Ordinal) || Available() is not long available) return;
        // One small build bounds the need from above; the exact fit (two more builds) only when that bound does not fit.
        if (Estimate(space, dataset, batchSize, upperBound: true) is not { } bound || bound.Bytes <= available) return;
        if (Estimate(space, dataset, batchSize) is not { } need || need.Bytes <= available) return;
        throw new CliInputException(string.Create(CultureInfo.InvariantCulture,
            $"{flags} needs at least {Gigabytes(need.Bytes)} of memory for the search — a supernet of {need.Parameters:N0} weights ({Gigabytes(need.ParameterBytes)} with gradients and momentum) " +
            $"and at least {Gigabytes(need.ActivationBytes)} of activations per batch — but {Gigabytes(available)} is available; lower --channels, --cells or --batch-size. Nothing was computed."));
    }

    private static ISearchSpace WithSize(ISearchSpace space, int channels, int cells) => space switch
    {
        Nb201SearchSpace s => new Nb201SearchSpace(With(s.Options.Clone(), o => { o.Channels = channels; o.CellsPerStage = cells; })),
        DartsSearchSpace s => new DartsSearchSpace(With(s.Options.Clone(), o => { o.Channels = channels; o.Cells = cells; })),
        ZoDartsPlusPlusSearchSpace s => new ZoDartsPlusPlusSearchSpace(With(s.Options.Clone(), o => { o.Channels = channels; o.CellsPerStage = cells; })),
        _ => throw new ArgumentException($"'{space.Name}' is not a built-in space.", nameof(space)),
    };

    private static T With<T>(T options, Action<T> set)
    {
        set(options);
        return options;
    }

    private static long Saturate(double bytes) => bytes >= long.MaxValue ? long.MaxValue : (long)Math.Ceiling(bytes);

    internal static string Gigabytes(long bytes) =>
        bytes >= 1e9 ? string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e9:N1} GB") : string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e6:N1} MB");

    /// <summary>The smaller of MemAvailable (/proc/meminfo, Linux) and the .NET runtime's limit (a container's); null if neither is known.</summary>
    private static long? ReadAvailable()
    {
        long? available = null;
        try
        {
            if (File.Exists("/proc/meminfo"))
            {
                foreach (var line in File.ReadLines("/proc/meminfo"))
                {
                    if (!line.StartsWith("MemAvailable:", StringComparison.Ordinal)) continue;
                    var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    if (parts.Length >= 2 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long kb)) available = kb * 1024;
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
        long limit = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (limit > 0) available = available is long a ? Math.Min(a, limit) : limit;
        return available;
    }
}
