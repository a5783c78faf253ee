using System.Diagnostics;
using System.Text;
using NasFlatness.Reproducibility;
using NasFlatness.Trials;
using Xunit;

namespace NasFlatness.Cli.Tests;

/// <summary>The tool in a child process (what a Slurm task or a pod runs); the library's kernel decision is deterministic per CPU.</summary>
internal sealed class ChildTool : IDisposable
{
    private readonly StringBuilder _out = new(), _err = new();

    public ChildTool(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "nasflatness.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        Process = Process.Start(start)!;
        Process.OutputDataReceived += (_, e) => { lock (_out) _out.AppendLine(e.Data); };
        Process.ErrorDataReceived += (_, e) => { lock (_err) _err.AppendLine(e.Data); };
        Process.BeginOutputReadLine();
        Process.BeginErrorReadLine();
    }

    public Process Process { get; }

    public string Out { get { lock (_out) return _out.ToString(); } }

    public string Err { get { lock (_err) return _err.ToString(); } }

    public int Wait()
    {
        if (!Process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            Process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The child tool did not finish in 3 minutes.\n{Out}\n{Err}");
        }
        Process.WaitForExit();
        return Process.ExitCode;
    }

    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        using var child = new ChildTool(args);
        int code = child.Wait();
        return (code, child.Out, child.Err);
    }

    public void Dispose()
    {
        if (!Process.HasExited) Process.Kill(entireProcessTree: true);
        Process.Dispose();
    }
}

[Collection(TorchCollection.Name)]
public sealed class TrialRunTests
{
    private static string Plan(TempFolder tmp, int epochs)
    {
        var path = tmp["plan.jsonl"];
        var (code, _, err) = Tool.Run("plan", "--method", "darts", "--seeds", "5", "--channels", "4", "--cells", "1", "--train-examples", "128", "--valid-examples", "128",
            "--epochs", epochs.ToString(System.Globalization.CultureInfo.InvariantCulture), "--threads", "1", "--data", TestData.Cifar10, "--out", path);
        Assert.True(code == 0, err);
        return path;
    }

