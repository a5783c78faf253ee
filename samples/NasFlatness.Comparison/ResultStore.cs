using NasFlatness.Samples;

namespace NasFlatness.Comparison;

/// <summary>
/// One result file per (method, seed) under a folder, written atomically when a search finishes; a search whose file
/// exists is skipped on restart, and each search has its own checkpoint folder so an interrupted one resumes mid-search.
/// </summary>
public sealed class ResultStore
{
    /// <summary>Creates a store over <paramref name="directory"/> (created when missing).</summary>
    public ResultStore(string directory)
    {
        Directory = System.IO.Directory.CreateDirectory(directory).FullName;
    }

    /// <summary>The results folder.</summary>
    public string Directory { get; }

    /// <summary>A file-name-safe form of a method label (letters, digits, '+', '-', '.', '_' kept; others become '_').</summary>
    public static string Safe(string label) => ResultFiles.Safe(label);

    /// <summary>The result file of (method, seed).</summary>
    public string ResultPath(string method, int seed) => Path.Combine(Directory, $"{ResultFiles.Safe(method)}_seed{seed}.json");

    /// <summary>The checkpoint folder of (method, seed).</summary>
    public string CheckpointDirectory(string method, int seed) => Path.Combine(Directory, "checkpoints", $"{ResultFiles.Safe(method)}_seed{seed}");

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
        ResultFiles.WriteAtomic(ResultPath(record.Method, record.Seed), record);
    }

    /// <summary>Reads records from result folders (every <c>*.json</c>), single JSON files and JSON-lines files.</summary>
    public static IReadOnlyList<RunRecord> ReadAll(IEnumerable<string> paths) => ResultFiles.ReadAll<RunRecord>(paths);
}
