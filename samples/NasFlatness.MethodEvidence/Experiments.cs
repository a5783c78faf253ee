using System.Diagnostics;
using System.Globalization;
using NasFlatness.Data;
using NasFlatness.Evaluation;
using NasFlatness.Genotypes;
using NasFlatness.Landscape;
using NasFlatness.Optimizers;
using NasFlatness.Search;
using NasFlatness.SearchSpaces;
using NasFlatness.SearchSpaces.Nb201;
using TorchSharp;

namespace NasFlatness.MethodEvidence;

/// <summary>
/// A method of the evidence: a registered preset, optionally with a parameter budget [0, U] (label <c>preset@0.4M</c>:
/// the ZO-DARTS++ resource penalty λ0/τ_t·relu(P − U)/1e6 on the expected parameters P of the C = 16, N = 5 network).
/// </summary>
internal sealed record MethodSpec(string Label, MethodPreset Preset, double? BudgetUpper)
{
    public static MethodSpec Parse(string label)
    {
        int at = label.IndexOf('@', StringComparison.Ordinal);
        if (at < 0) return new MethodSpec(label, MethodPresets.Get(label), null);
        string budget = label[(at + 1)..];
        if (!budget.EndsWith('M') || !double.TryParse(budget[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out double millions) || millions <= 0)
            throw new ArgumentException($"Method '{label}': the budget after '@' must look like 0.4M (millions of parameters).");
        return new MethodSpec(label, MethodPresets.Get(label[..at]), millions * 1e6);
    }
}

/// <summary>How one search is sized (NAS-Bench-201 proxy or MedMNIST).</summary>
internal sealed record SearchSize
{
    public required string Experiment { get; init; }
    public required int Channels { get; init; }
    public required int Cells { get; init; }
    public required int Epochs { get; init; }
    public required int BatchSize { get; init; }
    public required int EpochValidationBatches { get; init; }
    /// <summary>Temperature decay per epoch of the sparsemax schedule (decayed every epoch).</summary>
    public required double SparsemaxDecayPerEpoch { get; init; }
    /// <summary>α-lr of a preset under this size (the protocol rule).</summary>
    public required Func<MethodPreset, SearchOptions> CreateOptions { get; init; }
    public int GapBatches { get; init; } = 10;
}

internal static class Experiments
{
    /// <summary>Weight of the resource penalty: λ_t = 15/τ_t (ZO-DARTS++, secondary-methods.md §2.3.3).</summary>
    public const double PenaltyLambda0 = 15;

    public static readonly Nb201ResourceModel Resources = new();

    /// <summary>Best CIFAR-10 table accuracy within a budget (secondary-methods.md §6), computed from the table.</summary>
    public static double BestUnderBudget(double upper)
    {
        var table = Nb201Table.Embedded;
        double best = double.NegativeInfinity;
        foreach (var r in table.Records)
            if (Resources.Parameters(r.Genotype) <= upper) best = Math.Max(best, r.Cifar10TestAccuracy);
        return best;
    }

