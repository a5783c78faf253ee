using System.Globalization;
using System.Text.Json;

namespace NasFlatness.Trials;

/// <summary>Who holds a <see cref="TrialClaim"/>: written to <c>claim.json</c> beside the lock so a second launch can name it.</summary>
/// <param name="Pid">Process id of the holder.</param>
/// <param name="Host">Host name of the holder.</param>
/// <param name="StartedUtc">When the claim was taken.</param>
/// <param name="Job">The scheduler's name for the launch (Slurm job and array task, Kubernetes pod), or null.</param>
public sealed record TrialClaimHolder(int Pid, string Host, DateTimeOffset StartedUtc, string? Job)
{
    /// <summary>The holder in words, for messages.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"pid {Pid} on host {ErrorText.Echo(Host)}{(Job is null ? "" : $", {ErrorText.Echo(Job)}")}, since {StartedUtc.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC");

    /// <summary>The current process, with the scheduler's job name from the environment (<see cref="JobFromEnvironment"/>).</summary>
    public static TrialClaimHolder Current() => new(Environment.ProcessId, Environment.MachineName, DateTimeOffset.UtcNow, JobFromEnvironment());

    /// <summary>
    /// The launch's name from the environment: Slurm <c>job &lt;SLURM_ARRAY_JOB_ID&gt;_&lt;SLURM_ARRAY_TASK_ID&gt;</c> (or <c>SLURM_JOB_ID</c>),
    /// else the Kubernetes pod (<c>HOSTNAME</c> when <c>JOB_COMPLETION_INDEX</c> is set), else null.
    /// </summary>
    public static string? JobFromEnvironment()
    {
        string? Get(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
        if (Get("SLURM_ARRAY_JOB_ID") is { } array)
            return $"Slurm job {array}_{Get("SLURM_ARRAY_TASK_ID") ?? "?"} (job id {Get("SLURM_JOB_ID") ?? "?"}, restart {Get("SLURM_RESTART_COUNT") ?? "0"})";
        if (Get("SLURM_JOB_ID") is { } job) return $"Slurm job {job}";
        if (Get("JOB_COMPLETION_INDEX") is { } index) return $"Kubernetes pod {Get("HOSTNAME") ?? "?"} (completion index {index})";
        return null;
    }
}

/// <summary>
/// Exclusive ownership of one trial folder while a launch runs it: an OS file lock on <c>claim.lock</c> (advisory
/// <c>flock</c> on Linux and macOS), released when the process ends for any reason; the lock file itself is kept.
/// The holder is described in <c>claim.json</c>.
/// </summary>
/// <remarks>
/// Across hosts the claim is only as good as the shared file system's <c>flock</c> (docs/scale-out.md, "Claims").
/// With <c>DOTNET_SYSTEM_IO_DISABLEFILELOCKING</c> set, <see cref="TryAcquire"/> throws <see cref="NotSupportedException"/>.
/// </remarks>
public sealed class TrialClaim : IDisposable
{
    /// <summary>The lock file's name in the trial folder.</summary>
    public const string LockFileName = "claim.lock";

    /// <summary>The holder description's name in the trial folder.</summary>
    public const string HolderFileName = "claim.json";

    private readonly FileStream _stream;

    private TrialClaim(string folder, FileStream stream, TrialClaimHolder holder)
    {
        Folder = folder;
        _stream = stream;
        Holder = holder;
    }

    /// <summary>The claimed trial folder (full path).</summary>
    public string Folder { get; }

    /// <summary>This claim's holder (the current process).</summary>
    public TrialClaimHolder Holder { get; }

    /// <summary>Whether this process's .NET runtime takes OS file locks (false when <c>DOTNET_SYSTEM_IO_DISABLEFILELOCKING</c> or the
    /// <c>System.IO.DisableFileLocking</c> switch is set).</summary>
    public static bool FileLockingEnabled =>
        !(AppContext.TryGetSwitch("System.IO.DisableFileLocking", out bool disabled) && disabled) &&
        Environment.GetEnvironmentVariable("DOTNET_SYSTEM_IO_DISABLEFILELOCKING") is not ("1" or "true" or "True" or "TRUE");

    /// <summary>
    /// Claims <paramref name="folder"/> (created if missing), or returns null when another launch holds it.
    /// A held lock is tried again a few times over about half a second (a <see cref="IsHeld"/> probe holds it for microseconds).
    /// </summary>
    /// <param name="folder">The trial folder.</param>
    /// <param name="holder">When null is returned: the other launch as it described itself (null if unreadable).</param>
    /// <exception cref="NotSupportedException">.NET file locking is disabled in this process.</exception>
    /// <exception cref="IOException">The folder cannot be created or written.</exception>
    public static TrialClaim? TryAcquire(string folder, out TrialClaimHolder? holder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        if (!FileLockingEnabled)
            throw new NotSupportedException("Trial claims need OS file locks, but .NET file locking is disabled (DOTNET_SYSTEM_IO_DISABLEFILELOCKING); unset it to run trials.");
        var full = Path.GetFullPath(folder);
        Directory.CreateDirectory(full);
        var lockPath = Path.Combine(full, LockFileName);
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                var stream = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                var me = TrialClaimHolder.Current();
                try
                {
                    TrialFiles.WriteAtomically(Path.Combine(full, HolderFileName), JsonSerializer.Serialize(me, TrialFiles.Json));
                }
                catch
                {
                    stream.Dispose();
                    throw;
                }
                holder = null;
                return new TrialClaim(full, stream, me);
            }
            catch (IOException ex) when (ex is not FileNotFoundException and not DirectoryNotFoundException && File.Exists(lockPath))
            {
                if (attempt >= 4)
                {
                    holder = ReadHolder(full);
                    return null;
                }
                Thread.Sleep(120);
            }
        }
    }

    /// <summary>
    /// Whether a live launch holds the claim of <paramref name="folder"/> (probed with a shared lock that is released at once;
    /// false when there is no lock file or file locking is disabled).
    /// </summary>
    public static bool IsHeld(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        var lockPath = Path.Combine(folder, LockFileName);
        if (!File.Exists(lockPath) || !FileLockingEnabled) return false;
        try
        {
            using var probe = new FileStream(lockPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return false;
        }
        catch (IOException ex) when (ex is not FileNotFoundException and not DirectoryNotFoundException)
        {
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The holder recorded in <paramref name="folder"/>'s <c>claim.json</c> (the current or the last one), or null.</summary>
    public static TrialClaimHolder? ReadHolder(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        try
        {
            var path = Path.Combine(folder, HolderFileName);
            return File.Exists(path) ? JsonSerializer.Deserialize<TrialClaimHolder>(File.ReadAllText(path), TrialFiles.Json) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>Releases the claim (the OS lock; the lock file stays).</summary>
    public void Dispose() => _stream.Dispose();
}
