using System.Globalization;

namespace NasFlatness.Cli;

/// <summary>
/// The output folder of a command: checked before compute (creatable, writable, enough free space), written file by file
/// atomically, and a run that fails leaves no empty folder it created behind.
/// </summary>
internal static class OutputFolder
{
    /// <summary>What a search writes into its output folder (the default file list of the messages).</summary>
    public const string SearchFiles = "manifest.json, epochs.jsonl, alpha.png, cell.svg, report.html";

    /// <summary>Reads the free bytes of the file system holding a folder (tests replace it); null where it cannot be read.</summary>
    internal static Func<string, long?> FreeSpace { get; set; } = ReadFreeSpace;

    /// <summary>Wraps every stream a result file is written through (tests inject a full disk); null = none.</summary>
    internal static Func<string, Stream, Stream>? WrapStream { get; set; }

    /// <summary>
    /// Makes sure <paramref name="folder"/> exists (created if missing), can be written (a probe file is created, flushed to disk
    /// and deleted) and has at least <paramref name="needed"/> bytes free — before any data is read or anything computed.
    /// </summary>
    /// <param name="folder">The folder.</param>
    /// <param name="needed">About what the command will write into it.</param>
    /// <param name="flag">The option that named the folder, for the message.</param>
    /// <param name="files">What the command writes there, for the message.</param>
    /// <exception cref="CliInputException">One sentence naming <paramref name="flag"/>, the folder and the cause.</exception>
    public static void Prepare(string folder, long needed, string flag = "--output", string files = SearchFiles)
    {
        string full;
        try
        {
            full = Path.GetFullPath(folder);
            Directory.CreateDirectory(full);
        }
        catch (Exception ex) when (IsIo(ex))
        {
            throw new CliInputException($"{flag} '{folder}' cannot be created ({ex.Message}); choose another {flag} folder. Nothing was computed.");
        }
        try
        {
            AtomicFile.ProbeWritable(full);
        }
        catch (Exception ex) when (IsIo(ex))
        {
            throw new CliInputException($"{flag} '{folder}' is not writable ({ex.Message}); choose another {flag} folder. Nothing was computed.");
        }
        RequireFree(folder, needed, flag, files);
    }

    /// <summary>
    /// Refuses a run whose output (about <paramref name="needed"/> bytes) does not fit the free space of <paramref name="folder"/>, an
    /// existing folder already checked by <see cref="Prepare"/> (e.g. once a size known only later, such as a network's weights, is known).
    /// </summary>
    /// <exception cref="CliInputException">One sentence naming <paramref name="flag"/>, the free space, the estimate and <paramref name="files"/>.</exception>
    public static void RequireFree(string folder, long needed, string flag = "--output", string files = SearchFiles)
    {
        if (FreeSpace(Path.GetFullPath(folder)) is long free && free < needed)
            throw new CliInputException(string.Create(CultureInfo.InvariantCulture,
                $"{flag} '{folder}' has {free / 1e6:F2} MB free, but the run writes about {needed / 1e6:F2} MB into it ({files}); free space or choose another {flag} folder. Nothing was computed."));
    }

    /// <summary>Writes <paramref name="path"/> atomically and durably (<see cref="AtomicFile"/>: a temporary file, fsync, rename).</summary>
    public static void WriteFile(string path, Action<Stream> write) =>
        AtomicFile.Write(path, stream => write(WrapStream is { } wrap ? wrap(path, stream) : stream));

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> atomically and durably.</summary>
    public static void WriteFile(string path, byte[] bytes) => WriteFile(path, s => s.Write(bytes));

    /// <summary>Writes <paramref name="text"/> (UTF-8, no byte-order mark) to <paramref name="path"/> atomically and durably.</summary>
    public static void WriteText(string path, string text) => WriteFile(path, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>Appends <paramref name="text"/> (UTF-8) to <paramref name="path"/> and flushes it; an append that fails is cut off again (no partial line stays).</summary>
    public static void Append(string path, string text)
    {
        using var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read);
        long end = file.Seek(0, SeekOrigin.End);
        try
        {
            var stream = WrapStream is { } wrap ? wrap(path, file) : file;
            stream.Write(System.Text.Encoding.UTF8.GetBytes(text));
            stream.Flush();
        }
        catch (Exception ex) when (IsIo(ex))
        {
            try { file.SetLength(end); } catch (Exception cut) when (IsIo(cut)) { }
            throw;
        }
    }

    /// <summary>
    /// Runs <paramref name="run"/>, which writes into <paramref name="folder"/>; when it throws and the folder did not exist
    /// before and is still empty, the folder is removed (a folder with partial results, or one the user made, stays).
    /// </summary>
    public static T RemoveIfLeftEmpty<T>(string folder, Func<T> run)
    {
        bool existed = Directory.Exists(folder);
        try
        {
            return run();
        }
        catch when (!existed)
        {
            try
            {
                if (Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder).Any()) Directory.Delete(folder);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // Leaving an empty folder is better than hiding the run's own error.
            }
            throw;
        }
    }

    private static long? ReadFreeSpace(string folder)
    {
        try
        {
            return new DriveInfo(folder).AvailableFreeSpace;
        }
        catch (Exception ex) when (IsIo(ex) || ex is ArgumentException)
        {
            return null;
        }
    }

    private static bool IsIo(Exception ex) =>
        ex is IOException or UnauthorizedAccessException or System.Security.SecurityException or NotSupportedException;
}
