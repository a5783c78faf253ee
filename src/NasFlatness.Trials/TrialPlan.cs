using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace NasFlatness.Trials;

/// <summary>
/// One trial of a <see cref="TrialPlan"/>: its position, its stable id, the SHA-256 of its options, and the options
/// themselves (fully resolved, as invariant text, keys sorted ordinally).
/// </summary>
public sealed class TrialSpec
{
    private static readonly IComparer<string> Ordinal = StringComparer.Ordinal;

    /// <summary>Creates a trial from its options; the id is <paramref name="label"/> (sanitised) followed by the first 8 hex digits of the hash.</summary>
    /// <param name="index">Zero-based position in the plan.</param>
    /// <param name="label">Readable part of the id (e.g. <c>darts-s0</c>); characters other than <c>a-z0-9._-</c> become <c>-</c>; empty gives <c>trial</c>.</param>
    /// <param name="options">The resolved options (keys and values are copied).</param>
    /// <exception cref="ArgumentException">An option key is empty or a value is null.</exception>
    public TrialSpec(int index, string label, IReadOnlyDictionary<string, string> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        var sorted = new SortedDictionary<string, string>(Ordinal);
        foreach (var (key, value) in options)
        {
            if (string.IsNullOrWhiteSpace(key)) throw new ArgumentException("A trial option has an empty name.", nameof(options));
            sorted[key] = value ?? throw new ArgumentException($"The trial option '{key}' has no value.", nameof(options));
        }
        Index = index;
        Options = sorted;
        Hash = HashOf(sorted);
        Id = $"{Sanitize(label)}-{Hash[..8]}";
    }

    private TrialSpec(int index, string id, string hash, SortedDictionary<string, string> options)
    {
        Index = index;
        Id = id;
        Hash = hash;
        Options = options;
    }

    /// <summary>Zero-based position in the plan (the Slurm array index / Kubernetes completion index).</summary>
    public int Index { get; }

    /// <summary>The stable id, e.g. <c>darts-s0-1a2b3c4d</c>: a label and the first 8 hex digits of <see cref="Hash"/>; also the trial's folder name.</summary>
    public string Id { get; }

    /// <summary>SHA-256 (64 lowercase hex digits) of <see cref="CanonicalJson"/> of the options.</summary>
    public string Hash { get; }

    /// <summary>The options, keys in ordinal order.</summary>
    public IReadOnlyDictionary<string, string> Options { get; }

    /// <summary>The canonical text that is hashed: a JSON object of the options with keys in ordinal order, no white space.</summary>
    public static string CanonicalJson(IReadOnlyDictionary<string, string> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = new JsonObject();
        foreach (var (key, value) in options.OrderBy(p => p.Key, Ordinal)) o[key] = value;
        return o.ToJsonString();
    }

