using NasFlatness.Checkpoints;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.Search;

/// <summary>
/// The checkpoint of a search after a completed epoch: a JSON manifest (<c>checkpoint.json</c>) beside the
/// supernet weights and α, the weight-optimizer state and the architecture-optimizer state. Files are
/// written under temporary names and renamed, and the manifest is renamed last, so a crash never leaves
/// a half-written checkpoint.
/// </summary>
internal sealed class SearchCheckpoint
{
    public const string ManifestName = "checkpoint.json";
    public const int CurrentFormat = 1;

    public int Format { get; set; } = CurrentFormat;
    public required string Space { get; set; }
    public required string Optimizer { get; set; }
    public required string[] Regularizers { get; set; }
    public required SearchOptions Options { get; set; }
    public required int CompletedEpochs { get; set; }
    public required List<EpochRecord> History { get; set; }
    public required string SupernetFile { get; set; }
    public required string WeightOptimizerFile { get; set; }
    public required string ArchitectureOptimizerFile { get; set; }
    public required double DurationSeconds { get; set; }

    public static string ManifestPath(string directory) => Path.Combine(directory, ManifestName);

    public static SearchCheckpoint? TryLoad(string directory) =>
        CheckpointFiles.ReadManifest<SearchCheckpoint>(ManifestPath(directory), "Checkpoint", m => m.Format, CurrentFormat);

    public void Restore(string directory, Supernet supernet, OptimizerHelper weightOptimizer, OptimizerHelper architectureOptimizer)
    {
        supernet.load(Path.Combine(directory, SupernetFile));
        using (var reader = new BinaryReader(File.OpenRead(Path.Combine(directory, WeightOptimizerFile))))
            weightOptimizer.load_state_dict(reader);
        using (var reader = new BinaryReader(File.OpenRead(Path.Combine(directory, ArchitectureOptimizerFile))))
            architectureOptimizer.load_state_dict(reader);
    }

    public static SearchCheckpoint Write(
        string directory, Supernet supernet, OptimizerHelper weightOptimizer, OptimizerHelper architectureOptimizer,
        Func<int, SearchCheckpoint> manifestForEpochFiles, int completedEpochs)
    {
        Directory.CreateDirectory(directory);
        string supernetFile = $"supernet-epoch{completedEpochs}.bin";
        string weightFile = $"weight-optimizer-epoch{completedEpochs}.bin";
        string archFile = $"architecture-optimizer-epoch{completedEpochs}.bin";
        CheckpointFiles.WriteBinary(Path.Combine(directory, supernetFile), writer => supernet.save(writer));
        CheckpointFiles.WriteBinary(Path.Combine(directory, weightFile), writer => weightOptimizer.save_state_dict(writer));
        CheckpointFiles.WriteBinary(Path.Combine(directory, archFile), writer => architectureOptimizer.save_state_dict(writer));

        var manifest = manifestForEpochFiles(completedEpochs);
        manifest.SupernetFile = supernetFile;
        manifest.WeightOptimizerFile = weightFile;
        manifest.ArchitectureOptimizerFile = archFile;
        CheckpointFiles.WriteManifest(ManifestPath(directory), manifest);
        CheckpointFiles.DeleteStale(directory, ["supernet-", "weight-optimizer-", "architecture-optimizer-"], [supernetFile, weightFile, archFile]);
        return manifest;
    }
}
