using Microsoft.Extensions.Logging;

namespace NasFlatness.Cli;

/// <summary>
/// Passes the library's checkpoint-lock warning (a stale lock taken over) to the user as one <c>warning: …</c> line; every other
/// log message is dropped (the tool prints its own progress).
/// </summary>
internal sealed class WarningLogger<T>(CliOutput output) : ILogger<T>
{
    /// <summary>The name the library gives the stale-lock message (its <c>[LoggerMessage]</c> method).</summary>
    private const string StaleLock = "StaleLock";

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (logLevel < LogLevel.Warning || eventId.Name != StaleLock) return;
        // The sentence itself (the "Message" argument), without the logger's "Checkpoint folder lock:" prefix.
        string text = state is IReadOnlyList<KeyValuePair<string, object?>> values && values.FirstOrDefault(v => v.Key == "Message").Value is string message
            ? message : formatter(state, exception);
        output.Warning(CliErrors.Line(text + "."));
    }
}
