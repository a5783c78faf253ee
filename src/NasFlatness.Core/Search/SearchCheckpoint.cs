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
internal sealed class SearchCheckpoint
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
    public required SearchOptions Options { get; set; }
    public required int CompletedEpochs { get; set; }
    public required List<EpochRecord> History { get; set; }
    public string SupernetFile { get; set; } = "";
    public string WeightOptimizerFile { get; set; } = "";
    public string ArchitectureOptimizerFile { get; set; } = "";
    public string StateFile { get; set; } = "";
    public required double DurationSeconds { get; set; }

    public static string ManifestPath(string directory) => Path.Combine(directory, ManifestName);

    public static SearchCheckpoint? TryLoad(string directory) =>
        CheckpointFiles.ReadManifest<SearchCheckpoint>(ManifestPath(directory), "Checkpoint", m => m.Format, CurrentFormat);

    public void Restore(string directory, Supernet supernet, OptimizerHelper weightOptimizer, OptimizerHelper architectureOptimizer,
        IReadOnlyList<IStatefulSearchComponent> stateful)
    {
        supernet.load(Path.Combine(directory, SupernetFile));
        using (var reader = new BinaryReader(File.OpenRead(Path.Combine(directory, WeightOptimizerFile))))
            weightOptimizer.load_state_dict(reader);
        using (var reader = new BinaryReader(File.OpenRead(Path.Combine(directory, ArchitectureOptimizerFile))))
            architectureOptimizer.load_state_dict(reader);
        using (var reader = new BinaryReader(File.OpenRead(Path.Combine(directory, StateFile))))
            ReadComponentStates(reader, stateful, Path.Combine(directory, StateFile));
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
