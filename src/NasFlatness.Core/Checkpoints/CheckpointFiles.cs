using System.Text.Json;
using System.Text.Json.Serialization;

namespace NasFlatness.Checkpoints;

/// <summary>
/// How checkpoints are written: the manifest is serialised first (so a manifest that cannot be written costs nothing),
/// then every file is written under a temporary name and renamed, the JSON manifest renamed last, so a crash never
/// leaves a half-written checkpoint; then files of older epochs are removed. A write that fails removes what it wrote
/// and throws an <see cref="IOException"/> naming the folder and the cause; the previous checkpoint stays intact.
/// </summary>
internal static class CheckpointFiles
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>One binary file of a checkpoint: its name in the folder and how to write it.</summary>
    public readonly record struct BinaryPart(string Name, Action<BinaryWriter> Write);

    /// <summary>
    /// Writes a checkpoint transactionally: <paramref name="parts"/>, then the manifest at <paramref name="manifestName"/>,
    /// then deletes files with one of <paramref name="stalePrefixes"/> that the new checkpoint does not name.
    /// </summary>
    /// <param name="directory">The checkpoint folder (created if missing).</param>
    /// <param name="manifestName">File name of the JSON manifest.</param>
    /// <param name="manifest">The manifest object.</param>
    /// <param name="parts">The binary files.</param>
    /// <param name="stalePrefixes">Prefixes of per-epoch files that older checkpoints left.</param>
    /// <param name="what">What is written, for the error message (e.g. "the checkpoint of epoch 3").</param>
    public static void WriteCheckpoint<T>(string directory, string manifestName, T manifest, IReadOnlyList<BinaryPart> parts, IReadOnlyCollection<string> stalePrefixes, string what)
    {
        string json;
        try
        {
            json = JsonSerializer.Serialize(manifest, Json);
        }
        catch (Exception ex) when (ex is NotSupportedException or JsonException or InvalidOperationException)
        {
            throw new IOException($"Could not write {what} to '{directory}': its manifest cannot be serialised ({ex.Message}). Nothing was written.", ex);
        }
        var written = new List<string>();
        try
        {
            Directory.CreateDirectory(directory);
            foreach (var part in parts)
            {
                var path = Path.Combine(directory, part.Name);
                written.Add(path);
                WriteBinary(path, part.Write);
            }
            var manifestPath = Path.Combine(directory, manifestName);
            WriteText(manifestPath, json);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.SecurityException or System.Runtime.InteropServices.ExternalException)
        {
            foreach (var path in written)
            {
                TryDelete(path + ".tmp");
                TryDelete(path);
            }
            TryDelete(Path.Combine(directory, manifestName) + ".tmp");
            throw new IOException($"Could not write {what} to '{directory}': {ex.Message} The previous checkpoint (if any) is intact.", ex);
        }
        DeleteStale(directory, stalePrefixes, parts.Select(p => p.Name).ToArray());
    }

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

    /// <summary>Writes a text file atomically and durably.</summary>
    public static void WriteText(string path, string text)
    {
        var tmp = path + ".tmp";
        using (var stream = File.Create(tmp))
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(text);
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>Writes the manifest atomically; after this the checkpoint refers to the new files.</summary>
    public static void WriteManifest<T>(string path, T manifest) => WriteText(path, JsonSerializer.Serialize(manifest, Json));

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

    private static void TryDelete(string path)
    {
        try
        {
            if (File.Exists(path)) File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
