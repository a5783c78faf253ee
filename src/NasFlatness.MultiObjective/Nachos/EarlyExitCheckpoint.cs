using NasFlatness.Checkpoints;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.MultiObjective.Nachos;

/// <summary>
/// The checkpoint of an early-exit training after a completed epoch: a JSON manifest (<c>early-exit.json</c>) beside the
/// network weights (BatchNorm statistics included) and the state of the current phase's SGD optimizer, written transactionally.
/// </summary>
internal sealed class EarlyExitCheckpoint : CheckpointFiles.IManifest
{
    public const string ManifestName = "early-exit.json";
    public const int CurrentFormat = 1;

    public int Format { get; set; } = CurrentFormat;
    public required EarlyExitTrainingOptions Options { get; set; }
    public required int CompletedEpochs { get; set; }
    public required List<EarlyExitEpoch> History { get; set; }
    public required long ParameterCount { get; set; }
    public required int ExitCount { get; set; }
    public List<double>? SupportCentroids { get; set; }
    public string NetworkFile { get; set; } = "";
    public string OptimizerFile { get; set; } = "";
    public required double DurationSeconds { get; set; }
    public List<CheckpointFiles.FileRecord>? Files { get; set; }

    public static string ManifestPath(string directory) => Path.Combine(directory, ManifestName);

    public static EarlyExitCheckpoint? TryLoad(string directory) =>
        CheckpointFiles.ReadManifest<EarlyExitCheckpoint>(ManifestPath(directory), "Early-exit checkpoint", m => m.Format, CurrentFormat);

    public void RestoreNetwork(string directory, nn.Module network) => network.load(Path.Combine(directory, NetworkFile));

    public void RestoreOptimizer(string directory, OptimizerHelper optimizer)
    {
        using var reader = new BinaryReader(File.OpenRead(Path.Combine(directory, OptimizerFile)));
        optimizer.load_state_dict(reader);
    }

    public void Write(string directory, nn.Module network, OptimizerHelper optimizer)
    {
        NetworkFile = $"ee-network-epoch{CompletedEpochs}.bin";
        OptimizerFile = $"ee-optimizer-epoch{CompletedEpochs}.bin";
        CheckpointFiles.WriteCheckpoint(directory, ManifestName, this,
            [new(NetworkFile, writer => network.save(writer)), new(OptimizerFile, writer => optimizer.save_state_dict(writer))],
            ["ee-network-", "ee-optimizer-"], $"the early-exit checkpoint of epoch {CompletedEpochs}");
    }
}
