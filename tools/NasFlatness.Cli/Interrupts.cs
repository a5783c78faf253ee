using System.Runtime.InteropServices;

namespace NasFlatness.Cli;

/// <summary>
/// Ctrl-C and SIGTERM for the tool, handled here rather than by System.CommandLine (whose handler aborts the process with
/// "An attempt was made to transition a task to a final state when it had already completed" on a second Ctrl-C during a
/// slow step): the first signal cancels the command's token — the run stops after its current step, keeping its last
/// checkpoint (exit 130); a second one prints one line and exits at once with 130, without a stack trace. Only the outermost
/// invocation installs the handler (<c>reproduce</c> runs the tool inside itself).
/// </summary>
internal sealed class Interrupts : IDisposable
{
    private static int s_depth;
    private readonly CancellationTokenSource _cancellation;
    private readonly PosixSignalRegistration[] _registrations;
    private readonly TextWriter _error;
    private int _signals;

    private Interrupts(CancellationToken outer, TextWriter error, bool install)
    {
        _error = error;
        _cancellation = CancellationTokenSource.CreateLinkedTokenSource(outer);
        _registrations = install && !OperatingSystem.IsBrowser()
            ? [PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal), PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal)]
            : [];
    }

    /// <summary>The token the command runs with: cancelled by the first signal or by the caller's token.</summary>
    public CancellationToken Token => _cancellation.Token;

    /// <summary>Installs the handler unless an outer invocation already has; dispose to remove it.</summary>
    public static Interrupts Install(CancellationToken outer, TextWriter error) => new(outer, error, Interlocked.Increment(ref s_depth) == 1);

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true; // the runtime does not end the process: the run ends cleanly, or ExitNow ends it
        if (Interlocked.Increment(ref _signals) == 1)
        {
            _cancellation.Cancel();
            return;
        }
        _error.WriteLine("interrupted again: exiting now; the checkpoint of the last completed epoch is kept.");
        _error.Flush();
        ExitNow(ExitCodes.Cancelled);
    }

    /// <summary>Ends the process at once: no finalizers or native static destructors run (libtorch's threads may be mid-step).</summary>
    private static void ExitNow(int code)
    {
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) ImmediateExit(code);
        Environment.Exit(code);
    }

    [DllImport("libc", EntryPoint = "_exit")]
    private static extern void ImmediateExit(int status);

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
        _cancellation.Dispose();
        Interlocked.Decrement(ref s_depth);
    }
}
