using System.CommandLine;

namespace NasFlatness.Samples;

/// <summary>
/// What the sample command lines share (compiled into each sample): exit codes, the default CIFAR-10 folder,
/// turning user errors into one line on stderr, and synchronous progress.
/// </summary>
internal static class SampleCli
{
    /// <summary>Exit code for invalid input (bad option, missing data, malformed argument).</summary>
    public const int BadInput = 2;

    /// <summary>Exit code for a cancelled run (as for SIGINT).</summary>
    public const int Cancelled = 130;

    /// <summary>
    /// Runs <paramref name="body"/>; a user error prints <c>error: …</c> and gives <see cref="BadInput"/>, a
    /// cancellation prints <paramref name="cancelledMessage"/> and gives <see cref="Cancelled"/>.
    /// </summary>
    /// <param name="body">The command's work; returns the exit code.</param>
    /// <param name="cancelledMessage">The line printed when the run is cancelled.</param>
    /// <param name="stripParameterName">Drop the " (Parameter 'x')" suffix that ArgumentException appends.</param>
    public static Task<int> Guard(Func<int> body, string cancelledMessage, bool stripParameterName = false)
    {
        try
        {
            return Task.FromResult(body());
        }
        catch (Exception ex) when (IsUserError(ex))
        {
            Console.Error.WriteLine($"error: {(stripParameterName ? WithoutParameterName(ex) : ex.Message)}");
            return Task.FromResult(BadInput);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine(cancelledMessage);
            return Task.FromResult(Cancelled);
        }
    }

    /// <summary>Parses and runs <paramref name="root"/>; parse errors print one <c>error: …</c> line and give <see cref="BadInput"/>.</summary>
    public static int Invoke(RootCommand root, string[] args)
    {
        var result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            Console.Error.WriteLine($"error: {string.Join(" ", result.Errors.Select(e => e.Message))}");
            return BadInput;
        }
        return result.InvokeAsync().GetAwaiter().GetResult();
    }

    private static bool IsUserError(Exception ex) =>
        ex is ArgumentException or FormatException or DirectoryNotFoundException or FileNotFoundException or InvalidDataException or InvalidOperationException;

    private static string WithoutParameterName(Exception ex)
    {
        var message = ex.Message;
        if (ex is ArgumentException { ParamName: { } name })
        {
            var suffix = $" (Parameter '{name}')";
            if (message.EndsWith(suffix, StringComparison.Ordinal)) message = message[..^suffix.Length];
        }
        return message;
    }

    /// <summary>The CIFAR-10 binary folder under <c>shared/data</c> in the current folder or above (or beside) it.</summary>
    public static string FindDefaultCifar10()
    {
        var dir = new DirectoryInfo(Directory.GetCurrentDirectory());
        while (dir is not null)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data", "cifar10", "cifar-10-batches-bin");
            if (Directory.Exists(candidate)) return candidate;
            candidate = Path.Combine(dir.FullName, "..", "shared", "data", "cifar10", "cifar-10-batches-bin");
            if (Directory.Exists(candidate)) return Path.GetFullPath(candidate);
            dir = dir.Parent;
        }
        throw new DirectoryNotFoundException("No CIFAR-10 folder found: pass --data <folder of the CIFAR-10 binary version (cifar-10-batches-bin)>.");
    }
}

/// <summary>Synchronous progress: reports run on the working thread, in order (unlike <see cref="Progress{T}"/>).</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
