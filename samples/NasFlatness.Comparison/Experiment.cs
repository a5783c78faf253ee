using System.Diagnostics;
using System.Text.Json.Serialization;
using NasFlatness.Data;
using NasFlatness.Genotypes;
using NasFlatness.Landscape;
using NasFlatness.Optimizers;
using NasFlatness.Search;
using NasFlatness.SearchSpaces;
using NasFlatness.SearchSpaces.Nb201;

namespace NasFlatness.Comparison;

/// <summary>The proxy configuration shared by every run (ArchLrScale is NaN when a named protocol derived the α-lr).</summary>
public sealed record ProxyConfig(int Epochs, int Channels, int Cells, int BatchSize, int TrainExamples, int ValidExamples, double ArchLrScale, int EpochValidationBatches, double BetaSlope = double.NaN);

/// <summary>One search's (or table search's) outcome: one result file.</summary>
public sealed record RunRecord
{
    public required string Preset { get; init; }
    /// <summary>Method label (the preset name, or e.g. <c>darts+a2m-rho0.1</c> in a ρ sweep, or <c>na-rs</c>/<c>rs</c>); null in old files.</summary>
    public string? Label { get; init; }
    [JsonIgnore] public string Method => Label ?? Preset;
    public string Protocol { get; init; } = "";
    public required int Seed { get; init; }
    public ProxyConfig? Config { get; init; }
    public required string Genotype { get; init; }
    public required double TestAccuracy { get; init; }
    public int SelectedEpoch { get; init; }
    public string LastEpochGenotype { get; init; } = "";
    public double LastEpochTestAccuracy { get; init; } = double.NaN;
    public double FinalMeanMaxWeight { get; init; } = double.NaN;
    public double[] MeanMaxWeightPerEpoch { get; init; } = [];
    public double[] MaxWeightPerEdge { get; init; } = [];
    /// <summary>Dominant eigenvalue of ∇²_α L_val per epoch (NaN where not measured).</summary>
    public double[] HessianEigenvaluePerEpoch { get; init; } = [];
    public int ParameterFreeOps { get; init; }
    public double Cifar100Accuracy { get; init; } = double.NaN;
    public double ImageNet16Accuracy { get; init; } = double.NaN;
    public double Radius1Mean { get; init; } = double.NaN;
    public double Radius1Min { get; init; } = double.NaN;
    public double Radius1Gap { get; init; } = double.NaN;
    public double Radius2Mean { get; init; } = double.NaN;
    public double Radius2Min { get; init; } = double.NaN;
    public double Radius2Gap { get; init; } = double.NaN;
    public int Rank { get; init; }
    public double SecondsPerEpoch { get; init; } = double.NaN;
    public double TotalSeconds { get; init; } = double.NaN;
    public double PeakRssMiB { get; init; } = double.NaN;
    public bool PeakRssReset { get; init; }
    public int WarmupEpochs { get; init; }
    public double ArchitectureLearningRate { get; init; } = double.NaN;
    public string Regularizers { get; init; } = "";
    /// <summary>Scorer calls of a table search (0 for supernet searches).</summary>
    public int ScorerCalls { get; init; }

    /// <summary>This record with the table accuracy and flatness of <paramref name="genotype"/> filled in.</summary>
    public RunRecord WithQuality(Nb201Genotype genotype)
    {
        var q = Nb201CellQualityMeter.Embedded.Measure(genotype);
        return this with
        {
            Genotype = genotype.ToString(),
            TestAccuracy = q.Cifar10,
            Cifar100Accuracy = q.Cifar100,
            ImageNet16Accuracy = q.ImageNet16,
            Radius1Mean = q.Radius1.NeighborMean,
            Radius1Min = q.Radius1.NeighborMin,
            Radius1Gap = q.Radius1.Gap,
            Radius2Mean = q.Radius2.NeighborMean,
            Radius2Min = q.Radius2.NeighborMin,
            Radius2Gap = q.Radius2.Gap,
            Rank = q.Rank,
            ParameterFreeOps = q.ParameterFreeEdges,
        };
    }
}

/// <summary>How a search is sized: a named protocol, or the legacy proxy flags.</summary>
internal sealed record RunSettings(ProxyConfig Config, SearchProtocol? Protocol, int HessianEveryEpochs, double? A2MRho)
{
    public SearchOptions CreateOptions(MethodPreset preset, int seed)
    {
        if (Protocol is not null) return Protocol.CreateOptions(preset, seed);
        var c = Config;
        var paper = preset.Apply(new SearchOptions());
        var options = preset.Apply(new SearchOptions { Epochs = c.Epochs, Seed = seed, EpochValidationBatches = c.EpochValidationBatches });
        // Legacy proxy departures: one batch size for all, α learning rate scaled, warm-up scaled to the epoch budget.
        options.BatchSize = c.BatchSize;
        options.ArchitectureLearningRate = paper.ArchitectureLearningRate * c.ArchLrScale;
        options.WarmupEpochs = (int)Math.Round(paper.WarmupEpochs * c.Epochs / 50.0);
        return options;
    }

