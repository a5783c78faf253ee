using System.Globalization;
using System.Security.Cryptography;
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

    /// <summary>The size and SHA-256 of a checkpoint file, recorded in the manifest at write time and verified before a resume.</summary>
    public sealed class FileRecord
    {
        public string? Name { get; set; }
        public long Length { get; set; }
        public string? Sha256 { get; set; }
    }

    /// <summary>A manifest that records its files.</summary>
    public interface IManifest
    {
        List<FileRecord>? Files { get; set; }
    }

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
        where T : IManifest
    {
        string json;
        try
        {
            json = JsonSerializer.Serialize(manifest, Json); // fails early, before any file is written
        }
        catch (Exception ex) when (ex is NotSupportedException or JsonException or InvalidOperationException)
        {
            throw new IOException($"Could not write {what} to '{directory}': its manifest cannot be serialised ({ex.Message}). Nothing was written.", ex);
        }
        var written = new List<string>();
        try
        {
            Directory.CreateDirectory(directory);
            var records = new List<FileRecord>(parts.Count);
            foreach (var part in parts)
            {
                var path = Path.Combine(directory, part.Name);
                written.Add(path);
                WriteBinary(path, part.Write);
                var (length, hash) = Hash(path);
                records.Add(new FileRecord { Name = part.Name, Length = length, Sha256 = hash });
            }
            manifest.Files = records;
            json = JsonSerializer.Serialize(manifest, Json);
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
    public static void WriteBinary(string path, Action<BinaryWriter> write) => AtomicFile.Write(path, stream =>
    {
        using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        write(writer);
        writer.Flush();
    });

    /// <summary>Writes a text file atomically and durably.</summary>
    public static void WriteText(string path, string text) => AtomicFile.WriteAllText(path, text);

    /// <summary>Writes the manifest atomically; after this the checkpoint refers to the new files.</summary>
    public static void WriteManifest<T>(string path, T manifest) => WriteText(path, JsonSerializer.Serialize(manifest, Json));

    /// <summary>Reads a manifest, or null when there is none; malformed or foreign-format manifests get an error naming the file.</summary>
    public static T? ReadManifest<T>(string path, string what, Func<T, int> format, int currentFormat)
        where T : class
    {
        if (Directory.Exists(path))
            throw new InvalidDataException($"{what} manifest '{path}' is a folder, not a file; remove it or choose another checkpoint folder. Nothing was computed.");
        if (!File.Exists(path)) return null;
        T? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<T>(File.ReadAllText(path), Json);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{what} manifest '{path}' is not valid JSON: {ErrorText.Echo(ex.Message)}", ex);
        }
        catch (Exception ex) when (ex is NotSupportedException or InvalidOperationException or FormatException or ArgumentException or OverflowException or System.Text.DecoderFallbackException)
        {
            throw new InvalidDataException($"{what} manifest '{path}' holds a value this version cannot read: {ErrorText.Echo(ex.Message)}", ex);
        }
        if (manifest is null) throw new InvalidDataException($"{what} manifest '{path}' is empty.");
        if (format(manifest) != currentFormat)
            throw new InvalidDataException($"{what} manifest '{path}' has format {format(manifest)}; this version reads format {currentFormat}.");
        return manifest;
    }

    /// <summary>The length and lower-case hex SHA-256 of a file.</summary>
    public static (long Length, string Sha256) Hash(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var hash = SHA256.HashData(stream);
        return (stream.Length, Convert.ToHexStringLower(hash));
    }

    /// <summary>
    /// Throws an <see cref="InvalidDataException"/> naming <paramref name="manifestPath"/> and <paramref name="field"/> unless
    /// <paramref name="name"/> is a plain file name (no folder separators, not "." or "..", not rooted).
    /// </summary>
    public static void RequirePlainName(string manifestPath, string field, string? name)
    {
        bool plain = !string.IsNullOrWhiteSpace(name) && name is not ("." or "..") && !Path.IsPathRooted(name) &&
                     name.IndexOfAny(['/', '\\', '\0']) < 0 && name.IndexOfAny(Path.GetInvalidFileNameChars()) < 0 &&
                     Path.GetFileName(name) == name && !name.Contains("..", StringComparison.Ordinal);
        if (!plain)
            throw new InvalidDataException($"Checkpoint manifest '{manifestPath}': {field} = '{ErrorText.Echo(name)}' is not a plain file name inside the checkpoint folder; the checkpoint is corrupt or was edited.");
    }

    /// <summary>
    /// Verifies the files a manifest names: plain names, present, and of the recorded
    /// length and SHA-256; a manifest without <c>Files</c> is refused. Every problem is an <see cref="InvalidDataException"/> naming the file.
    /// </summary>
    public static void VerifyFiles(string directory, string manifestPath, IReadOnlyList<(string Field, string? Name)> files, List<FileRecord>? records)
    {
        foreach (var (field, name) in files) RequirePlainName(manifestPath, field, name);
        // A current-format manifest always records its files; without them nothing would check their bytes.
        if (records is null)
            throw new InvalidDataException($"Checkpoint manifest '{manifestPath}' is corrupt: Files (the size and SHA-256 of every checkpoint file) is missing, so its files cannot be verified; the checkpoint is damaged or was edited.");
        for (int i = 0; i < records.Count; i++)
        {
            if (records[i] is null) throw new InvalidDataException($"Checkpoint manifest '{manifestPath}': Files[{i}] is null.");
            RequirePlainName(manifestPath, $"Files[{i}].Name", records[i].Name);
            if (records[i].Length < 0 || records[i].Sha256 is not { Length: 64 } hex || !hex.All(char.IsAsciiHexDigit))
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"Checkpoint manifest '{manifestPath}': Files[{i}] has Length = {records[i].Length} and Sha256 = '{ErrorText.Echo(records[i].Sha256, 80)}', not a size and a 64-digit hex SHA-256; the checkpoint is damaged or was edited."));
        }
        foreach (var (field, name) in files)
        {
            var path = Path.Combine(directory, name!);
            if (!File.Exists(path))
                throw new InvalidDataException($"Checkpoint file '{path}' ({field} of '{manifestPath}') is missing; the checkpoint is incomplete.");
            var record = records.FirstOrDefault(r => r.Name == name)
                ?? throw new InvalidDataException($"Checkpoint manifest '{manifestPath}' records no size and hash for {field} '{name}'; the checkpoint is corrupt or was edited.");
            var (length, hash) = Hash(path);
            if (length != record.Length)
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"Checkpoint file '{path}' is {length:N0} bytes but was written with {record.Length:N0} (truncated or replaced); the checkpoint is corrupt."));
            if (!string.Equals(hash, record.Sha256, StringComparison.OrdinalIgnoreCase))
                throw new InvalidDataException($"Checkpoint file '{path}' does not have the SHA-256 recorded when it was written (its bytes changed); the checkpoint is corrupt.");
        }
    }

    /// <summary>The longest run time a manifest may record (100 years): more is corrupt, and would overflow <see cref="TimeSpan"/>.</summary>
    public const double MaxDurationSeconds = 100 * 365.25 * 86400;

    /// <summary>The problem text for a <c>DurationSeconds</c> outside 0..<see cref="MaxDurationSeconds"/>.</summary>
    public static string DurationProblem(double seconds) =>
        string.Create(CultureInfo.InvariantCulture, $"DurationSeconds = {seconds} is not a run time between 0 and {MaxDurationSeconds:0} seconds (100 years)");

    /// <summary>Runs <paramref name="load"/>; a file that still cannot be read (e.g. written by a version without hashes) names itself.</summary>
    public static void LoadFile(string path, Action load)
    {
        try
        {
            load();
        }
        catch (Exception ex) when (ex is EndOfStreamException or IOException or ArgumentException or FormatException or InvalidOperationException
                                       or NotSupportedException or OverflowException or IndexOutOfRangeException or System.Runtime.InteropServices.ExternalException
                                       && ex is not InvalidDataException)
        {
            throw new InvalidDataException($"Checkpoint file '{path}' cannot be read ({ErrorText.Echo(FirstLine(ex.Message))}); the checkpoint is corrupt or belongs to another configuration.", ex);
        }
    }

    private static string FirstLine(string message)
    {
        int newline = message.IndexOf('\n', StringComparison.Ordinal);
        return newline < 0 ? message : message[..newline];
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
