using NasFlatness.Checkpoints;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.Evaluation;

/// <summary>
/// The checkpoint of a final evaluation after a completed epoch: a JSON manifest (<c>evaluation.json</c>)
/// beside the network weights (with BatchNorm statistics) and the SGD state. Files are written under
/// temporary names and renamed, the manifest last, so a crash never leaves a half-written checkpoint.
/// </summary>
internal sealed class EvaluationCheckpoint
{
    public const string ManifestName = "evaluation.json";
    public const int CurrentFormat = 1;

    public int Format { get; set; } = CurrentFormat;
    public required EvaluationOptions Options { get; set; }
    public required int CompletedEpochs { get; set; }
    public required List<EvaluationEpoch> History { get; set; }
    public required long ParameterCount { get; set; }
    public string NetworkFile { get; set; } = "";
    public string OptimizerFile { get; set; } = "";
    public required double DurationSeconds { get; set; }

    public static string ManifestPath(string directory) => Path.Combine(directory, ManifestName);

    public static EvaluationCheckpoint? TryLoad(string directory) =>
        CheckpointFiles.ReadManifest<EvaluationCheckpoint>(ManifestPath(directory), "Evaluation checkpoint", m => m.Format, CurrentFormat);

    public void Restore(string directory, nn.Module network, OptimizerHelper optimizer)
    {
        network.load(Path.Combine(directory, NetworkFile));
        using var reader = new BinaryReader(File.OpenRead(Path.Combine(directory, OptimizerFile)));
        optimizer.load_state_dict(reader);
    }

    public void Write(string directory, nn.Module network, OptimizerHelper optimizer)
    {
        NetworkFile = $"network-epoch{CompletedEpochs}.bin";
        OptimizerFile = $"optimizer-epoch{CompletedEpochs}.bin";
        CheckpointFiles.WriteCheckpoint(directory, ManifestName, this,
            [new(NetworkFile, writer => network.save(writer)), new(OptimizerFile, writer => optimizer.save_state_dict(writer))],
            ["network-", "optimizer-"], $"the evaluation checkpoint of epoch {CompletedEpochs}");
    }
}
