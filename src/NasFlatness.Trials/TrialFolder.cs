using System.Text.Json;
using System.Text.Json.Nodes;
using NasFlatness.Reproducibility;

namespace NasFlatness.Trials;

/// <summary>Where a trial stands.</summary>
public enum TrialState
{
    /// <summary>Never launched (no folder, or no status yet).</summary>
    Pending,

    /// <summary>A live launch holds its claim.</summary>
    Running,

    /// <summary>Launched and stopped before the end without an error of its own (killed, preempted, cancelled); a relaunch resumes it.</summary>
    Interrupted,

    /// <summary>Finished: its manifest is in the trial folder.</summary>
    Completed,

    /// <summary>The last launch ended with an error (see <see cref="TrialStatus.LastError"/>).</summary>
    Failed,
}

/// <summary>What a trial's <c>status.json</c> records (written atomically by the launch that holds the claim).</summary>
public sealed class TrialStatus
{
    /// <summary>The state the last launch recorded (a reader also checks the claim: a recorded <see cref="TrialState.Running"/> without a live claim is <see cref="TrialState.Interrupted"/>).</summary>
    /// <value>Default <see cref="TrialState.Pending"/>.</value>
    public TrialState State { get; set; }

    /// <summary>The trial's index in its plan.</summary>
    /// <value>Default 0.</value>
    public int Index { get; set; }

    /// <summary>The trial's id.</summary>
    /// <value>Default empty.</value>
    public string Id { get; set; } = "";

    /// <summary>How many launches have started it (1 for the first).</summary>
    /// <value>Default 0.</value>
    public int Attempts { get; set; }

    /// <summary>The last launch.</summary>
    /// <value>Default null.</value>
    public TrialClaimHolder? Launch { get; set; }

    /// <summary>When the last launch started (UTC).</summary>
    /// <value>Default null.</value>
    public DateTimeOffset? StartedUtc { get; set; }

    /// <summary>When the last launch ended (UTC), or null while it runs or when it was killed.</summary>
    /// <value>Default null.</value>
    public DateTimeOffset? FinishedUtc { get; set; }

    /// <summary>The last error (type and message), or null; also written to <c>error.txt</c>.</summary>
    /// <value>Default null.</value>
    public string? LastError { get; set; }
}

/// <summary>
/// The folder of one trial, <c>&lt;results&gt;/&lt;trial id&gt;/</c>: <c>trial.json</c> (the plan line and plan hash),
/// <c>status.json</c>, <c>error.txt</c> (last error), <c>claim.lock</c>/<c>claim.json</c> (<see cref="TrialClaim"/>),
/// <c>checkpoint/</c> (per-epoch checkpoints), <c>staging/</c> (outputs of the launch in progress), and when completed the
/// outputs themselves with <c>manifest.json</c> — moved in last, so its presence means completed.
/// </summary>
public sealed class TrialFolder
{
    /// <summary>The trial's plan line and plan hash.</summary>
    public const string TrialFileName = "trial.json";

    /// <summary>The trial's <see cref="TrialStatus"/>.</summary>
    public const string StatusFileName = "status.json";

    /// <summary>The last error, as text.</summary>
    public const string ErrorFileName = "error.txt";

    /// <summary>Creates the view of <paramref name="path"/> (nothing is read or created).</summary>
    public TrialFolder(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Path = System.IO.Path.GetFullPath(path);
    }

    /// <summary>The folder of <paramref name="trial"/> under <paramref name="resultsRoot"/>.</summary>
    public static TrialFolder For(string resultsRoot, TrialSpec trial)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(resultsRoot);
        ArgumentNullException.ThrowIfNull(trial);
        return new TrialFolder(System.IO.Path.Combine(resultsRoot, trial.Id));
    }

    /// <summary>The folder (full path).</summary>
    public string Path { get; }

    /// <summary>The checkpoint folder of the trial's run.</summary>
    public string CheckpointDirectory => System.IO.Path.Combine(Path, "checkpoint");

    /// <summary>Where a launch writes its outputs before they are moved into <see cref="Path"/>.</summary>
    public string StagingDirectory => System.IO.Path.Combine(Path, "staging");

    /// <summary>The completed trial's manifest (present only when completed).</summary>
    public string ManifestPath => System.IO.Path.Combine(Path, RunManifest.FileName);

    /// <summary>Whether the trial has completed (its manifest was moved in).</summary>
    public bool IsCompleted => File.Exists(ManifestPath);

    /// <summary>The recorded status, or null when none was written or it cannot be read.</summary>
    public TrialStatus? ReadStatus()
    {
        try
        {
            var path = System.IO.Path.Combine(Path, StatusFileName);
            return File.Exists(path) ? JsonSerializer.Deserialize<TrialStatus>(File.ReadAllText(path), TrialFiles.Json) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>The trial recorded in <c>trial.json</c> and the plan hash it was launched under, or null when absent.</summary>
    /// <exception cref="InvalidDataException">The file is damaged or its options were edited.</exception>
    public (TrialSpec Trial, string PlanHash)? ReadTrial()
    {
        var path = System.IO.Path.Combine(Path, TrialFileName);
        if (!File.Exists(path)) return null;
        var text = File.ReadAllText(path);
        var trial = TrialSpec.Parse(text, $"'{path}'");
        string plan = (JsonNode.Parse(text) as JsonObject)?["plan"]?.GetValue<string>() ?? "";
        return (trial, plan);
    }

    /// <summary>The state: completed (manifest present), running (claim held), else as recorded (a recorded running is interrupted).</summary>
    public TrialState State()
    {
        if (IsCompleted) return TrialState.Completed;
        if (TrialClaim.IsHeld(Path)) return TrialState.Running;
        var status = ReadStatus();
        return status?.State switch
        {
            null or TrialState.Pending => Directory.Exists(CheckpointDirectory) ? TrialState.Interrupted : TrialState.Pending,
            TrialState.Running or TrialState.Completed => TrialState.Interrupted,
            var s => s.Value,
        };
    }

    internal void WriteTrial(TrialSpec trial, string planHash)
    {
        var o = JsonNode.Parse(trial.ToJsonLine())!.AsObject();
        o["plan"] = planHash;
        TrialFiles.WriteAtomically(System.IO.Path.Combine(Path, TrialFileName), o.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    internal void WriteStatus(TrialStatus status) =>
        TrialFiles.WriteAtomically(System.IO.Path.Combine(Path, StatusFileName), JsonSerializer.Serialize(status, TrialFiles.Json));

    internal void WriteError(string text) => TrialFiles.WriteAtomically(System.IO.Path.Combine(Path, ErrorFileName), text);

    /// <summary>Moves every file of <see cref="StagingDirectory"/> into the folder, <c>manifest.json</c> last, then removes the staging folder.</summary>
    internal void Publish()
    {
        var staging = StagingDirectory;
        if (!File.Exists(System.IO.Path.Combine(staging, RunManifest.FileName)))
            throw new InvalidOperationException($"The trial run wrote no {RunManifest.FileName} into '{staging}'; a trial's work must write its manifest there.");
        foreach (var file in Directory.EnumerateFiles(staging).Where(f => System.IO.Path.GetFileName(f) != RunManifest.FileName).Order(StringComparer.Ordinal))
            File.Move(file, System.IO.Path.Combine(Path, System.IO.Path.GetFileName(file)), overwrite: true);
        File.Move(System.IO.Path.Combine(staging, RunManifest.FileName), ManifestPath, overwrite: true);
        Directory.Delete(staging, recursive: true);
    }
}
