using System.CommandLine;
using System.Globalization;
using NasFlatness.Trials;
using Spectre.Console;

namespace NasFlatness.Cli;

/// <summary><c>nasflatness run-trial</c>: runs one trial of a plan, idempotently (what a Slurm array task or a Kubernetes pod runs).</summary>
internal static class RunTrialCommand
{
    /// <summary>The environment variable the Kubernetes manifest sets to the plan hash (used when --expect-plan-hash is not given).</summary>
    public const string PlanHashVariable = "NASFLATNESS_PLAN_HASH";

    public static Command Create(Func<ParseResult, CliOutput> output)
    {
        var planOption = new Option<string>("--plan") { Description = "The plan file written by 'nasflatness plan'.", Required = true };
        var indexOption = new Option<int?>("--index") { Description = "The trial index (default: SLURM_ARRAY_TASK_ID, else JOB_COMPLETION_INDEX)." };
        var resultsOption = new Option<string>("--results") { Description = "The results folder (the trial writes <results>/<trial id>/).", DefaultValueFactory = _ => "results" };
        var hashOption = new Option<string?>("--expect-plan-hash") { Description = $"The plan hash the launch was generated for (default: {PlanHashVariable}); a plan file changed since is an error." };
        var command = new Command("run-trial",
            "Run one trial of a plan. Idempotent: a completed trial is skipped (exit 0); a trial another live launch is running is left alone (exit 75); otherwise the " +
            "trial is claimed (an OS lock the OS releases if the process dies), resumes from its checkpoint if an earlier launch was killed or preempted, and publishes " +
            "manifest.json, alpha.png and epochs.jsonl into <results>/<trial id>/ atomically (manifest last). An error is kept in error.txt and status.json (exit 1; 3 when the search diverged).\n\n" +
            "Examples:\n  nasflatness run-trial --plan plan.jsonl --index 3 --results results\n  SLURM_ARRAY_TASK_ID=3 nasflatness run-trial --plan plan.jsonl --json")
        {
            planOption, indexOption, resultsOption, hashOption,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var o = output(parse);
            var plan = TrialPlan.Load(parse.GetValue(planOption)!);
            int index = parse.GetValue(indexOption) ?? TrialIndex.FromEnvironment()
                ?? throw new CliInputException($"No trial index: give --index, or run as a Slurm array task (SLURM_ARRAY_TASK_ID) or a Kubernetes Indexed Job pod (JOB_COMPLETION_INDEX). The plan has {plan.Count} trials (0–{plan.Count - 1}).");
            var expected = parse.GetValue(hashOption) ?? (Environment.GetEnvironmentVariable(PlanHashVariable) is { Length: > 0 } h ? h : null);
            var trial = plan.Get(index);
            if (expected is not null) plan.VerifyHash(expected, index);
            var results = parse.GetValue(resultsOption)!;
            var folder = TrialFolder.For(results, trial);
            // Names, values and data are checked before the claim is taken: a bad trial fails at once, writing nothing.
            var request = TrialOptions.ToRequest(trial) with { Checkpoint = folder.CheckpointDirectory };
            var resolved = SearchJob.Resolve(request);
            var started = DateTimeOffset.UtcNow;
            var launch = TrialLauncher.Run(plan, index, results, ws =>
            {
                o.Line($"[bold]trial {index}[/] ({Markup.Escape(trial.Id)}), attempt {ws.Attempt}" +
                       (ws.Resuming ? ", resuming from its checkpoint" : ""));
                o.Event("trial-start", new { index, id = trial.Id, attempt = ws.Attempt, resuming = ws.Resuming, folder = ws.Folder.Path });
                SearchJob.Run(resolved, TrialOptions.SearchCommandLine(trial), ws.OutputDirectory, o, cancellationToken, label: $"trial {index} ({trial.Id})");
            }, expected);
            double seconds = (DateTimeOffset.UtcNow - started).TotalSeconds;
            switch (launch.Outcome)
            {
                case TrialLaunchOutcome.AlreadyCompleted:
                    o.Event("trial", new { index, id = trial.Id, outcome = "already-completed", folder = folder.Path });
                    o.Text($"trial {index} ({trial.Id}) is already completed; nothing to do. Results: {folder.Path}");
                    return Task.FromResult(ExitCodes.Ok);
                case TrialLaunchOutcome.ClaimedElsewhere:
                    o.Event("trial", new { index, id = trial.Id, outcome = "claimed", folder = folder.Path, holder = launch.OtherHolder?.ToString() });
                    o.Error.WriteLine($"claimed: trial {index} ({trial.Id}) is being run by another launch ({launch.OtherHolder?.ToString() ?? "its holder could not be read"}); this launch exits without running it.");
                    return Task.FromResult(ExitCodes.ClaimedElsewhere);
                default:
                    o.Event("trial", new { index, id = trial.Id, outcome = "completed", folder = folder.Path, attempt = launch.Attempt, seconds });
                    o.Text(string.Create(CultureInfo.InvariantCulture, $"trial {index} ({trial.Id}) completed (attempt {launch.Attempt}, {seconds:F1} s). Results: {folder.Path}"));
                    return Task.FromResult(ExitCodes.Ok);
            }
        });
        return command;
    }
}
