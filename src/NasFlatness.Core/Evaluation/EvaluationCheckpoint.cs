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
internal sealed class EvaluationCheckpoint : CheckpointFiles.IManifest
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

    /// <summary>Sizes and SHA-256 of the files, recorded at write time (null in checkpoints of earlier versions).</summary>
    public List<CheckpointFiles.FileRecord>? Files { get; set; }

    /// <summary>Number of parameter tensors of the network (null in checkpoints of earlier versions).</summary>
    public int? ParameterTensors { get; set; }

    /// <summary>SHA-256 of the network's parameter names and shapes (null in checkpoints of earlier versions).</summary>
    public string? NetworkShape { get; set; }

    /// <summary>Images of the training split (null in checkpoints of earlier versions).</summary>
    public int? TrainImages { get; set; }

    public static string ManifestPath(string directory) => Path.Combine(directory, ManifestName);

    /// <summary>Reads and fully validates the manifest (null when there is none); see <see cref="Search.SearchRunner"/>'s checkpoint.</summary>
    /// <exception cref="InvalidDataException">The manifest or one of its files is corrupt (the message names the file and the problem).</exception>
    public static EvaluationCheckpoint? TryLoad(string directory)
    {
        var path = ManifestPath(directory);
        var manifest = CheckpointFiles.ReadManifest<EvaluationCheckpoint>(path, "Evaluation checkpoint", m => m.Format, CurrentFormat);
        manifest?.Validate(directory, path);
        return manifest;
    }

    private void Validate(string directory, string path)
    {
        void Require(bool ok, string problem)
        {
            if (!ok) throw new InvalidDataException($"Evaluation checkpoint manifest '{path}' is corrupt: {problem}. Delete the folder or choose another checkpoint folder to start over.");
        }
        Require(Options is not null, "Options is missing");
        var optionErrors = Options!.Validate();
        Require(optionErrors.Count == 0, "its Options are invalid (" + string.Join(" ", optionErrors) + ")");
        Require(CompletedEpochs >= 0 && CompletedEpochs <= Options.Epochs, $"CompletedEpochs = {CompletedEpochs} is outside 0..{Options.Epochs} (its Epochs)");
        Require(History is not null, "History is missing");
        Require(History!.Count == CompletedEpochs, $"History holds {History.Count} epochs but CompletedEpochs = {CompletedEpochs}");
        for (int i = 0; i < History.Count; i++)
        {
            Require(History[i] is not null, $"History[{i}] is null");
            Require(History[i]!.Epoch == i, $"History[{i}].Epoch = {History[i].Epoch}, expected {i}");
        }
        Require(ParameterCount >= 0, $"ParameterCount = {ParameterCount} is negative");
        Require(double.IsFinite(DurationSeconds) && DurationSeconds >= 0 && DurationSeconds <= CheckpointFiles.MaxDurationSeconds,
            CheckpointFiles.DurationProblem(DurationSeconds));
        CheckpointFiles.VerifyFiles(directory, path, [(nameof(NetworkFile), NetworkFile), (nameof(OptimizerFile), OptimizerFile)], Files);
    }

    public void Restore(string directory, nn.Module network, OptimizerHelper optimizer)
    {
        var networkPath = Path.Combine(directory, NetworkFile);
        CheckpointFiles.LoadFile(networkPath, () => network.load(networkPath));
        var optimizerPath = Path.Combine(directory, OptimizerFile);
        CheckpointFiles.LoadFile(optimizerPath, () =>
        {
            using var reader = new BinaryReader(File.OpenRead(optimizerPath));
            optimizer.load_state_dict(reader);
        });
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
