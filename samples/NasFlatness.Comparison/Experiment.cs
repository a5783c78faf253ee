using NasFlatness.SearchSpaces;
using System.Diagnostics;
using NasFlatness.Data;
using NasFlatness.Genotypes;
using NasFlatness.Landscape;
using NasFlatness.Optimizers;
using NasFlatness.Search;
using NasFlatness.SearchSpaces.Nb201;

namespace NasFlatness.Comparison;

/// <summary>The proxy configuration shared by every run.</summary>
public sealed record ProxyConfig(int Epochs, int Channels, int Cells, int BatchSize, int TrainExamples, int ValidExamples, double ArchLrScale, int EpochValidationBatches, double BetaSlope = double.NaN);

/// <summary>One search's outcome.</summary>
public sealed record RunRecord
{
    public required string Preset { get; init; }
    public required int Seed { get; init; }
    public required ProxyConfig Config { get; init; }
    public required string Genotype { get; init; }
    public required double TestAccuracy { get; init; }
    public required int SelectedEpoch { get; init; }
    public required string LastEpochGenotype { get; init; }
    public required double LastEpochTestAccuracy { get; init; }
    public required double FinalMeanMaxWeight { get; init; }
    public required double[] MeanMaxWeightPerEpoch { get; init; }
    public required double[] MaxWeightPerEdge { get; init; }
    public required int ParameterFreeOps { get; init; }
    public required double SecondsPerEpoch { get; init; }
    public required double TotalSeconds { get; init; }
    public required double PeakRssMiB { get; init; }
    public required bool PeakRssReset { get; init; }
    public required int WarmupEpochs { get; init; }
    public required double ArchitectureLearningRate { get; init; }
    public required string Regularizers { get; init; }
}

internal static class Experiment
{
    public static string FindData()
    {
        var dir = new DirectoryInfo(Directory.GetCurrentDirectory());
        while (dir is not null)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data", "cifar10", "cifar-10-batches-bin");
            if (Directory.Exists(candidate)) return candidate;
            dir = dir.Parent;
        }
        throw new DirectoryNotFoundException("CIFAR-10 not found above the current folder; pass --data.");
    }

    public static RunRecord Run(MethodPreset preset, int seed, ProxyConfig c, ISearchDataset data)
    {
        var nb201 = new Nb201Options { Channels = c.Channels, CellsPerStage = c.Cells }.WithPartialChannels(preset);
        var space = new Nb201SearchSpace(nb201);
        var paper = preset.Apply(new SearchOptions());
        var options = preset.Apply(new SearchOptions { Epochs = c.Epochs, Seed = seed, EpochValidationBatches = c.EpochValidationBatches });
        // Proxy departures: one batch size for all, α learning rate scaled, warm-up scaled to the epoch budget.
        options.BatchSize = c.BatchSize;
        options.ArchitectureLearningRate = paper.ArchitectureLearningRate * c.ArchLrScale;
        options.WarmupEpochs = (int)Math.Round(paper.WarmupEpochs * c.Epochs / 50.0);
        // β-decay schedule compressed to the proxy length: λ reaches the value it has at the same fraction of a 50-epoch run.
        var regularizers = preset.CreateRegularizers(space.Name)
            .Select(r => r is BetaDecayRegularizer ? new BetaDecayRegularizer(new BetaDecaySchedule(double.IsNaN(c.BetaSlope) ? 0.5 * 50.0 / c.Epochs : c.BetaSlope)) : r)
            .ToArray();
        var runner = new SearchRunner(space, preset.CreateOptimizer(), regularizers, options);

        bool reset = PeakRss.Reset();
        var clock = Stopwatch.StartNew();
        var result = runner.Run(data);
        clock.Stop();
        double peak = PeakRss.MiB();

        var table = Nb201Table.Embedded;
        var last = result.Epochs[^1];
        var alpha = last.Architecture[0];
        var maxPerEdge = alpha.Select(row => { double m = row.Max(); double z = row.Sum(v => Math.Exp(v - m)); return 1.0 / z; }).ToArray();
        var g = (Nb201Genotype)result.Genotype;
        return new RunRecord
        {
            Preset = preset.Name,
            Seed = seed,
            Config = c,
            Genotype = g.ToString(),
            TestAccuracy = table.Get(g).Cifar10TestAccuracy,
            SelectedEpoch = result.SelectedEpoch,
            LastEpochGenotype = last.Genotype.ToString(),
            LastEpochTestAccuracy = table.Get((Nb201Genotype)last.Genotype).Cifar10TestAccuracy,
            FinalMeanMaxWeight = last.MeanMaxWeight,
            MeanMaxWeightPerEpoch = result.Epochs.Select(e => Math.Round(e.MeanMaxWeight, 4)).ToArray(),
            MaxWeightPerEdge = maxPerEdge.Select(v => Math.Round(v, 3)).ToArray(),
            ParameterFreeOps = g.Operations.Count(o => o is 0 or 1 or 4),
            SecondsPerEpoch = result.Duration.TotalSeconds / result.Epochs.Count,
            TotalSeconds = clock.Elapsed.TotalSeconds,
            PeakRssMiB = peak,
            PeakRssReset = reset,
            WarmupEpochs = options.WarmupEpochs,
            ArchitectureLearningRate = options.ArchitectureLearningRate,
            Regularizers = string.Join("+", regularizers.Select(r => r.Name)),
        };
    }
}

/// <summary>Process peak resident set size (VmHWM), resettable through /proc/self/clear_refs (Linux ≥ 4.0).</summary>
internal static class PeakRss
{
    public static bool Reset()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public static double MiB()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
        return double.NaN;
    }
}
