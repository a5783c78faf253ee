using NasFlatness.Checkpoints;
using TorchSharp;
using TorchSharp.Modules;

namespace NasFlatness.Search;

/// <summary>
/// The checkpoint of a search after a completed epoch: a JSON manifest (<c>checkpoint.json</c>) beside the supernet
/// weights and α, the weight-optimizer state, the architecture-optimizer state and the state of every stateful search
/// component (<see cref="IStatefulSearchComponent"/>). Genotypes in the history are stored as space name plus text
/// (see <see cref="Genotypes.GenotypeFormats"/>), so any space's genotypes round-trip. Written through
/// <see cref="CheckpointFiles.WriteCheckpoint{T}"/>: never half-written, never orphaned.
/// </summary>
internal sealed partial class SearchCheckpoint : CheckpointFiles.IManifest
{
    public const string ManifestName = "checkpoint.json";
    public const int CurrentFormat = 2;
    private static readonly string[] Prefixes = ["supernet-", "weight-optimizer-", "architecture-optimizer-", "state-"];

    public int Format { get; set; } = CurrentFormat;
    public required string Space { get; set; }
    public required string Optimizer { get; set; }
    public required string[] Regularizers { get; set; }
    public string Activation { get; set; } = SoftmaxActivation.ActivationName;
    public string Schedule { get; set; } = EveryStepSchedule.ScheduleName;
    public string[] StatefulComponents { get; set; } = [];

    /// <summary>The settings each component declared (<see cref="ISearchComponentSettings"/>), by component; null in checkpoints of earlier versions.</summary>
    public Dictionary<string, Dictionary<string, string>>? ComponentSettings { get; set; }
    public required SearchOptions Options { get; set; }
    public required int CompletedEpochs { get; set; }
    public required List<EpochRecord> History { get; set; }
    public string SupernetFile { get; set; } = "";
    public string WeightOptimizerFile { get; set; } = "";
    public string ArchitectureOptimizerFile { get; set; } = "";
    public string StateFile { get; set; } = "";
    public required double DurationSeconds { get; set; }

    /// <summary>Sizes and SHA-256 of the files, recorded at write time (a manifest without them is refused as damaged).</summary>
    public List<CheckpointFiles.FileRecord>? Files { get; set; }

    /// <summary>Images of the training split the search ran on (null in checkpoints of earlier versions).</summary>
    public int? TrainImages { get; set; }

    /// <summary>Images of the validation split (null in checkpoints of earlier versions).</summary>
    public int? ValidationImages { get; set; }

    /// <summary>The data's <see cref="ISearchDataset.Fingerprint"/> (null when the data has none).</summary>
    public string? DataFingerprint { get; set; }

    /// <summary>Scalar count of the supernet's parameters (weights and α).</summary>
    public long? SupernetParameters { get; set; }

    /// <summary>Number of parameter tensors of the supernet.</summary>
    public int? SupernetTensors { get; set; }

    /// <summary>SHA-256 of the supernet's parameter names and shapes, in order.</summary>
    public string? SupernetShape { get; set; }

    public static string ManifestPath(string directory) => Path.Combine(directory, ManifestName);

    /// <summary>
    /// Reads and fully validates the manifest in <paramref name="directory"/> (null when there is none): every field's
    /// presence and range, the history, the file names and (when recorded) the files' sizes and SHA-256 hashes.
    /// </summary>
    /// <exception cref="InvalidDataException">The manifest or one of its files is corrupt (the message names the file and the problem).</exception>
    public static SearchCheckpoint? TryLoad(string directory)
    {
        var path = ManifestPath(directory);
        var manifest = CheckpointFiles.ReadManifest<SearchCheckpoint>(path, "Checkpoint", m => m.Format, CurrentFormat);
        manifest?.Validate(directory, path);
        return manifest;
    }

    private void Validate(string directory, string path)
    {
        void Require(bool ok, string problem)
        {
            if (!ok) throw new InvalidDataException($"Checkpoint manifest '{path}' is corrupt: {problem}. Delete the folder or choose another checkpoint folder to start over.");
        }
        Require(!string.IsNullOrEmpty(Space), "Space is missing");
        Require(!string.IsNullOrEmpty(Optimizer), "Optimizer is missing");
        Require(Regularizers is not null && Regularizers.All(r => r is not null), "Regularizers is missing or holds null");
        Require(Activation is not null, "Activation is missing");
        Require(Schedule is not null, "Schedule is missing");
        Require(StatefulComponents is not null && StatefulComponents.All(r => r is not null), "StatefulComponents is missing or holds null");
        var settingsProblem = ComponentSettingsCheck.Problem(ComponentSettings);
        Require(settingsProblem is null, settingsProblem!);
        Require(Options is not null, "Options is missing");
        var optionErrors = Options!.Validate();
        Require(optionErrors.Count == 0, "its Options are invalid (" + string.Join(" ", optionErrors) + ")");
        Require(CompletedEpochs >= 0 && CompletedEpochs <= Options.Epochs,
            string.Create(System.Globalization.CultureInfo.InvariantCulture, $"CompletedEpochs = {CompletedEpochs} is outside 0..{Options.Epochs} (its Epochs)"));
        Require(History is not null, "History is missing");
        Require(History!.Count == CompletedEpochs,
            string.Create(System.Globalization.CultureInfo.InvariantCulture, $"History holds {History.Count} epochs but CompletedEpochs = {CompletedEpochs}"));
        ValidateHistory(Require);
        Require(double.IsFinite(DurationSeconds) && DurationSeconds >= 0 && DurationSeconds <= CheckpointFiles.MaxDurationSeconds,
            CheckpointFiles.DurationProblem(DurationSeconds));
        Require(TrainImages is null or >= 1 && ValidationImages is null or >= 1, "TrainImages / ValidationImages are not positive");
        Require(SupernetParameters is null or >= 0 && SupernetTensors is null or >= 0, "SupernetParameters / SupernetTensors are negative");
        CheckpointFiles.VerifyFiles(directory, path,
            [(nameof(SupernetFile), SupernetFile), (nameof(WeightOptimizerFile), WeightOptimizerFile),
             (nameof(ArchitectureOptimizerFile), ArchitectureOptimizerFile), (nameof(StateFile), StateFile)], Files);
    }

