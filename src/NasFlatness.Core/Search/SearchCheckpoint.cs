using System.Text.Json;
using System.Text.Json.Serialization;
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

    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

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

    public static SearchCheckpoint? TryLoad(string directory)
    {
        var path = ManifestPath(directory);
        if (!File.Exists(path)) return null;
        SearchCheckpoint? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<SearchCheckpoint>(File.ReadAllText(path), Json);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"Checkpoint manifest '{path}' is not valid JSON: {ex.Message}", ex);
        }
        if (manifest is null) throw new InvalidDataException($"Checkpoint manifest '{path}' is empty.");
        if (manifest.Format != CurrentFormat)
            throw new InvalidDataException($"Checkpoint manifest '{path}' has format {manifest.Format}; this version reads format {CurrentFormat}.");
        return manifest;
    }

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
        WriteAtomically(Path.Combine(directory, supernetFile), writer => supernet.save(writer));
        WriteAtomically(Path.Combine(directory, weightFile), writer => weightOptimizer.save_state_dict(writer));
        WriteAtomically(Path.Combine(directory, archFile), writer => architectureOptimizer.save_state_dict(writer));

        var manifest = manifestForEpochFiles(completedEpochs);
        manifest.SupernetFile = supernetFile;
        manifest.WeightOptimizerFile = weightFile;
        manifest.ArchitectureOptimizerFile = archFile;
        var manifestPath = ManifestPath(directory);
        var tmp = manifestPath + ".tmp";
        File.WriteAllText(tmp, JsonSerializer.Serialize(manifest, Json));
        File.Move(tmp, manifestPath, overwrite: true);

        // The manifest now points at the new files; older epoch files are no longer needed.
        foreach (var file in Directory.EnumerateFiles(directory, "*-epoch*.bin"))
        {
            var name = Path.GetFileName(file);
            if (name != supernetFile && name != weightFile && name != archFile) File.Delete(file);
        }
        return manifest;
    }

    private static void WriteAtomically(string path, Action<BinaryWriter> write)
    {
        var tmp = path + ".tmp";
        using (var stream = File.Create(tmp))
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            write(writer);
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }
        File.Move(tmp, path, overwrite: true);
    }
}
