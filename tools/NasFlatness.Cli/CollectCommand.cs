using System.CommandLine;
using System.Globalization;
using NasFlatness.Reproducibility;
using NasFlatness.Trials;
using Spectre.Console;

namespace NasFlatness.Cli;

/// <summary><c>nasflatness collect</c>: the comparison report of every completed trial, and the trials still to run.</summary>
internal static class CollectCommand
{
    public static Command Create(string[] args, Func<ParseResult, CliOutput> output)
    {
        var resultsArgument = new Argument<string>("results") { Description = "The results folder the trials wrote into (one subfolder per trial)." };
        var planOption = new Option<string?>("--plan") { Description = "The plan: lists the trials that never started too, in plan order, and gives the indices to re-run." };
        var outputOption = new Option<string?>("--output", "-o") { Description = "Folder of the report (default: the results folder)." };
        var rerunOption = new Option<string?>("--rerun-indices") { Description = "Write the indices to re-run (pending, interrupted, failed) to this file as a Slurm --array list, e.g. 1,4-6." };
        var command = new Command("collect",
            "Merge every completed trial's manifest into the same report as 'compare' (results.csv, results.md, accuracy.png, sharpening.png, a comparison manifest.json) " +
            "and list the trials not completed — pending, running (a live claim), interrupted (killed or preempted; a relaunch resumes), failed (with the last error) — " +
            "and the indices to re-run. Exit code 0 when every trial is completed, 3 when some are not (the report of the completed ones is still written).\n\n" +
            "Examples:\n  nasflatness collect results --plan plan.jsonl\n  nasflatness collect results --plan plan.jsonl --rerun-indices rerun.txt && sbatch --array=$(cat rerun.txt) plan.sbatch")
        {
            resultsArgument, planOption, outputOption, rerunOption,
        };
        command.SetAction(parse =>
        {
            var o = output(parse);
            var results = parse.GetValue(resultsArgument)!;
            var plan = parse.GetValue(planOption) is { } planPath ? TrialPlan.Load(planPath) : null;
            var collection = TrialCollection.Scan(results, plan);
            foreach (var w in collection.Warnings)
            {
                o.Event("warning", new { message = w });
                o.Error.WriteLine($"warning: {w}");
            }
            var table = new Table().AddColumns("index", "trial", "state", "attempts", "seconds", "last error");
            var rows = new List<ComparisonRow>();
            foreach (var t in collection.Trials)
            {
                double? seconds = null;
                if (t.State == TrialState.Completed)
                {
                    try
                    {
                        var manifest = RunManifest.Read(t.Folder.ManifestPath);
                        seconds = manifest.Outcome.Seconds;
                        rows.Add(ComparisonRow.FromManifest(manifest, t.Folder.Path));
                    }
                    catch (InvalidDataException ex)
                    {
                        var w = $"trial {t.Id}: {ex.Message} It is left out of the report; delete '{t.Folder.ManifestPath}' and launch the trial again to redo its end.";
                        o.Event("warning", new { message = w });
                        o.Error.WriteLine($"warning: {w}");
                    }
                }
                o.Event("trial", new { index = t.Index, id = t.Id, state = t.State.ToString().ToLowerInvariant(), attempts = t.Attempts, seconds, lastError = t.LastError, folder = t.Folder.Path });
                string state = t.State switch
                {
                    TrialState.Completed => "[green]completed[/]",
                    TrialState.Running => "[blue]running[/]",
                    TrialState.Failed => "[red]failed[/]",
                    TrialState.Interrupted => "[yellow]interrupted[/]",
                    _ => "pending",
                };
                table.AddRow(t.Index?.ToString(CultureInfo.InvariantCulture) ?? "?", Markup.Escape(t.Id), state, t.Attempts.ToString(CultureInfo.InvariantCulture),
                    seconds?.ToString("F1", CultureInfo.InvariantCulture) ?? "", Markup.Escape(t.LastError ?? ""));
            }
            if (!o.Json) o.Console.Write(table);
            string? report = null;
            if (rows.Count > 0) report = ComparisonReport.Write(parse.GetValue(outputOption) ?? results, rows, args, o);
            else o.Text("no completed trials yet: no report written.");
            var rerun = TrialCollection.ArrayList(collection.RerunIndices);
            if (parse.GetValue(rerunOption) is { } rerunPath)
            {
                var full = Path.GetFullPath(rerunPath);
                OutputFolder.WriteText(full, rerun + "\n");
            }
            int running = collection.Trials.Count(t => t.State == TrialState.Running);
            o.Event("collect", new
            {
                trials = collection.Trials.Count, completed = rows.Count, running, toRerun = collection.ToRerun.Count, rerunIndices = collection.RerunIndices, rerunArray = rerun, report,
            });
            o.Text($"{rows.Count} of {collection.Trials.Count} trials completed, {running} running, {collection.ToRerun.Count} to re-run" +
                   (rerun.Length > 0 ? $" (indices {rerun}: sbatch --array={rerun} <plan>.sbatch, or relaunch the whole array/job: completed trials are skipped)." : "."));
            return rows.Count == collection.Trials.Count ? ExitCodes.Ok : ExitCodes.Incomplete;
        });
        return command;
    }
}