    /// <summary>Restores the supernet, then the optimizers (the architecture optimizer is made after the supernet is restored,
    /// since the active architecture tensors may depend on its state), then the components' states.</summary>
    public void Restore(string directory, Supernet supernet, OptimizerHelper weightOptimizer, Func<OptimizerHelper> architectureOptimizerAfterSupernet,
        IReadOnlyList<IStatefulSearchComponent> stateful)
    {
        var supernetPath = Path.Combine(directory, SupernetFile);
        CheckpointFiles.LoadFile(supernetPath, () => supernet.load(supernetPath));
        var architectureOptimizer = architectureOptimizerAfterSupernet();
        var weightPath = Path.Combine(directory, WeightOptimizerFile);
        CheckpointFiles.LoadFile(weightPath, () =>
        {
            using var reader = new BinaryReader(File.OpenRead(weightPath));
            weightOptimizer.load_state_dict(reader);
        });
        var architecturePath = Path.Combine(directory, ArchitectureOptimizerFile);
        CheckpointFiles.LoadFile(architecturePath, () =>
        {
            using var reader = new BinaryReader(File.OpenRead(architecturePath));
            architectureOptimizer.load_state_dict(reader);
        });
        var statePath = Path.Combine(directory, StateFile);
        CheckpointFiles.LoadFile(statePath, () =>
        {
            using var reader = new BinaryReader(File.OpenRead(statePath));
            ReadComponentStates(reader, stateful, statePath);
        });
    }

    public void Write(string directory, Supernet supernet, OptimizerHelper weightOptimizer, OptimizerHelper architectureOptimizer,
        IReadOnlyList<IStatefulSearchComponent> stateful)
    {
        SupernetFile = $"supernet-epoch{CompletedEpochs}.bin";
        WeightOptimizerFile = $"weight-optimizer-epoch{CompletedEpochs}.bin";
        ArchitectureOptimizerFile = $"architecture-optimizer-epoch{CompletedEpochs}.bin";
        StateFile = $"state-epoch{CompletedEpochs}.bin";
        StatefulComponents = stateful.Select(s => s.StateName).ToArray();
        CheckpointFiles.WriteCheckpoint(directory, ManifestName, this,
        [
            new(SupernetFile, writer => supernet.save(writer)),
            new(WeightOptimizerFile, writer => weightOptimizer.save_state_dict(writer)),
            new(ArchitectureOptimizerFile, writer => architectureOptimizer.save_state_dict(writer)),
            new(StateFile, writer => WriteComponentStates(writer, stateful)),
        ], Prefixes, $"the checkpoint of epoch {CompletedEpochs}");
    }

    /// <summary>Each component's state as name + length-prefixed bytes, so a reader can check names and lengths.</summary>
    private static void WriteComponentStates(BinaryWriter writer, IReadOnlyList<IStatefulSearchComponent> stateful)
    {
        writer.Write(stateful.Count);
        foreach (var component in stateful)
        {
            using var buffer = new MemoryStream();
            using (var inner = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true)) component.SaveState(inner);
            writer.Write(component.StateName);
            writer.Write(buffer.Length);
            writer.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
    }

    private static void ReadComponentStates(BinaryReader reader, IReadOnlyList<IStatefulSearchComponent> stateful, string path)
    {
        int count = reader.ReadInt32();
        if (count != stateful.Count)
            throw new InvalidDataException($"The component state file '{path}' holds {count} states but this search has {stateful.Count} stateful components.");
        foreach (var component in stateful)
        {
            string name = reader.ReadString();
            if (name != component.StateName)
                throw new InvalidDataException($"The component state file '{path}' holds the state of '{name}' where this search has '{component.StateName}'.");
            long length = reader.ReadInt64();
            var bytes = reader.ReadBytes(checked((int)length));
            if (bytes.Length != length) throw new InvalidDataException($"The component state file '{path}' is truncated in the state of '{name}'.");
            using var inner = new BinaryReader(new MemoryStream(bytes));
            component.LoadState(inner);
            if (inner.BaseStream.Position != length)
                throw new InvalidDataException($"The state of '{name}' in '{path}' has {length} bytes but the component read {inner.BaseStream.Position}.");
        }
    }
}
