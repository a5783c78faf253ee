using NasFlatness.Reproducibility;

namespace NasFlatness.Cli;

/// <summary>
/// What <c>reproduce</c> requires of a manifest before it re-runs anything: a recorded tool command that writes a run
/// manifest (<c>search</c>, <c>evaluate</c> or <c>compare</c> — never <c>reproduce</c> itself, which would recurse), a
/// <c>Kind</c> that matches that command, and the outcome and epochs it will be compared against. Anything else is one
/// <see cref="CliInputException"/> (exit 2) naming the field.
/// </summary>
internal static class ReproducibleManifest
{
    /// <summary>The kind of manifest each re-runnable command writes.</summary>
    private static readonly Dictionary<string, string> KindOf = new(StringComparer.Ordinal)
    {
        ["search"] = "search",
        ["evaluate"] = "evaluation",
        ["compare"] = "comparison",
    };

    /// <summary>Throws <see cref="CliInputException"/> unless <paramref name="manifest"/> can be re-run and compared honestly.</summary>
    public static void Require(RunManifest manifest, string path)
    {
        string where = $"The manifest '{ErrorText.Echo(path)}'";
        if (manifest.Command is null || manifest.Command.Count == 0)
            throw new CliInputException($"{where} records no command (it was written by code, not by the nasflatness tool), so it cannot be re-run here.");
        if (manifest.Command.Any(a => a is null))
            throw new CliInputException($"{where} is damaged: its Command holds null.");
        var command = manifest.Command.FirstOrDefault(a => !a.StartsWith('-')) ?? "";
        if (command == "reproduce")
            throw new CliInputException($"{where} records the command 'reproduce', which would re-run itself; reproduce the manifest of the search, evaluate or compare run it names instead.");
        if (!KindOf.TryGetValue(command, out var kind))
            throw new CliInputException($"{where} records the command '{ErrorText.Echo(command)}', which writes no run manifest; reproduce re-runs search, evaluate and compare.");
        if (manifest.Kind != kind)
            throw new CliInputException($"{where} is of kind '{ErrorText.Echo(manifest.Kind)}', but its command '{command}' writes kind '{kind}'; the manifest was edited, so it cannot be compared honestly.");
        if (manifest.Outcome is null)
            throw new CliInputException($"{where} is damaged: it records no Outcome to compare the re-run with.");
        if (manifest.Epochs is null || manifest.Epochs.Any(e => e is null))
            throw new CliInputException($"{where} is damaged: its Epochs are missing or hold null.");
        if (kind == "comparison")
        {
            if (manifest.Runs is null || manifest.Runs.Count == 0)
                throw new CliInputException($"{where} is a comparison that lists no Runs; there is nothing to compare.");
            for (int i = 0; i < manifest.Runs.Count; i++) RequireRunPath(manifest.Runs[i], i);
        }
    }

    /// <summary>Throws <see cref="CliInputException"/> unless run <paramref name="index"/> of a comparison is a relative path.</summary>
    public static void RequireRunPath(string? run, int index)
    {
        if (string.IsNullOrWhiteSpace(run) || Path.IsPathRooted(run))
            throw new CliInputException($"Runs[{index}] of the comparison manifest is '{ErrorText.Echo(run)}', not a path relative to its folder.");
    }
}
