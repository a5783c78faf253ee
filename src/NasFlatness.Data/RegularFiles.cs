using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace NasFlatness.Data;

/// <summary>
/// Refuses a data path that is not a regular file — a FIFO, a character device, a socket — before it is opened for
/// reading, where a FIFO without a writer would block forever. The path is opened non-blocking and must be seekable.
/// </summary>
internal static class RegularFiles
{
    /// <summary>Throws <see cref="InvalidDataException"/> naming <paramref name="path"/> when it exists but is not a regular file.</summary>
    /// <param name="path">The data file (links are followed).</param>
    /// <param name="what">What it is, for the message (e.g. "CIFAR file").</param>
    public static void Require(string path, string what)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return;
        int flags = OperatingSystem.IsLinux() ? 0x800 : 0x4; // O_RDONLY | O_NONBLOCK: opening a FIFO must not wait for a writer
        int fd = Open(Encoding.UTF8.GetBytes(path + "\0"), flags);
        if (fd < 0) return; // missing or unreadable: the caller's own open says so
        bool regular;
        using (var handle = new SafeFileHandle(fd, ownsHandle: true))
        {
            try
            {
                using var stream = new FileStream(handle, FileAccess.Read, 1);
                regular = stream.CanSeek;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                regular = false;
            }
        }
        if (!regular)
            throw new InvalidDataException($"{what} '{ErrorText.Echo(path)}' is not a regular file (a FIFO, device, socket or folder); pass the data file itself.");
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open(byte[] path, int flags);
}
