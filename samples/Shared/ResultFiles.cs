using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace NasFlatness.Samples;

/// <summary>
/// The one-JSON-file-per-run result folders the experiment samples keep (compiled into each sample): file-name-safe labels,
/// atomic writes (a temporary file, then a rename, so a killed run never leaves half a result) and reading folders back.
/// </summary>
internal static class ResultFiles
{
    /// <summary>JSON settings of result files (NaN allowed: epochs without a measurement).</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>A file-name-safe form of a label (letters, digits, '+', '-', '.', '_' kept; others become '_').</summary>
    public static string Safe(string label)
    {
        var sb = new StringBuilder(label.Length);
        foreach (char c in label) sb.Append(char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.' or '_' ? c : '_');
        return sb.ToString();
    }

    /// <summary>Writes <paramref name="record"/> to <paramref name="path"/> atomically and durably (the library's <see cref="AtomicFile"/>).</summary>
    public static void WriteAtomic<T>(string path, T record) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(record, Json));

    /// <summary>Reads records from result folders (every <c>*.json</c>, in ordinal name order), single JSON files and JSON-lines files.</summary>
    public static IReadOnlyList<T> ReadAll<T>(IEnumerable<string> paths)
    {
        var records = new List<T>();
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                foreach (var file in Directory.GetFiles(path, "*.json").Order(StringComparer.Ordinal))
                    records.Add(JsonSerializer.Deserialize<T>(File.ReadAllText(file), Json)!);
            }
            else if (path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
            {
                records.AddRange(File.ReadAllLines(path).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<T>(l, Json)!));
            }
            else
            {
                records.Add(JsonSerializer.Deserialize<T>(File.ReadAllText(path), Json)!);
            }
        }
        return records;
    }
}
