using System.Runtime.InteropServices;
using System.Text;

namespace NasFlatness;

/// <summary>
/// The one atomic, durable file write of NasFlatness: the content goes to a temporary file beside the target, is flushed to
/// disk, renamed over the target, and the folder is flushed too (on Linux and macOS), so a crash leaves either the old file
/// or the new one, never half of one.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> atomically with <paramref name="write"/> filling the stream; creates the folder if needed.</summary>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    public static void Write(string path, Action<Stream> write) => Write(path, write, uniqueTemporary: false);

    /// <summary>Writes <paramref name="text"/> (UTF-8, no byte-order mark) to <paramref name="path"/> atomically.</summary>
    public static void WriteAllText(string path, string text) => Write(path, s => s.Write(Encoding.UTF8.GetBytes(text)));

    /// <summary>The name prefix of <see cref="ProbeWritable"/>'s probe files (a folder's cleanup may delete leftovers).</summary>
    internal const string ProbePrefix = ".write-probe-";

    /// <summary>
    /// Proves <paramref name="directory"/> writable now: a probe file is created, flushed to disk and deleted (removed again when a
    /// step fails). Throws what the file system threw.
    /// </summary>
    internal static void ProbeWritable(string directory)
    {
        var probe = Path.Combine(directory, $"{ProbePrefix}{Environment.ProcessId}.tmp");
        try
        {
            using (var s = new FileStream(probe, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.None))
            {
                s.WriteByte(0);
                s.Flush(flushToDisk: true);
            }
            File.Delete(probe);
        }
        catch
        {
            try { File.Delete(probe); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>
    /// As <see cref="Write(string, Action{Stream})"/>; with <paramref name="uniqueTemporary"/> the temporary file is named for this
    /// process (<c>path.PID.tmp</c>), for files several processes may replace at once; otherwise it is <c>path.tmp</c>.
    /// </summary>
    internal static void Write(string path, Action<Stream> write, bool uniqueTemporary)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        string temporary = uniqueTemporary ? $"{full}.{Environment.ProcessId}.tmp" : full + ".tmp";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temporary); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
        FlushFolder(folder);
    }

    /// <summary>Makes a rename inside <paramref name="folder"/> durable (fsync of the folder); best effort, a no-op on Windows.</summary>
    private static void FlushFolder(string folder)
    {
        if (!(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())) return;
        int fd = Native.open(folder, 0);
        if (fd < 0) return;
        _ = Native.fsync(fd);
        _ = Native.close(fd);
    }

    private static class Native
    {
        [DllImport("libc", SetLastError = true)]
        public static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", SetLastError = true)]
        public static extern int fsync(int fd);

        [DllImport("libc", SetLastError = true)]
        public static extern int close(int fd);
    }
}