    public string Label(MethodPreset preset) =>
        A2MRho is { } rho && preset.Uses(A2MRegularizer.RegularizerName) ? $"{preset.Name}-rho{rho.ToString("G", System.Globalization.CultureInfo.InvariantCulture)}" : preset.Name;
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

    /// <summary>Runs (or resumes) one search; returns null when cancelled (its checkpoint stays for the next run).</summary>
    public static RunRecord? Run(MethodPreset preset, int seed, RunSettings s, ISearchDataset data, string? checkpointDirectory,
        IProgress<SearchProgress>? progress, CancellationToken cancellationToken)
    {
        var c = s.Config;
        var nb201 = new Nb201Options { Channels = c.Channels, CellsPerStage = c.Cells }.WithSupernetVariant(preset);
        var space = new Nb201SearchSpace(nb201);
        var options = s.CreateOptions(preset, seed);
        options.CheckpointDirectory = checkpointDirectory;
        options.ResumeFromCheckpoint = true;
        // β-decay schedule compressed to the search length: λ reaches the value it has at the same fraction of a 50-epoch run.
        var regularizers = preset.CreateRegularizers(space.Name)
            .Select(r => r switch
            {
                BetaDecayRegularizer => new BetaDecayRegularizer(new BetaDecaySchedule(c.BetaSlope)),
                A2MRegularizer when s.A2MRho is { } rho => new A2MRegularizer(new A2MOptions { Rho = rho, FiniteDifferenceStep = A2MOptions.ForNb201().FiniteDifferenceStep }),
                _ => r,
            })
            .ToArray();
        using var hessian = new ArchitectureHessianObserver { EveryEpochs = s.HessianEveryEpochs };
        var runner = new SearchRunner(space, preset.CreateOptimizer(), regularizers, options) { Observers = [hessian] };

        bool reset = PeakRss.Reset();
        var clock = Stopwatch.StartNew();
        SearchResult result;
        try
        {
            result = runner.Run(data, progress, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        clock.Stop();
        double peak = PeakRss.MiB();

        var table = Nb201Table.Embedded;
        var last = result.Epochs[^1];
        var alpha = last.Architecture[0];
        var maxPerEdge = alpha.Select(row => { double m = row.Max(); double z = row.Sum(v => Math.Exp(v - m)); return 1.0 / z; }).ToArray();
        var g = (Nb201Genotype)result.Genotype;
        var record = new RunRecord
        {
            Preset = preset.Name,
            Label = s.Label(preset),
            Protocol = s.Protocol?.Name ?? "custom",
            Seed = seed,
            Config = c,
            Genotype = g.ToString(),
            TestAccuracy = double.NaN,
            SelectedEpoch = result.SelectedEpoch,
            LastEpochGenotype = last.Genotype.ToString(),
            LastEpochTestAccuracy = table.Get((Nb201Genotype)last.Genotype).Cifar10TestAccuracy,
            FinalMeanMaxWeight = last.MeanMaxWeight,
            MeanMaxWeightPerEpoch = result.Epochs.Select(e => Math.Round(e.MeanMaxWeight, 4)).ToArray(),
            MaxWeightPerEdge = maxPerEdge.Select(v => Math.Round(v, 3)).ToArray(),
            HessianEigenvaluePerEpoch = result.Epochs.Select(e => e.Metrics.TryGetValue(ArchitectureHessianObserver.MetricName, out var v) ? v : double.NaN).ToArray(),
            SecondsPerEpoch = result.Duration.TotalSeconds / result.Epochs.Count,
            TotalSeconds = result.Duration.TotalSeconds,
            PeakRssMiB = peak,
            PeakRssReset = reset,
            WarmupEpochs = options.WarmupEpochs,
            ArchitectureLearningRate = options.ArchitectureLearningRate,
            Regularizers = string.Join("+", regularizers.Select(r => r.Name)),
        };
        return record.WithQuality(g);
    }

    /// <summary>NA-RS or plain RS on the NAS-Bench-201 table (scorer: CIFAR-10 validation accuracy when the table has it, else test accuracy).</summary>
    public static RunRecord TableSearch(bool neighborhoodAware, int seed, int budget)
    {
        var table = Nb201Table.Embedded;
        var metric = table.HasCifar10Valid ? Nb201Metrics.Cifar10ValidValidAccuracy : Nb201Metrics.Cifar10TestAccuracy;
        var options = new NeighborhoodRandomSearchOptions { Budget = budget, Seed = seed, NeighborhoodAware = neighborhoodAware, Accounting = BudgetAccounting.Evaluations };
        var result = NeighborhoodRandomSearch.ForNb201(table.Scorer(metric), options).Run();
        string name = neighborhoodAware ? "na-rs" : "rs";
        return new RunRecord
        {
            Preset = name,
            Label = name,
            Protocol = $"table ({metric})",
            Seed = seed,
            Genotype = result.Genotype.ToString(),
            TestAccuracy = double.NaN,
            ScorerCalls = result.Evaluations,
        }.WithQuality(result.Genotype);
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