    /// <summary>SHA-256 (lowercase hex) of the <see cref="CanonicalJson"/> of <paramref name="options"/>.</summary>
    public static string HashOf(IReadOnlyDictionary<string, string> options) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(CanonicalJson(options))));

    /// <summary>The label as it appears in an id: lowercase <c>a-z0-9._-</c>, runs of other characters replaced by one <c>-</c>.</summary>
    public static string Sanitize(string? label)
    {
        var sb = new StringBuilder();
        foreach (var c in (label ?? "").ToLowerInvariant())
        {
            bool ok = c is >= 'a' and <= 'z' or >= '0' and <= '9' or '.' or '_' or '-';
            if (ok) sb.Append(c);
            else if (sb.Length > 0 && sb[^1] != '-') sb.Append('-');
        }
        var s = sb.ToString().Trim('-', '.');
        if (s.Length > 60) s = s[..60].TrimEnd('-', '.');
        return s.Length == 0 ? "trial" : s;
    }

    /// <summary>The plan-file line of this trial (one JSON object: index, id, hash, options).</summary>
    public string ToJsonLine()
    {
        var options = new JsonObject();
        foreach (var (key, value) in Options) options[key] = value;
        var line = new JsonObject { ["index"] = Index, ["id"] = Id, ["hash"] = Hash, ["options"] = options };
        return line.ToJsonString();
    }

    /// <summary>Reads a plan-file line and checks it: the options must still hash to the recorded hash and id.</summary>
    /// <exception cref="InvalidDataException">The line is not a trial, or its options were edited (the trial is named).</exception>
    internal static TrialSpec Parse(string line, string where)
    {
        JsonObject o;
        try
        {
            o = JsonNode.Parse(line) as JsonObject ?? throw new InvalidDataException($"{where} is not a JSON object.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{where} is not valid JSON: {ex.Message}", ex);
        }
        int index;
        string id, hash;
        var options = new SortedDictionary<string, string>(Ordinal);
        try
        {
            index = o["index"]?.GetValue<int>() ?? throw new InvalidDataException($"{where} has no \"index\".");
            id = o["id"]?.GetValue<string>() ?? throw new InvalidDataException($"{where} has no \"id\".");
            hash = o["hash"]?.GetValue<string>() ?? throw new InvalidDataException($"{where} has no \"hash\".");
            if (o["options"] is not JsonObject opts) throw new InvalidDataException($"{where} has no \"options\" object.");
            foreach (var (key, value) in opts)
                options[key] = value?.GetValue<string>() ?? throw new InvalidDataException($"{where}: option '{ErrorText.Echo(key)}' is null.");
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{where} has a field of the wrong type: {ex.Message}", ex);
        }
        var actual = HashOf(options);
        if (!string.Equals(actual, hash, StringComparison.Ordinal) || !id.EndsWith("-" + hash[..Math.Min(8, hash.Length)], StringComparison.Ordinal))
            throw new InvalidDataException(
                $"{where}: trial {index} ({ErrorText.Echo(id)}) was edited after it was planned: its options hash to {actual[..8]}…, but the plan recorded {ErrorText.Echo(hash[..Math.Min(8, hash.Length)])}…. " +
                "Plan again with 'nasflatness plan' instead of editing the plan file.");
        return new TrialSpec(index, id, hash, options);
    }
}

/// <summary>
/// An ordered list of independent trials, saved as a JSON-lines file (one <see cref="TrialSpec"/> per line, line k = index k),
/// with a <see cref="Hash"/> over all trials that launch files pin so a plan changed after launch is detected.
/// </summary>
/// <example>
/// <code>
/// var grid = new TrialGrid { Options = { ["epochs"] = "2" } };
/// grid.Axes.Add(new TrialAxis("method", ["darts", "beta-darts"]));
/// grid.Axes.Add(new TrialAxis("seed", ["0", "1"]));
/// var plan = grid.Expand();           // 4 trials: darts-s0-…, darts-s1-…, beta-darts-s0-…, beta-darts-s1-…
/// plan.Save("plan.jsonl");
/// var same = TrialPlan.Load("plan.jsonl");  // same.Hash == plan.Hash
/// </code>
/// </example>
public sealed class TrialPlan
{
    /// <summary>Creates a plan from trials whose <see cref="TrialSpec.Index"/> are 0, 1, 2 … in order.</summary>
    /// <exception cref="ArgumentException">The trials are empty, out of order, or two share an id.</exception>
    public TrialPlan(IEnumerable<TrialSpec> trials)
    {
        ArgumentNullException.ThrowIfNull(trials);
        var list = trials.ToList();
        if (list.Count == 0) throw new ArgumentException("A trial plan needs at least one trial.", nameof(trials));
        for (int i = 0; i < list.Count; i++)
        {
            if (list[i] is null) throw new ArgumentException($"Trial {i} is null.", nameof(trials));
            if (list[i].Index != i) throw new ArgumentException($"Trial {i} has index {list[i].Index}; a plan's trials are numbered 0, 1, 2 … in order.", nameof(trials));
        }
        var duplicate = list.GroupBy(t => t.Id, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ArgumentException($"Trials {string.Join(" and ", duplicate.Select(t => t.Index))} are the same trial ({duplicate.Key}): a grid must not repeat a combination.", nameof(trials));
        Trials = list;
        var sb = new StringBuilder();
        foreach (var t in list) sb.Append(t.Id).Append(' ').Append(t.Hash).Append('\n');
        Hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
    }

    /// <summary>The trials, index order.</summary>
    public IReadOnlyList<TrialSpec> Trials { get; }

    /// <summary>The number of trials (the Slurm array size, the Kubernetes completions).</summary>
    public int Count => Trials.Count;

    /// <summary>SHA-256 (64 lowercase hex) over every trial's id and hash in order: any change of the plan changes it.</summary>
    public string Hash { get; }

    /// <summary>The first 12 hex digits of <see cref="Hash"/>, for names and messages.</summary>
    public string ShortHash => Hash[..12];

    /// <summary>The trial at <paramref name="index"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The index is outside 0 … <see cref="Count"/> − 1 (the message says the range).</exception>
    public TrialSpec Get(int index)
    {
        if (index < 0 || index >= Count)
            throw new ArgumentOutOfRangeException(nameof(index), index,
                $"Trial index {index} is out of range: the plan has {Count} trial{(Count == 1 ? "" : "s")} (indices 0–{Count - 1}). " +
                "Was the array or the completions count written for another plan?");
        return Trials[index];
    }

    /// <summary>
    /// Checks that this plan is the one a launch was generated for (<paramref name="expectedHash"/>, the full hash or a prefix of at least 12 digits).
    /// </summary>
    /// <param name="expectedHash">The hash recorded in the launch file.</param>
    /// <param name="index">The trial index of this launch, named in the message.</param>
    /// <exception cref="TrialPlanChangedException">The plan file differs from the one launched.</exception>
    public void VerifyHash(string expectedHash, int index)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(expectedHash);
        var expected = expectedHash.Trim().ToLowerInvariant();
        if (expected.Length >= 12 && Hash.StartsWith(expected, StringComparison.Ordinal)) return;
        string which = index >= 0 && index < Count ? $"trial {index} ({Trials[index].Id})" : $"trial {index}";
        throw new TrialPlanChangedException(
            $"The plan file changed since launch: {which} was launched for plan {ErrorText.Echo(expected, 64)[..Math.Min(12, expected.Length)]}, " +
            $"but the plan file is now plan {ShortHash} ({Count} trials). Index {index} may now name another trial; nothing was run. " +
            "Restore the plan file, or plan and launch again.");
    }

