using NasFlatness.Samples;

namespace NasFlatness.MethodEvidence;

/// <summary>One finished run of an experiment (a search, and for MedMNIST the training of the found cell): one JSON file.</summary>
internal sealed record EvidenceRecord
{
    public required string Experiment { get; init; }
    public required string Method { get; init; }
    public required int Seed { get; init; }
    /// <summary>Preset the method is built from, and what was changed for this protocol (one line).</summary>
    public string Preset { get; init; } = "";
    public string Settings { get; init; } = "";
    public required string Genotype { get; init; }
    /// <summary>NAS-Bench-201 CIFAR-10 test accuracy (hp 200) of the derived cell (NaN for non-CIFAR experiments too: the table is CIFAR-10's).</summary>
    public double TableCifar10Accuracy { get; init; } = double.NaN;
    /// <summary>Exact parameters of the derived cell's evaluation network, C = 16, N = 5, 10 classes (Nb201ResourceModel).</summary>
    public long Parameters { get; init; }
    /// <summary>Budget upper bound U of a resource-penalised search (NaN when unconstrained).</summary>
    public double BudgetUpper { get; init; } = double.NaN;
    /// <summary>Best table accuracy of any cell within the budget (NaN when unconstrained).</summary>
    public double BestUnderBudget { get; init; } = double.NaN;
    /// <summary>Differentiable expected parameters of the final p (C = 16, N = 5).</summary>
    public double ExpectedParametersAtEnd { get; init; } = double.NaN;
    public double[] MeanMaxWeightPerEpoch { get; init; } = [];
    public double FinalMeanMaxWeight { get; init; } = double.NaN;
    /// <summary>Entries of the final p (after the search's activation) that are exactly 0, and the total entries.</summary>
    public int ExactZeros { get; init; }
    public int MixingEntries { get; init; }
    public int[] ExactZerosPerEdge { get; init; } = [];
    public double[][] FinalMixingWeights { get; init; } = [];
    public int ArchitectureUpdates { get; init; }
    public int[] ArchitectureUpdatesPerEpoch { get; init; } = [];
    public double ArchitectureLearningRate { get; init; } = double.NaN;
    public double FinalTemperature { get; init; } = double.NaN;
    /// <summary>Supernet validation loss / accuracy on the fixed gap batches at the final α (search activation) and at the one-hot of the derived genotype.</summary>
    public double GapLossAtAlpha { get; init; } = double.NaN;
    public double GapLossAtOneHot { get; init; } = double.NaN;
    public double GapAccuracyAtAlpha { get; init; } = double.NaN;
    public double GapAccuracyAtOneHot { get; init; } = double.NaN;
    public double DiscretisationGap => GapLossAtOneHot - GapLossAtAlpha;
    public int GapImages { get; init; }
    public double WallSeconds { get; init; } = double.NaN;
    public double SecondsPerStep { get; init; } = double.NaN;
    public int Steps { get; init; }
    public double FinalValidationLoss { get; init; } = double.NaN;
    public double FinalValidationAccuracy { get; init; } = double.NaN;
    /// <summary>MedMNIST: test accuracy of the trained found network at the last epoch, the best over epochs (the ZO-DARTS+ code's report), and its training time.</summary>
    public double TrainedTestAccuracy { get; init; } = double.NaN;
    public double TrainedBestTestAccuracy { get; init; } = double.NaN;
    public double[] TrainedTestAccuracyPerEpoch { get; init; } = [];
    public long TrainedParameters { get; init; }
    public double TrainingWallSeconds { get; init; } = double.NaN;
    public string TrainingSettings { get; init; } = "";
    public string OneDnn { get; init; } = "";
}

/// <summary>
/// One result file per (experiment, method, seed) under a folder, written atomically when a run finishes; a run whose file
/// exists is skipped, and each run has its own checkpoint folder so that a killed search resumes from its last epoch.
/// </summary>
internal sealed class EvidenceStore
{
    public EvidenceStore(string directory) => Directory = System.IO.Directory.CreateDirectory(directory).FullName;

    public string Directory { get; }

    public string ResultPath(string experiment, string method, int seed) => Path.Combine(Directory, $"{ResultFiles.Safe(experiment)}_{ResultFiles.Safe(method)}_seed{seed}.json");

    public string CheckpointDirectory(string experiment, string method, int seed, string part = "search") =>
        Path.Combine(Directory, "checkpoints", $"{ResultFiles.Safe(experiment)}_{ResultFiles.Safe(method)}_seed{seed}_{part}");

    public bool IsDone(string experiment, string method, int seed) => File.Exists(ResultPath(experiment, method, seed));

    public void Write(EvidenceRecord record)
    {
        ResultFiles.WriteAtomic(ResultPath(record.Experiment, record.Method, record.Seed), record);
    }

    public static IReadOnlyList<EvidenceRecord> ReadAll(IEnumerable<string> paths) => ResultFiles.ReadAll<EvidenceRecord>(paths);
}