    /// <summary>Runs (or resumes) one search and measures it; null when cancelled (the checkpoint stays).</summary>
    public static (EvidenceRecord Record, SearchResult Result)? Search(MethodSpec spec, int seed, SearchSize size, ISearchDataset data,
        string checkpointDirectory, IProgress<SearchProgress>? progress, CancellationToken cancellationToken)
    {
        var preset = spec.Preset;
        var options = size.CreateOptions(preset);
        options.Seed = seed;
        options.CheckpointDirectory = checkpointDirectory;
        options.ResumeFromCheckpoint = true;
        // One space for every method: search-cell BatchNorms with batch statistics only (ZO-DARTS requires it; the code does it).
        var nb201 = new Nb201Options { Channels = size.Channels, CellsPerStage = size.Cells, TrackRunningStats = false };
        var registry = new NasFlatnessRegistry().AddBuiltInSearchSpaces(nb201).AddBuiltInMethods();
        // The τ schedule compressed to the search length: decayed every epoch so that τ at the last epoch is the code's τ_49.
        var sparsemax = new SparsemaxActivation(1.5, size.SparsemaxDecayPerEpoch, 1);
        registry.Activations.Add("sparsemax-evidence", _ => sparsemax, "sparsemax(α/τ), τ decayed every epoch (evidence protocol)");
        var context = new ComponentContext { SupernetVariant = preset.SupernetVariant };
        var space = registry.SearchSpaces.Create(SpaceNames.Nb201, context);
        context = context with { SpaceName = space.Name };
        var regularizers = preset.Regularizers.Select(r => registry.Regularizers.Create(r, context)).ToList();
        if (spec.BudgetUpper is { } upper)
        {
            var inner = new ResourcePenaltyRegularizer(p => Resources.ExpectedParameters(p[0]), new ResourcePenaltyOptions { Lower = 0, Upper = upper, Lambda = 1 });
            regularizers.Add(new TemperatureScaledResourcePenalty(inner, sparsemax, PenaltyLambda0));
        }
        string activationName = preset.Activation is null ? SoftmaxActivation.ActivationName
            : preset.Activation.StartsWith(SparsemaxActivation.ActivationName, StringComparison.OrdinalIgnoreCase) ? "sparsemax-evidence" : preset.Activation;
        var activation = registry.Activations.Create(activationName, context);
        var schedule = registry.Schedules.Create(preset.Schedule ?? EveryStepSchedule.ScheduleName, context);
        using var gap = new DiscretisationGapObserver(data, size.GapBatches, size.BatchSize);
        var runner = new SearchRunner(space, registry.Optimizers.Create(preset.Optimizer, context), regularizers, options)
        {
            Activation = activation,
            Schedule = schedule,
            Observers = [gap],
        };
        SearchResult result;
        try
        {
            result = runner.Run(data, progress, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return null;
        }

        var last = result.Epochs[^1];
        var genotype = result.GetGenotype<Nb201Genotype>();
        // Final p recomputed from the final α (float32, as in the search) under the activation of the last epoch.
        double temperature = activation is SparsemaxActivation s ? s.TemperatureAt(options.Epochs - 1) : double.NaN;
        double[][] p;
        int zeros, entries;
        int[] zerosPerEdge;
        double expected;
        using (var scope = torch.NewDisposeScope())
        {
            var alpha = torch.tensor(last.Architecture[0].SelectMany(r => r).Select(v => (float)v).ToArray()).reshape(last.Architecture[0].Length, -1);
            var mix = activation is SparsemaxActivation sm ? SparsemaxActivation.Sparsemax(alpha / sm.TemperatureAt(options.Epochs - 1)) : activation.Activate(alpha);
            var rows = mix.to(torch.float64).data<double>().ToArray();
            int cols = (int)mix.shape[1];
            p = Enumerable.Range(0, (int)mix.shape[0]).Select(r => rows.Skip(r * cols).Take(cols).ToArray()).ToArray();
            zerosPerEdge = Enumerable.Range(0, (int)mix.shape[0]).Select(r => (int)mix[r].eq(0).sum().item<long>()).ToArray();
            zeros = zerosPerEdge.Sum();
            entries = (int)mix.numel();
            expected = Resources.ExpectedParameters(mix.to(torch.float64)).item<double>();
        }
        int steps = result.Epochs.Sum(e => e.Steps);
        double Metric(string name) => last.Metrics.TryGetValue(name, out var v) ? v : double.NaN;
        var record = new EvidenceRecord
        {
            Experiment = size.Experiment,
            Method = spec.Label,
            Seed = seed,
            Preset = preset.Name,
            Settings = string.Create(CultureInfo.InvariantCulture,
                $"C={size.Channels} N={size.Cells} epochs={options.Epochs} batch={options.BatchSize} warmup={options.WarmupEpochs} w-lr={options.WeightLearningRate}->{options.WeightLearningRateMin} α-lr={options.ArchitectureLearningRate:G4} optimizer={preset.Optimizer} regularizers=[{string.Join(",", regularizers.Select(r => r.Name))}] activation={activationName} schedule={schedule.Name} track-running-stats=false"),
            Genotype = genotype.ToString(),
            TableCifar10Accuracy = size.Experiment.StartsWith("nb201", StringComparison.Ordinal) ? Nb201Table.Embedded.Get(genotype).Cifar10TestAccuracy : double.NaN,
            Parameters = Resources.Parameters(genotype),
            BudgetUpper = spec.BudgetUpper ?? double.NaN,
            BestUnderBudget = spec.BudgetUpper is { } u ? BestUnderBudget(u) : double.NaN,
            ExpectedParametersAtEnd = expected,
            MeanMaxWeightPerEpoch = result.Epochs.Select(e => Math.Round(e.MeanMaxWeight, 4)).ToArray(),
            FinalMeanMaxWeight = last.MeanMaxWeight,
            ExactZeros = zeros,
            MixingEntries = entries,
            ExactZerosPerEdge = zerosPerEdge,
            FinalMixingWeights = p.Select(r => r.Select(v => Math.Round(v, 4)).ToArray()).ToArray(),
            ArchitectureUpdates = result.Epochs.Sum(e => e.ArchitectureUpdates),
            ArchitectureUpdatesPerEpoch = result.Epochs.Select(e => e.ArchitectureUpdates).ToArray(),
            ArchitectureLearningRate = options.ArchitectureLearningRate,
            FinalTemperature = temperature,
            GapLossAtAlpha = Metric(DiscretisationGapObserver.LossAlpha),
            GapLossAtOneHot = Metric(DiscretisationGapObserver.LossOneHot),
            GapAccuracyAtAlpha = Metric(DiscretisationGapObserver.AccuracyAlpha),
            GapAccuracyAtOneHot = Metric(DiscretisationGapObserver.AccuracyOneHot),
            GapImages = gap.Images,
            WallSeconds = result.Duration.TotalSeconds,
            SecondsPerStep = result.Duration.TotalSeconds / steps,
            Steps = steps,
            FinalValidationLoss = last.ValidationLoss,
            FinalValidationAccuracy = last.ValidationAccuracy,
            OneDnn = Environment.GetEnvironmentVariable("NASFLATNESS_ONEDNN") ?? "",
        };
        return (record, result);
    }

    /// <summary>The quick-nb201 protocol with the α-lr rule per preset (docs/protocol.md).</summary>
    public static SearchSize QuickNb201()
    {
        var protocol = SearchProtocols.QuickNb201;
        return new SearchSize
        {
            Experiment = "nb201",
            Channels = protocol.Channels,
            Cells = protocol.CellsPerStage,
            Epochs = protocol.Epochs,
            BatchSize = protocol.BatchSize,
            EpochValidationBatches = protocol.EpochValidationBatches,
            // τ_15 = 1.5·γ'^15 = 1.5·0.9^9 = τ_49 of the code.
            SparsemaxDecayPerEpoch = Math.Pow(0.9, 9.0 / (protocol.Epochs - 1)),
            CreateOptions = preset => protocol.CreateOptions(preset, 0),
            GapBatches = 10,
        };
    }

    /// <summary>
    /// MedMNIST search size: C, N, epochs, batch and examples given; τ decayed by 0.75^(9/(epochs−1)) per epoch so that τ at
    /// the last epoch is the MedMNIST code's τ_49 = 1.5·0.75^9; α-lr by the protocol rule with the paper's α steps computed
    /// from the dataset's training-set size and the paper batch (α every 10th step for ZO presets in both).
    /// </summary>
    public static SearchSize MedMnist(string name, int channels, int cells, int epochs, int batch, int trainExamples, int paperTrainExamples, int paperBatch)
    {
        return new SearchSize
        {
            Experiment = "medmnist-" + name,
            Channels = channels,
            Cells = cells,
            Epochs = epochs,
            BatchSize = batch,
            EpochValidationBatches = 4,
            SparsemaxDecayPerEpoch = Math.Pow(0.75, 9.0 / (epochs - 1)),
            CreateOptions = preset =>
            {
                var options = preset.Apply(new SearchOptions { Epochs = epochs, EpochValidationBatches = 4 });
                var paper = preset.Apply(new SearchOptions());
                int every = preset.Schedule == ZeroOrderPresets.RoundScheduleName ? ZeroOrderPresets.RoundSteps : 1;
                long paperSteps = (long)((paperTrainExamples + paperBatch - 1) / paperBatch / every) * (SearchProtocol.PaperEpochs - paper.WarmupEpochs);
                int warmup = (int)Math.Round(paper.WarmupEpochs * (double)epochs / SearchProtocol.PaperEpochs, MidpointRounding.AwayFromZero);
                long here = (long)((trainExamples + batch - 1) / batch / every) * (epochs - warmup);
                options.BatchSize = batch;
                options.WarmupEpochs = warmup;
                options.ArchitectureLearningRate = paper.ArchitectureLearningRate * paperSteps / here;
                return options;
            },
            GapBatches = 8,
        };
    }

    /// <summary>Trains the found cell on the MedMNIST set (train split; test split held out) and fills the record.</summary>
    public static EvidenceRecord? TrainFound(EvidenceRecord record, MedMnistData data, int channels, int cells, EvaluationOptions training,
        CancellationToken cancellationToken)
    {
        var genotype = Nb201Genotype.Parse(record.Genotype);
        using var classification = new MedMnistClassificationData(data, new MedMnistClassificationDataOptions());
        torch.manual_seed(training.Seed);
        using var network = new Nb201SearchSpace(new Nb201Options { Channels = channels, CellsPerStage = cells }).CreateNetwork(genotype, data.Info);
        var clock = Stopwatch.StartNew();
        EvaluationResult result;
        try
        {
            result = new EvaluationTrainer(training).Train(network, classification, cancellationToken: cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        var perEpoch = result.Epochs.Select(e => e.TestAccuracy ?? double.NaN).ToArray();
        return record with
        {
            TrainedTestAccuracy = result.TestAccuracy,
            TrainedBestTestAccuracy = perEpoch.Where(v => !double.IsNaN(v)).DefaultIfEmpty(result.TestAccuracy).Max(),
            TrainedTestAccuracyPerEpoch = perEpoch.Select(v => Math.Round(v, 4)).ToArray(),
            TrainedParameters = result.ParameterCount,
            TrainingWallSeconds = result.Duration.TotalSeconds,
            TrainingSettings = string.Create(CultureInfo.InvariantCulture,
                $"C={channels} N={cells} epochs={training.Epochs} batch={training.BatchSize} lr={training.LearningRate}->{training.LearningRateMin} cosine, wd={training.WeightDecay}, augment={training.Augment}, drop-path={training.DropPathProbability}, train split {classification.Count(EvaluationSplit.Train)} images, test split {classification.Count(EvaluationSplit.Test)} images"),
        };
    }
}
