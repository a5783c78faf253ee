using System.Text.Json;
using System.Text.Json.Serialization;
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

    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    public int Format { get; set; } = CurrentFormat;
    public required EvaluationOptions Options { get; set; }
    public required int CompletedEpochs { get; set; }
    public required List<EvaluationEpoch> History { get; set; }
    public required long ParameterCount { get; set; }
    public string NetworkFile { get; set; } = "";
    public string OptimizerFile { get; set; } = "";
    public required double DurationSeconds { get; set; }

    public static string ManifestPath(string directory) => Path.Combine(directory, ManifestName);

    public static EvaluationCheckpoint? TryLoad(string directory)
    {
        var path = ManifestPath(directory);
        if (!File.Exists(path)) return null;
        EvaluationCheckpoint? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<EvaluationCheckpoint>(File.ReadAllText(path), Json);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"Evaluation checkpoint manifest '{path}' is not valid JSON: {ex.Message}", ex);
        }
        if (manifest is null) throw new InvalidDataException($"Evaluation checkpoint manifest '{path}' is empty.");
        if (manifest.Format != CurrentFormat)
            throw new InvalidDataException($"Evaluation checkpoint manifest '{path}' has format {manifest.Format}; this version reads format {CurrentFormat}.");
        return manifest;
    }

    public void Restore(string directory, nn.Module network, OptimizerHelper optimizer)
    {
        network.load(Path.Combine(directory, NetworkFile));
        using var reader = new BinaryReader(File.OpenRead(Path.Combine(directory, OptimizerFile)));
        optimizer.load_state_dict(reader);
    }

    public void Write(string directory, nn.Module network, OptimizerHelper optimizer)
    {
        Directory.CreateDirectory(directory);
        NetworkFile = $"network-epoch{CompletedEpochs}.bin";
        OptimizerFile = $"optimizer-epoch{CompletedEpochs}.bin";
        WriteAtomically(Path.Combine(directory, NetworkFile), writer => network.save(writer));
        WriteAtomically(Path.Combine(directory, OptimizerFile), writer => optimizer.save_state_dict(writer));
        var manifestPath = ManifestPath(directory);
        var tmp = manifestPath + ".tmp";
        File.WriteAllText(tmp, JsonSerializer.Serialize(this, Json));
        File.Move(tmp, manifestPath, overwrite: true);
        foreach (var file in Directory.EnumerateFiles(directory, "*-epoch*.bin"))
        {
            var name = Path.GetFileName(file);
            if ((name.StartsWith("network-", StringComparison.Ordinal) || name.StartsWith("optimizer-", StringComparison.Ordinal))
                && name != NetworkFile && name != OptimizerFile)
                File.Delete(file);
        }
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
