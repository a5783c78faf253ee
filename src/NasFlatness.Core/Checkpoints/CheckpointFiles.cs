using System.Text.Json;
using System.Text.Json.Serialization;

namespace NasFlatness.Checkpoints;

/// <summary>
/// How checkpoints are written: every file under a temporary name first, then renamed; the JSON manifest
/// renamed last, so a crash never leaves a half-written checkpoint; then files of older epochs removed.
/// </summary>
internal static class CheckpointFiles
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>Writes a binary file atomically (TorchSharp's save methods get a writer that leaves the stream open).</summary>
    public static void WriteBinary(string path, Action<BinaryWriter> write)
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

    /// <summary>Writes the manifest atomically; after this the checkpoint refers to the new files.</summary>
    public static void WriteManifest<T>(string path, T manifest)
    {
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, JsonSerializer.Serialize(manifest, Json));
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>Reads a manifest, or null when there is none; malformed or foreign-format manifests get an error naming the file.</summary>
    public static T? ReadManifest<T>(string path, string what, Func<T, int> format, int currentFormat)
        where T : class
    {
        if (!File.Exists(path)) return null;
        T? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<T>(File.ReadAllText(path), Json);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{what} manifest '{path}' is not valid JSON: {ex.Message}", ex);
        }
        if (manifest is null) throw new InvalidDataException($"{what} manifest '{path}' is empty.");
        if (format(manifest) != currentFormat)
            throw new InvalidDataException($"{what} manifest '{path}' has format {format(manifest)}; this version reads format {currentFormat}.");
        return manifest;
    }

    /// <summary>Deletes the per-epoch files with one of <paramref name="prefixes"/> that the manifest no longer names.</summary>
    public static void DeleteStale(string directory, IReadOnlyCollection<string> prefixes, IReadOnlyCollection<string> current)
    {
        foreach (var file in Directory.EnumerateFiles(directory, "*-epoch*.bin"))
        {
            var name = Path.GetFileName(file);
            if (prefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal)) && !current.Contains(name)) File.Delete(file);
        }
    }
}
