using System.Globalization;
using System.Text.RegularExpressions;

namespace NasFlatness.Cli;

/// <summary>
/// Turns the library's exceptions into the tool's words: one <c>error: …</c> line with flag names instead of API names,
/// every value escaped and cut (<see cref="ErrorText.Echo"/>), and the documented exit code (docs/cli.md).
/// </summary>
internal static partial class CliErrors
{
    /// <summary>The longest error line printed (the rest is cut, with the total length said).</summary>
    private const int MaxLine = 2000;

    /// <summary>Library option and setting names → the flags that set them.</summary>
    private static readonly Dictionary<string, string> Flags = new(StringComparer.Ordinal)
    {
        ["Epochs"] = "--epochs", ["BatchSize"] = "--batch-size", ["ArchitectureLearningRate"] = "--arch-lr", ["WeightLearningRate"] = "--weight-lr",
        ["WarmupEpochs"] = "--warmup", ["EpochValidationBatches"] = "--validation-batches", ["Device"] = "--device", ["Seed"] = "--seed",
        ["WeightSharpness"] = "--weight-sharpness", ["WeightSharpnessRho"] = "--weight-rho", ["LearningRate"] = "--lr",
        ["space"] = "--space", ["optimizer"] = "--optimizer (or --method)", ["regularizers"] = "--regularizer (or --method)",
        ["activation"] = "--activation", ["schedule"] = "--schedule", ["training images"] = "--train-examples",
        ["validation images"] = "--valid-examples", ["data"] = "--dataset / --data", ["supernet"] = "--channels / --cells",
        ["a network of parameter count"] = "--genotype / --channels / --cells", ["a network of parameter tensors"] = "--genotype / --channels / --cells",
    };

    /// <summary>API words in library messages → the tool's words.</summary>
    private static readonly (string Api, string Cli)[] Words =
    [
        ("MaxTrainExamples", "--train-examples"), ("MaxValidationExamples", "--valid-examples"), ("MaxTestExamples", "--test-examples"),
        ("choose another CheckpointDirectory", "choose another --checkpoint folder"), ("use another CheckpointDirectory", "pass another --checkpoint folder"),
        ("choose another EvaluationOptions.CheckpointDirectory", "choose another --checkpoint folder"), ("CheckpointDirectory", "--checkpoint"),
    ];

    /// <summary>The exit code and the line for a failure that has its own code (divergence, a checkpoint of other settings, a folder in use); null otherwise.</summary>
    public static (int Code, string Line)? Translate(Exception ex) => ex switch
    {
        SearchDivergedException d => (ExitCodes.Diverged, Line("error: " + Diverged(d))),
        CheckpointMismatchException m => (ExitCodes.BadInput, Line("error: " + Mismatch(m))),
        CheckpointFolderInUseException { OtherHost: { } host, LockFile: { } lockFile } u => (ExitCodes.BadInput, Line(
            $"error: the checkpoint folder '{u.Directory}' is locked by a run on another host ({u.Holder}), which this machine cannot check; " +
            $"if that run has stopped (check on host {host}), delete '{lockFile}' and run again to take the folder over, or pass another --checkpoint folder.")),
        CheckpointFolderInUseException u => (ExitCodes.BadInput, Line(
            $"error: the checkpoint folder '{u.Directory}' is in use by another run ({u.Holder}); wait for it to finish, or pass another --checkpoint folder.")),
        _ => null,
    };

    /// <summary>A message in the tool's words, on one line, escaped and cut.</summary>
    public static string Line(string message)
    {
        foreach (var (api, cli) in Words) message = message.Replace(api, cli, StringComparison.Ordinal);
        message = TypeName().Replace(message, m => m.Groups[1].Value switch
        {
            "System.Int32" or "System.Int64" or "System.Nullable`1[System.Int32]" => "a whole number",
            "System.Double" or "System.Single" or "System.Nullable`1[System.Double]" => "a number",
            "System.Boolean" => "true or false",
            _ => "a value of the right kind",
        });
        return ErrorText.Echo(message.TrimEnd('\r', '\n'), MaxLine);
    }

    /// <summary>The flag that sets <paramref name="setting"/>, or the setting itself (set by a preset) when no flag does.</summary>
    public static string Flag(string setting) =>
        Flags.TryGetValue(setting, out var flag) ? flag
        : setting.Contains(" setting ", StringComparison.Ordinal) ? setting + " (set by --method)"
        : setting + " (set by --method or its preset)";

    private static string Diverged(SearchDivergedException d)
    {
        if (d.Quantity.Length == 0) return d.Message;
        string advice = d.Setting is { } s && Flags.TryGetValue(s, out var flag) ? $" Lower {flag} and start over (with --checkpoint: another folder, or delete it)." : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"the run diverged: the {d.Quantity} is {d.Value} at epoch {d.Epoch + 1}, step {d.Step + 1}; the run was stopped and the checkpoint of the last completed epoch (if any) is intact.{advice}");
    }

    private static string Mismatch(CheckpointMismatchException m)
    {
        var what = m.Differences.Count == 0 ? m.Message : string.Join("; ", m.Differences.Select(d => $"{Flag(d.Setting)} {d.Saved} (this run: {d.Now})"));
        return $"the checkpoint in '{m.Directory}' was written with other settings: {what}. Run with the same settings to resume it, pass --fresh to start over in it, or pass another --checkpoint folder.";
    }

    [GeneratedRegex("expected type '([^']+)'")]
    private static partial Regex TypeName();
}