    private static void WaitFor(Func<bool> condition, ChildTool child, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (child.Process.HasExited) throw new InvalidOperationException($"The child exited (code {child.Process.ExitCode}) before {what}.\n{child.Out}\n{child.Err}");
            if (clock.Elapsed > TimeSpan.FromMinutes(2)) throw new TimeoutException($"Waited 2 minutes for {what}.");
            Thread.Sleep(10);
        }
    }

    private static Dictionary<string, (DateTime, string)> Snapshot(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(folder, f), f => (File.GetLastWriteTimeUtc(f), Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f)))));

    [Fact]
    public void A_trial_killed_mid_epoch_resumes_and_ends_identical_to_an_uninterrupted_one_and_a_completed_trial_is_not_rerun()
    {
        using var tmp = new TempFolder();
        var planPath = Plan(tmp, epochs: 6);
        var trial = TrialPlan.Load(planPath).Trials[0];

        // Uninterrupted.
        var (code, output, err) = ChildTool.Run("run-trial", "--plan", planPath, "--index", "0", "--results", tmp["straight"]);
        Assert.True(code == 0, output + err);
        var straight = RunManifest.Read(Path.Combine(tmp["straight"], trial.Id, RunManifest.FileName));

        // Killed (SIGKILL, as an OOM kill or a lost node) right after its first checkpoint, i.e. in the middle of a later epoch.
        var folder = TrialFolder.For(tmp["killed"], trial);
        var checkpoint = Path.Combine(folder.CheckpointDirectory, "checkpoint.json");
        using (var child = new ChildTool("run-trial", "--plan", planPath, "--index", "0", "--results", tmp["killed"]))
        {
            WaitFor(() => File.Exists(checkpoint), child, "the first checkpoint");
            Thread.Sleep(100); // into the steps of the next epoch (an epoch takes about a second here)
            child.Process.Kill(entireProcessTree: true);
            child.Process.WaitForExit();
        }
        Assert.False(folder.IsCompleted);
        Assert.Equal(TrialState.Running, folder.ReadStatus()!.State); // what the dead launch last recorded …
        Assert.Equal(TrialState.Interrupted, folder.State());           // … but the OS released its claim
        Assert.False(TrialClaim.IsHeld(folder.Path));
        (code, output, _) = Tool.Run("collect", tmp["killed"], "--plan", planPath, "--json");
        Assert.Equal(ExitCodes.Incomplete, code);
        var summary = Tool.JsonLines(output).Single(l => l.GetProperty("event").GetString() == "collect");
        Assert.Equal("0", summary.GetProperty("rerunArray").GetString());
        Assert.Equal("interrupted", Tool.JsonLines(output).Single(l => l.GetProperty("event").GetString() == "trial").GetProperty("state").GetString());

        // Relaunched (a requeue): resumes from the checkpoint and ends bit-identical to the uninterrupted run.
        (code, output, err) = ChildTool.Run("run-trial", "--plan", planPath, "--index", "0", "--results", tmp["killed"]);
        Assert.True(code == 0, output + err);
        Assert.Contains("attempt 2, resuming from its checkpoint", output);
        var resumed = RunManifest.Read(folder.ManifestPath);
        Assert.Equal(straight.Outcome.Genotype, resumed.Outcome.Genotype);
        Assert.Equal(straight.Outcome.TrainLoss, resumed.Outcome.TrainLoss);
        Assert.Equal(straight.Outcome.ValidationLoss, resumed.Outcome.ValidationLoss);
        Assert.Equal(6, resumed.Epochs.Count);
        for (int e = 0; e < 6; e++)
        {
            Assert.Equal(straight.Epochs[e].Genotype, resumed.Epochs[e].Genotype);
            Assert.Equal(straight.Epochs[e].TrainLoss, resumed.Epochs[e].TrainLoss);
            var a = straight.Epochs[e].Alpha.SelectMany(t => t).SelectMany(r => r).ToArray();
            var b = resumed.Epochs[e].Alpha.SelectMany(t => t).SelectMany(r => r).ToArray();
            Assert.Equal(a, b); // exact double equality, every α of every epoch
        }
        // epochs.jsonl lists every epoch, those of the killed launch too.
        var lines = File.ReadAllLines(Path.Combine(folder.Path, "epochs.jsonl")).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(Enumerable.Range(1, 6), lines.Select(l => l.GetProperty("epoch").GetInt32()));
        Assert.Equal(straight.Epochs.Select(e => e.Genotype), lines.Select(l => l.GetProperty("genotype").GetString()));
        var status = folder.ReadStatus()!;
        Assert.Equal(TrialState.Completed, status.State);
        Assert.Equal(2, status.Attempts);
        Assert.False(Directory.Exists(folder.StagingDirectory));

        // Completed: a further launch does nothing and changes no file.
        var before = Snapshot(folder.Path);
        (code, output, err) = Tool.Run("run-trial", "--plan", planPath, "--index", "0", "--results", tmp["killed"]);
        Assert.True(code == 0, err);
        Assert.Contains("is already completed; nothing to do", output);
        Assert.Equal(before, Snapshot(folder.Path));
        (code, _, _) = Tool.Run("collect", tmp["killed"], "--plan", planPath);
        Assert.Equal(ExitCodes.Ok, code);
    }

    [Fact]
    public void Of_two_launches_of_one_trial_one_runs_and_the_other_exits_cleanly_with_75()
    {
        using var tmp = new TempFolder();
        var planPath = Plan(tmp, epochs: 4);
        var trial = TrialPlan.Load(planPath).Trials[0];
        var folder = TrialFolder.For(tmp["results"], trial);

        // A second launch while the first holds the claim.
        using (var first = new ChildTool("run-trial", "--plan", planPath, "--index", "0", "--results", tmp["results"]))
        {
            WaitFor(() => folder.ReadStatus()?.State == TrialState.Running, first, "the first launch's claim");
            var (code, _, err) = Tool.Run("run-trial", "--plan", planPath, "--index", "0", "--results", tmp["results"]);
            Assert.Equal(ExitCodes.ClaimedElsewhere, code);
            Assert.Contains($"claimed: trial 0 ({trial.Id}) is being run by another launch (pid {first.Process.Id} on host {Environment.MachineName}", err);
            Assert.Contains("this launch exits without running it", err);
            Assert.True(first.Wait() == 0, first.Out + first.Err);
        }
        Assert.True(folder.IsCompleted);
        Assert.Equal(1, folder.ReadStatus()!.Attempts);
        Assert.Equal(trial.Id, TrialCollection.Scan(tmp["results"]).Completed.Single().Id);

        // Two launches started at the same moment on a fresh folder: exactly one runs.
        using var a = new ChildTool("run-trial", "--plan", planPath, "--index", "0", "--results", tmp["race"]);
        using var b = new ChildTool("run-trial", "--plan", planPath, "--index", "0", "--results", tmp["race"]);
        int codeA = a.Wait(), codeB = b.Wait();
        var outputs = new[] { a.Out + a.Err, b.Out + b.Err };
        Assert.All(new[] { codeA, codeB }, c => Assert.Contains(c, new[] { ExitCodes.Ok, ExitCodes.ClaimedElsewhere }));
        Assert.Equal(1, outputs.Count(o => o.Contains("completed (attempt 1", StringComparison.Ordinal)));
        Assert.Equal(1, outputs.Count(o => o.Contains("claimed: trial 0", StringComparison.Ordinal) || o.Contains("is already completed", StringComparison.Ordinal)));
        var race = TrialFolder.For(tmp["race"], trial);
        Assert.Equal(1, race.ReadStatus()!.Attempts);
        Assert.Equal(RunManifest.Read(folder.ManifestPath).Outcome.Genotype, RunManifest.Read(race.ManifestPath).Outcome.Genotype);
    }

    [Fact]
    public void A_failed_trial_keeps_its_error_and_collect_lists_it_with_the_index_to_rerun()
    {
        using var tmp = new TempFolder();
        // A weight learning rate of 1e9 diverges within a few steps (docs/reliability.md): SearchDivergedException.
        var (code, _, err) = Tool.Run("plan", "--method", "darts", "--seeds", "0,1", "--channels", "4", "--cells", "1", "--train-examples", "128", "--valid-examples", "64",
            "--batch-size", "16", "--epochs", "1", "--threads", "1", "--weight-lr", "1e9", "--data", TestData.Cifar10, "--out", tmp["plan.jsonl"]);
        Assert.True(code == 0, err);
        var plan = TrialPlan.Load(tmp["plan.jsonl"]);
        (code, _, err) = Tool.Run("run-trial", "--plan", tmp["plan.jsonl"], "--index", "1", "--results", tmp["results"]);
        Assert.Equal(ExitCodes.Diverged, code);
        Assert.Contains("diverged", err);
        var folder = TrialFolder.For(tmp["results"], plan.Trials[1]);
        Assert.Equal(TrialState.Failed, folder.State());
        Assert.StartsWith("SearchDivergedException: The run diverged", folder.ReadStatus()!.LastError, StringComparison.Ordinal);
        Assert.Contains("attempt 1", File.ReadAllText(Path.Combine(folder.Path, TrialFolder.ErrorFileName)));
        Assert.False(folder.IsCompleted);

        string output;
        (code, output, _) = Tool.Run("collect", tmp["results"], "--plan", tmp["plan.jsonl"], "--rerun-indices", tmp["rerun.txt"], "--json");
        Assert.Equal(ExitCodes.Incomplete, code);
        var trials = Tool.JsonLines(output).Where(l => l.GetProperty("event").GetString() == "trial").ToArray();
        Assert.Equal(["pending", "failed"], trials.Select(t => t.GetProperty("state").GetString()));
        Assert.StartsWith("SearchDivergedException", trials[1].GetProperty("lastError").GetString(), StringComparison.Ordinal);
        Assert.Equal("0-1", File.ReadAllText(tmp["rerun.txt"]).Trim());
        Assert.Equal("0,2-4,7", TrialCollection.ArrayList([7, 0, 2, 3, 4, 3]));
    }

    [Fact]
    public void A_claim_is_exclusive_names_its_holder_and_is_free_again_when_released()
    {
        using var tmp = new TempFolder();
        using (var claim = TrialClaim.TryAcquire(tmp.Path, out var none))
        {
            Assert.NotNull(claim);
            Assert.Null(none);
            Assert.True(TrialClaim.IsHeld(tmp.Path));
            Assert.Null(TrialClaim.TryAcquire(tmp.Path, out var holder)); // a second open file description: flock refuses it, even in-process
            Assert.Equal(Environment.ProcessId, holder!.Pid);
            Assert.Equal(Environment.MachineName, holder.Host);
        }
        Assert.False(TrialClaim.IsHeld(tmp.Path));
        Assert.True(File.Exists(Path.Combine(tmp.Path, TrialClaim.LockFileName))); // kept: deleting it would let two launches lock two files
        using var again = TrialClaim.TryAcquire(tmp.Path, out _);
        Assert.NotNull(again);
    }
}