    /// <summary>Writes the plan as JSON lines (through a temporary file and a rename).</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        TrialFiles.WriteAtomically(full, ToJsonLines());
    }

    /// <summary>The plan-file text: one line per trial.</summary>
    public string ToJsonLines() => string.Concat(Trials.Select(t => t.ToJsonLine() + "\n"));

    /// <summary>Reads a plan written by <see cref="Save"/> and checks every line (options still hash to the recorded id, indices in order).</summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">A line is damaged or edited, or the indices are out of order (the line and trial are named).</exception>
    public static TrialPlan Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"The plan file '{ErrorText.Echo(path)}' does not exist.", path);
        var trials = new List<TrialSpec>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var where = string.Create(CultureInfo.InvariantCulture, $"'{ErrorText.Echo(path)}' line {lineNumber}");
            var trial = TrialSpec.Parse(line, where);
            if (trial.Index != trials.Count)
                throw new InvalidDataException($"{where} is trial {trial.Index}, expected {trials.Count}: the plan's lines must be trials 0, 1, 2 … in order.");
            trials.Add(trial);
        }
        if (trials.Count == 0) throw new InvalidDataException($"The plan file '{ErrorText.Echo(path)}' has no trials.");
        try
        {
            return new TrialPlan(trials);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"The plan file '{ErrorText.Echo(path)}' is invalid: {ex.Message}", ex);
        }
    }
}

/// <summary>The plan file differs from the one a launch (Slurm array, Kubernetes job) was generated for.</summary>
public sealed class TrialPlanChangedException : Exception
{
    /// <summary>Creates the exception with its message.</summary>
    public TrialPlanChangedException(string message) : base(message)
    {
    }
}

/// <summary>Where a launched trial finds its index when none is given: Slurm job arrays and Kubernetes Indexed Jobs.</summary>
public static class TrialIndex
{
    /// <summary>The environment variables read, in order: <c>SLURM_ARRAY_TASK_ID</c>, then <c>JOB_COMPLETION_INDEX</c>.</summary>
    public static IReadOnlyList<string> Variables { get; } = ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"];

    /// <summary>The index from the first of <see cref="Variables"/> that is set, or null when none is.</summary>
    /// <param name="environment">Reads a variable (default <see cref="Environment.GetEnvironmentVariable(string)"/>).</param>
    /// <exception cref="FormatException">The variable is set but is not a non-negative integer (it is named).</exception>
    public static int? FromEnvironment(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        foreach (var name in Variables)
        {
            var value = environment(name);
            if (string.IsNullOrWhiteSpace(value)) continue;
            if (!int.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int index))
                throw new FormatException($"{name} = '{ErrorText.Echo(value)}' is not a trial index (a non-negative integer).");
            return index;
        }
        return null;
    }
}
