using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace NasFlatness.Checkpoints;

/// <summary>
/// Exclusive ownership of a checkpoint folder for the lifetime of a run: a lock file (<c>nasflatness.lock</c>) opened with
/// <see cref="FileShare.None"/> (an OS lock that the OS releases when the process dies), and beside it a JSON body
/// (<c>nasflatness.lock.json</c>: pid, host, start time) that names the holder to a second run. Acquiring also proves the
/// folder writable (a probe file is created and deleted) and removes the <c>*.tmp</c> files that a killed run left.
/// </summary>
internal sealed class CheckpointLock : IDisposable
{
    public const string LockName = "nasflatness.lock";
    public const string HolderName = "nasflatness.lock.json";
    private readonly FileStream _stream;
    private readonly string _directory;

    /// <summary>Whether this lock wrote its holder body (only then are the files removed on release: a refused run leaves another run's body alone).</summary>
    private bool _owned;

    private CheckpointLock(string directory, FileStream stream)
    {
        _directory = directory;
        _stream = stream;
    }

    /// <summary>The holder of a lock, as written in its JSON body.</summary>
    internal sealed record Holder(int Pid, string Host, DateTimeOffset Started, string? Process);

    /// <summary>
    /// Takes the lock of <paramref name="directory"/> (created if missing), before any compute.
    /// </summary>
    /// <param name="directory">The checkpoint folder.</param>
    /// <param name="optionName">How the caller names the folder option, for the messages (e.g. "CheckpointDirectory").</param>
    /// <param name="log">Receives a line when a stale lock of a dead process is taken over.</param>
    /// <exception cref="InvalidOperationException">Another run holds the folder (the message names its pid, host and start time).</exception>
    /// <exception cref="IOException">The folder cannot be created or written (the message names it and the cause).</exception>
    public static CheckpointLock Acquire(string directory, string optionName, Action<string> log)
    {
        string full;
        try
        {
            full = Path.GetFullPath(directory);
            Directory.CreateDirectory(full);
        }
        catch (Exception ex) when (IsIo(ex))
        {
            throw new IOException($"The checkpoint folder '{ErrorText.Echo(directory)}' cannot be created ({ex.Message}); choose another {optionName}. Nothing was computed.", ex);
        }
        var lockPath = Path.Combine(full, LockName);
        var holderPath = Path.Combine(full, HolderName);
        FileStream stream;
        try
        {
            stream = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex) when (ex is not FileNotFoundException and not DirectoryNotFoundException && File.Exists(lockPath))
        {
            throw InUse(full, Describe(ReadHolder(holderPath)), optionName, ex);
        }
        catch (Exception ex) when (IsIo(ex))
        {
            throw new IOException($"The checkpoint folder '{full}' is not writable ({ex.Message}); choose another {optionName}. Nothing was computed.", ex);
        }

        var result = new CheckpointLock(full, stream);
        try
        {
            // Without OS file locking (some network file systems, DOTNET_SYSTEM_IO_DISABLEFILELOCKING), the body still tells.
            if (ReadHolder(holderPath) is { } previous)
            {
                if (!SameHost(previous))
                    throw HeldFromAnotherHost(full, holderPath, previous, optionName);
                if (IsAlive(previous))
                    throw InUse(full, Describe(previous), optionName, null);
                log(string.Create(CultureInfo.InvariantCulture,
                    $"took over the stale lock in '{full}' left by process {previous.Pid} (started {previous.Started.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC on this host), which is no longer running"));
            }
            var me = new Holder(Environment.ProcessId, Environment.MachineName, DateTimeOffset.UtcNow, Environment.ProcessPath);
            result._owned = true;
            CheckpointFiles.WriteText(holderPath, JsonSerializer.Serialize(me, CheckpointFiles.Json));
            stream.SetLength(0);
            var bytes = System.Text.Encoding.UTF8.GetBytes(JsonSerializer.Serialize(me, CheckpointFiles.Json));
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
            AtomicFile.ProbeWritable(full);
            RemoveOrphans(full);
            return result;
        }
        catch (Exception ex) when (IsIo(ex))
        {
            result.Dispose();
            throw new IOException($"The checkpoint folder '{full}' is not writable ({ex.Message}); choose another {optionName}. Nothing was computed.", ex);
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Throws an <see cref="IOException"/> when the file system of <paramref name="directory"/> has less than
    /// <paramref name="needed"/> bytes free (skipped where the free space cannot be read cheaply).
    /// </summary>
    public static void RequireFreeSpace(string directory, long needed, string optionName)
    {
        long available;
        try
        {
            var full = Path.GetFullPath(directory);
            var drive = OperatingSystem.IsWindows() ? new DriveInfo(Path.GetPathRoot(full)!) : new DriveInfo(full);
            available = drive.AvailableFreeSpace;
        }
        catch (Exception ex) when (IsIo(ex) || ex is ArgumentException)
        {
            return;
        }
        if (available < needed)
            throw new IOException(string.Create(CultureInfo.InvariantCulture,
                $"The checkpoint folder '{directory}' has {available / 1e6:F1} MB free, but a checkpoint needs about {needed / 1e6:F1} MB (two while one replaces the other); free space or choose another {optionName}. Nothing was computed."));
    }

    private static CheckpointFolderInUseException InUse(string full, string holder, string optionName, Exception? cause) =>
        new(full, holder, $"The checkpoint folder '{full}' is in use by another run ({holder}). Wait for it to finish, or use another {optionName}.", cause);

    /// <summary>
    /// A lock body written on another host, with no OS lock held here: this machine cannot tell whether that run still lives, so
    /// the message says how to take the folder over once the user has checked.
    /// </summary>
    private static CheckpointFolderInUseException HeldFromAnotherHost(string full, string holderPath, Holder holder, string optionName) =>
        new(full, Describe(holder),
            $"The checkpoint folder '{full}' is locked by a run on another host ({Describe(holder)}), which this machine cannot check. " +
            $"If that run has stopped (check on host {ErrorText.Echo(holder.Host)}), delete '{holderPath}' to take the folder over; otherwise wait for it, or use another {optionName}.", null)
        {
            OtherHost = holder.Host,
            LockFile = holderPath,
        };

    private static bool SameHost(Holder holder) => string.Equals(holder.Host, Environment.MachineName, StringComparison.OrdinalIgnoreCase);

    /// <summary>Removes the temporary files a killed run left (only called with the lock held, so no live writer owns them).</summary>
    private static void RemoveOrphans(string directory)
    {
        foreach (var file in Directory.EnumerateFiles(directory, "*.tmp"))
        {
            var name = Path.GetFileName(file);
            if (name.EndsWith(".bin.tmp", StringComparison.Ordinal) || name.EndsWith(".json.tmp", StringComparison.Ordinal) ||
                name.StartsWith(AtomicFile.ProbePrefix, StringComparison.Ordinal))
                File.Delete(file);
        }
    }

    internal static Holder? ReadHolder(string holderPath)
    {
        try
        {
            if (!File.Exists(holderPath)) return null;
            return JsonSerializer.Deserialize<Holder>(File.ReadAllText(holderPath), CheckpointFiles.Json);
        }
        catch (Exception ex) when (IsIo(ex) || ex is JsonException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>Whether the holder's process still runs (same host, pid alive, and started no later than the lock).</summary>
    internal static bool IsAlive(Holder holder)
    {
        if (!SameHost(holder)) return true; // cannot tell: assume alive
        if (holder.Pid == Environment.ProcessId) return false; // our own earlier run in this process has ended (its OS lock was released)
        try
        {
            using var process = Process.GetProcessById(holder.Pid);
            if (process.HasExited) return false;
            try
            {
                return process.StartTime.ToUniversalTime() <= holder.Started.UtcDateTime.AddSeconds(5); // a recycled pid started later
            }
            catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
            {
                return true;
            }
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static string Describe(Holder? holder) => holder is null
        ? "its holder could not be read"
        : string.Create(CultureInfo.InvariantCulture, $"pid {holder.Pid} on host {ErrorText.Echo(holder.Host)}, started {holder.Started.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC");

    private static bool IsIo(Exception ex) =>
        ex is IOException or UnauthorizedAccessException or System.Security.SecurityException or NotSupportedException;

    /// <summary>Releases the lock: the body and the lock file are removed (when this lock wrote the body), then the OS lock is released.</summary>
    public void Dispose()
    {
        try
        {
            if (_owned)
            {
                File.Delete(Path.Combine(_directory, HolderName));
                File.Delete(Path.Combine(_directory, LockName));
            }
        }
        catch (Exception ex) when (IsIo(ex))
        {
        }
        _stream.Dispose();
    }
}
