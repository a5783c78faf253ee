using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace NasFlatness.Comparison;

/// <summary>
/// One result file per (method, seed) under a folder, written atomically when a search finishes; a search whose file
/// exists is skipped on restart, and each search has its own checkpoint folder so an interrupted one resumes mid-search.
/// </summary>
public sealed class ResultStore
{
    /// <summary>JSON settings of result files (NaN allowed: epochs without a measurement).</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Creates a store over <paramref name="directory"/> (created when missing).</summary>
    public ResultStore(string directory)
    {
        Directory = System.IO.Directory.CreateDirectory(directory).FullName;
    }

    /// <summary>The results folder.</summary>
    public string Directory { get; }

    /// <summary>A file-name-safe form of a method label (letters, digits, '+', '-', '.', '_' kept; others become '_').</summary>
    public static string Safe(string label)
    {
        var sb = new StringBuilder(label.Length);
        foreach (char c in label) sb.Append(char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.' or '_' ? c : '_');
        return sb.ToString();
    }

    /// <summary>The result file of (method, seed).</summary>
    public string ResultPath(string method, int seed) => Path.Combine(Directory, $"{Safe(method)}_seed{seed}.json");

    /// <summary>The checkpoint folder of (method, seed).</summary>
    public string CheckpointDirectory(string method, int seed) => Path.Combine(Directory, "checkpoints", $"{Safe(method)}_seed{seed}");

    /// <summary>Whether (method, seed) has finished (its result file exists).</summary>
    public bool IsDone(string method, int seed) => File.Exists(ResultPath(method, seed));

    /// <summary>The (method, seed) pairs still to run, seed-major (all methods of seed 0 first) so that finished seeds are paired.</summary>
    public IReadOnlyList<(string Method, int Seed)> Pending(IEnumerable<string> methods, IEnumerable<int> seeds)
    {
        var m = methods.ToArray();
        return seeds.SelectMany(s => m.Select(x => (x, s))).Where(p => !IsDone(p.x, p.s)).ToArray();
    }

    /// <summary>Writes a record to its result file atomically (temporary file, then rename).</summary>
    public void Write(RunRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        string path = ResultPath(record.Method, record.Seed);
        string temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(record, Json));
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Reads records from result folders (every <c>*.json</c>), single JSON files and JSON-lines files.</summary>
    public static IReadOnlyList<RunRecord> ReadAll(IEnumerable<string> paths)
    {
        var records = new List<RunRecord>();
        foreach (var path in paths)
        {
            if (System.IO.Directory.Exists(path))
            {
                foreach (var file in System.IO.Directory.GetFiles(path, "*.json").Order(StringComparer.Ordinal))
                    records.Add(JsonSerializer.Deserialize<RunRecord>(File.ReadAllText(file), Json)!);
            }
            else if (path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
            {
                records.AddRange(File.ReadAllLines(path).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<RunRecord>(l, Json)!));
            }
            else
            {
                records.Add(JsonSerializer.Deserialize<RunRecord>(File.ReadAllText(path), Json)!);
            }
        }
        return records;
    }
}
