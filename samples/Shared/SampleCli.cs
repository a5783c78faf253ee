using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

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

    /// <summary>Exit code for a run that diverged (a NaN or infinite loss, gradient or α; <see cref="SearchDivergedException"/>).</summary>
    public const int Diverged = 3;

    /// <summary>Exit code for a file-system failure (checkpoint folder not writable, disk full).</summary>
    public const int IoFailure = 1;

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
            Console.Error.WriteLine($"error: {OneLine(stripParameterName ? WithoutParameterName(ex) : ex.Message)}");
            return Task.FromResult(BadInput);
        }
        catch (SearchDivergedException ex)
        {
            Console.Error.WriteLine($"error: {OneLine(ex.Message)}");
            return Task.FromResult(Diverged);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: {OneLine(ex.Message)}");
            return Task.FromResult(IoFailure);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine(cancelledMessage);
            return Task.FromResult(Cancelled);
        }
    }

    /// <summary>
    /// Parses and runs <paramref name="root"/>; parse errors print one <c>error: …</c> line and give <see cref="BadInput"/>.
    /// The first Ctrl-C cancels the command's token (the run stops after its current step, keeping its last checkpoint);
    /// a second one exits at once with <see cref="Cancelled"/> and one line, without a stack trace.
    /// </summary>
    public static int Invoke(RootCommand root, string[] args)
    {
        var result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            Console.Error.WriteLine($"error: {OneLine(string.Join(" ", result.Errors.Select(e => Friendly(e.Message))))}");
            return BadInput;
        }
        using var cancellation = new CancellationTokenSource();
        int presses = 0;
        void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
        {
            e.Cancel = true; // the process is not killed by the runtime: the run ends cleanly, or ExitNow ends it
            if (Interlocked.Increment(ref presses) == 1)
            {
                cancellation.Cancel();
                return;
            }
            Console.Error.WriteLine("interrupted again: exiting now; the checkpoint of the last completed epoch is kept.");
            ExitNow(Cancelled);
        }
        Console.CancelKeyPress += OnCancelKeyPress;
        try
        {
            // Signals are handled here, not by System.CommandLine (whose timeout would return while the run still computes).
            return result.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, cancellation.Token).GetAwaiter().GetResult();
        }
        finally
        {
            Console.CancelKeyPress -= OnCancelKeyPress;
        }
    }

    /// <summary>Ends the process at once: no finalizers or native static destructors run (libtorch's threads may be mid-step).</summary>
    internal static void ExitNow(int code)
    {
        Console.Error.Flush();
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) ImmediateExit(code);
        Environment.Exit(code);
    }

    [DllImport("libc", EntryPoint = "_exit")]
    private static extern void ImmediateExit(int status);

    /// <summary>Parse errors in the user's words: "--epochs '99999999999' is not a whole number …", not a .NET type name.</summary>
    internal static string Friendly(string message) =>
        Regex.Replace(message, @"Cannot parse argument '(?<value>.*)' for option '(?<option>[^']*)' as expected type '(?<type>[^']*)'\.?",
            m => $"{m.Groups["option"].Value} '{ErrorText.Echo(m.Groups["value"].Value)}' is not {TypeInWords(m.Groups["type"].Value)}.",
            RegexOptions.Singleline, TimeSpan.FromSeconds(1));

    private static string TypeInWords(string type) => type switch
    {
        _ when type.Contains("System.Int32", StringComparison.Ordinal) => "a whole number from -2147483648 to 2147483647",
        _ when type.Contains("System.Int64", StringComparison.Ordinal) => "a whole number",
        _ when type.Contains("System.Double", StringComparison.Ordinal) || type.Contains("System.Single", StringComparison.Ordinal) => "a number (e.g. 0.025 or 3e-4)",
        _ when type.Contains("System.Boolean", StringComparison.Ordinal) => "true or false",
        _ => "a valid value",
    };

    /// <summary>A message on one line: control characters (newlines, escapes) escaped.</summary>
    private static string OneLine(string message) => ErrorText.Echo(message, int.MaxValue);

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

    /// <summary>The <c>--data</c> option of the CIFAR-10 samples (null: <see cref="FindDefaultCifar10"/>).</summary>
    public static Option<string?> Cifar10DataOption() =>
        new("--data") { Description = "Folder of the CIFAR-10 binary version (default: ../shared/data/cifar10/cifar-10-batches-bin above the current folder)." };

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
