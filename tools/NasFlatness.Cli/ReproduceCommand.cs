using System.CommandLine;
using System.Globalization;
using NasFlatness.Reproducibility;
using Spectre.Console;

namespace NasFlatness.Cli;

/// <summary><c>nasflatness reproduce</c>: re-runs a manifest and reports whether the genotype and final losses match.</summary>
internal static class ReproduceCommand
{
    private static readonly string[] ValueOptionsToDrop = ["--output", "-o", "--checkpoint"];

    public static Command Create(TextWriter output, TextWriter error, Func<ParseResult, CliOutput> cliOutput)
    {
        var manifestArgument = new Argument<string>("manifest") { Description = "A manifest.json written by search, evaluate or compare." };
        var outputOption = new Option<string?>("--output", "-o") { Description = "Folder of the re-run (default: <manifest folder>/reproduce-<time>)." };
        var command = new Command("reproduce",
            "Re-run the command a manifest records (same options, seed and data; a fresh output folder and no checkpoint) and compare: the genotype and the final losses of every run " +
            "must be identical. On another machine, or with other library/TorchSharp/libtorch versions, threads or CPU kernels, the environment differences are listed. " +
            "Exit code 0 when everything matches, 1 when something differs.\n\n" +
            "Examples:\n  nasflatness reproduce results/search-20261129-120000/manifest.json\n  nasflatness reproduce results/compare-20261129-120000/manifest.json --json")
        {
            manifestArgument, outputOption,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var o = cliOutput(parse);
            var path = parse.GetValue(manifestArgument)!;
            var original = RunManifest.Read(path);
            ReproducibleManifest.Require(original, path); // before any re-run: one error line, exit 2
            var folder = parse.GetValue(outputOption) ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "reproduce-" + DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
            var replay = Replay(original.Command, folder, o.Json);
            o.Line($"[bold]reproduce[/] {Markup.Escape(string.Join(' ', replay))}");
            int code = CliApp.Run(replay, output, error, cancellationToken);
            if (code != ExitCodes.Ok) return Task.FromResult(code);
            var again = RunManifest.Read(Path.Combine(folder, RunManifest.FileName));

            var differences = new List<string>();
            Compare("", original, again, Path.GetDirectoryName(Path.GetFullPath(path))!, folder, differences);
            var environment = again.Environment.DifferencesFrom(original.Environment);
            bool match = differences.Count == 0;
            o.Event("reproduce", new { match, differences, environmentDifferences = environment, manifest = Path.Combine(folder, RunManifest.FileName) });
            if (match)
                o.Line("[green]reproduced[/]: genotype and final losses are identical" + (environment.Count == 0 ? " (same environment)." : " (the environment differs: " + Markup.Escape(string.Join("; ", environment)) + ")."));
            else
            {
                o.Line("[red]not reproduced[/]:");
                foreach (var d in differences) o.Text("  " + d);
                o.Text(environment.Count == 0
                    ? "The environment is the same (versions, CPU, threads, device, kernels); the run is not deterministic here."
                    : "Environment differences that can explain it:\n  " + string.Join("\n  ", environment));
            }
            return Task.FromResult(match ? ExitCodes.Ok : ExitCodes.Failure);
        });
        return command;
    }

    /// <summary>The recorded command without its output, checkpoint and --json options, writing to <paramref name="folder"/>.</summary>
    internal static string[] Replay(IReadOnlyList<string> command, string folder, bool json)
    {
        var result = new List<string>();
        for (int i = 0; i < command.Count; i++)
        {
            var arg = command[i];
            if (arg == "--json") continue;
            if (ValueOptionsToDrop.Contains(arg)) { i++; continue; }
            if (ValueOptionsToDrop.Any(v => arg.StartsWith(v + "=", StringComparison.Ordinal) || arg.StartsWith(v + ":", StringComparison.Ordinal))) continue;
            result.Add(arg);
        }
        result.Add("--output");
        result.Add(folder);
        if (json) result.Add("--json");
        return [.. result];
    }

    private static void Compare(string prefix, RunManifest a, RunManifest b, string folderA, string folderB, List<string> differences)
    {
        if (a.Kind != b.Kind) differences.Add($"{prefix}kind: {ErrorText.Echo(a.Kind)} → {ErrorText.Echo(b.Kind)}");
        if (a.Kind == "comparison")
        {
            if (a.Runs.Count != b.Runs.Count) { differences.Add($"{prefix}runs: {a.Runs.Count} → {b.Runs.Count}"); return; }
            for (int i = 0; i < a.Runs.Count; i++)
            {
                ReproducibleManifest.RequireRunPath(a.Runs[i], i);
                var ra = RunManifest.Read(Path.Combine(folderA, a.Runs[i]));
                var rb = RunManifest.Read(Path.Combine(folderB, b.Runs[i]));
                Compare($"{a.Runs[i]}: ", ra, rb, folderA, folderB, differences);
            }
            return;
        }
        if (a.Outcome.Genotype != b.Outcome.Genotype) differences.Add($"{prefix}genotype: {ErrorText.Echo(a.Outcome.Genotype)} → {ErrorText.Echo(b.Outcome.Genotype)}");
        if (a.Outcome.SelectedEpoch != b.Outcome.SelectedEpoch) differences.Add($"{prefix}selected epoch: {a.Outcome.SelectedEpoch} → {b.Outcome.SelectedEpoch}");
        Same("final train loss", a.Outcome.TrainLoss, b.Outcome.TrainLoss);
        Same("final validation loss", a.Outcome.ValidationLoss, b.Outcome.ValidationLoss);
        foreach (var (key, value) in a.Outcome.Metrics)
        {
            if (b.Outcome.Metrics.TryGetValue(key, out var other)) Same(key, value, other);
        }
        for (int e = 0; e < Math.Min(a.Epochs.Count, b.Epochs.Count); e++)
        {
            if (a.Epochs[e].Genotype != b.Epochs[e].Genotype) differences.Add($"{prefix}epoch {e + 1} genotype: {ErrorText.Echo(a.Epochs[e].Genotype)} → {ErrorText.Echo(b.Epochs[e].Genotype)}");
            Same($"epoch {e + 1} train loss", a.Epochs[e].TrainLoss, b.Epochs[e].TrainLoss);
            Same($"epoch {e + 1} validation loss", a.Epochs[e].ValidationLoss, b.Epochs[e].ValidationLoss);
        }
        if (a.Epochs.Count != b.Epochs.Count) differences.Add($"{prefix}epochs: {a.Epochs.Count} → {b.Epochs.Count}");
        if (a.Dataset?.Sha256 != b.Dataset?.Sha256) differences.Add($"{prefix}dataset fingerprint: {ErrorText.Echo(a.Dataset?.Sha256)} → {ErrorText.Echo(b.Dataset?.Sha256)}");

        void Same(string what, double x, double y)
        {
            if (!x.Equals(y))
                differences.Add(string.Create(CultureInfo.InvariantCulture, $"{prefix}{what}: {x:R} → {y:R} (difference {Math.Abs(x - y):G3})"));
        }
    }
}
