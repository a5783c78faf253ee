using System.Diagnostics;
using System.Text.Json.Nodes;
using NasFlatness.Cli;
using NasFlatness.Reproducibility;
using NasFlatness.Testing;
using Xunit;

namespace NasFlatness.Cli.Tests;

/// <summary>Issue 24 through the tool: every failure one <c>error:</c> line in the tool's words with the documented exit code, nothing lost.</summary>
[Collection(TorchCollection.Name)]
public sealed class TrustTests
{
    private static readonly string[] Tiny =
        ["--channels", "4", "--cells", "1", "--train-examples", "64", "--valid-examples", "64", "--batch-size", "32", "--threads", "1", "--data", TestData.Cifar10];

    /// <summary>A tiny search (C = 4, N = 1, 64 + 64 images, batch 32, one thread) through the tool, with <paramref name="extra"/> arguments.</summary>
    internal static (int Code, string Out, string Err) Search(params string[] extra) => Tool.Run(["search", .. Tiny, .. extra]);

    /// <summary>The error stream holds exactly one line, which starts with <c>error:</c> and holds no API names.</summary>
    private static string OneErrorLine(string err)
    {
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, err);
        Assert.StartsWith("error: ", lines[0], StringComparison.Ordinal);
        foreach (var api in new[] { "ResumeFromCheckpoint", "CheckpointDirectory", "MaxTrainExamples", "System.", "Exception" })
            Assert.DoesNotContain(api, lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain(lines[0], c => c is '\u001b' or '\a' or '\r');
        return lines[0];
    }

    // ---- reproduce ----

    [Fact]
    public void Reproduce_refuses_manifests_it_cannot_rerun_honestly_before_any_rerun_and_reports_an_edited_outcome()
    {
        using var tmp = new TempFolder();
        var (code, _, err) = Search("--epochs", "1", "--output", tmp["run"]);
        Assert.True(code == 0, err);
        var original = File.ReadAllText(Path.Combine(tmp["run"], RunManifest.FileName));

        (string Name, Action<JsonNode> Edit, string Expected)[] refused =
        [
            ("recursive", m => m["Command"] = new JsonArray("reproduce", Path.Combine(tmp["recursive"], RunManifest.FileName)), "records the command 'reproduce', which would re-run itself"),
            ("kind", m => { m["Kind"] = "comparison"; m["Outcome"]!["TrainLoss"] = 123; }, "is of kind 'comparison', but its command 'search' writes kind 'search'"),
            ("no-command", m => m["Command"] = null, "records no command"),
            ("no-outcome", m => m["Outcome"] = null, "records no Outcome"),
            ("no-epochs", m => m["Epochs"] = null, "its Epochs are missing"),
        ];
        foreach (var (name, edit, expected) in refused)
        {
            Directory.CreateDirectory(tmp[name]);
            var manifest = JsonNode.Parse(original)!;
            edit(manifest);
            var path = Path.Combine(tmp[name], RunManifest.FileName);
            File.WriteAllText(path, manifest.ToJsonString());
            var again = tmp[name + "-again"];
            (code, _, err) = Tool.Run("reproduce", path, "--output", again);
            Assert.True(code == ExitCodes.BadInput, $"{name}: {code} {err}");
            Assert.Contains(expected, OneErrorLine(err));
            Assert.False(Directory.Exists(again), $"{name}: a re-run was started");
        }

        // An edited outcome of the right kind is re-run and reported as different.
        var edited = JsonNode.Parse(original)!;
        edited["Outcome"]!["Genotype"] = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|";
        edited["Outcome"]!["TrainLoss"] = 123;
        var editedPath = Path.Combine(tmp["run"], "edited.json");
        File.WriteAllText(editedPath, edited.ToJsonString());
        string output;
        (code, output, _) = Tool.Run("reproduce", editedPath, "--output", tmp["edited-again"]);
        Assert.Equal(ExitCodes.Failure, code);
        Assert.Contains("not reproduced", output);
        Assert.Contains("genotype: |none~0|", output);
        Assert.Contains("final train loss: 123 →", output);
    }

    // ---- exit codes and words ----

    [Fact]
    public void Divergence_exits_3_naming_the_flag_and_leaves_no_empty_output_folder()
    {
        using var tmp = new TempFolder();
        var (code, _, err) = Search("--epochs", "2", "--weight-lr", "1e9", "--output", tmp["out"], "--checkpoint", tmp["ck"]);
        Assert.Equal(ExitCodes.Diverged, code);
        var line = OneErrorLine(err);
        Assert.Contains("the run diverged", line);
        Assert.Contains("Lower --weight-lr", line);
        Assert.DoesNotContain("arch-lr", line);
        Assert.False(Directory.Exists(tmp["out"]), "a failed search left its output folder");
        // Whatever checkpoint is left holds only finite epochs (a diverged epoch is never checkpointed).
        var manifest = Path.Combine(tmp["ck"], "checkpoint.json");
        if (File.Exists(manifest))
            foreach (var e in JsonNode.Parse(File.ReadAllText(manifest))!["History"]!.AsArray())
                Assert.True(double.IsFinite((double)e!["ValidationLoss"]!) && double.IsFinite((double)e["TrainLoss"]!));
    }

    [Fact]
    public void A_resume_with_other_settings_and_a_folder_in_use_exit_2_in_the_tools_words()
    {
        using var tmp = new TempFolder();
        var (code, _, err) = Search("--epochs", "1", "--output", tmp["a"], "--checkpoint", tmp["ck"], "--arch-lr", "0.001");
        Assert.True(code == 0, err);
        var before = File.ReadAllText(Path.Combine(tmp["ck"], "checkpoint.json"));
        (code, _, err) = Search("--epochs", "1", "--output", tmp["b"], "--checkpoint", tmp["ck"], "--arch-lr", "0.002");
        Assert.Equal(ExitCodes.BadInput, code);
        var line = OneErrorLine(err);
        Assert.Contains("--arch-lr 0.001 (this run: 0.002)", line);
        Assert.Contains("pass another --checkpoint folder", line);
        Assert.Contains("pass --fresh to start over in it", line);
        Assert.Equal(before, File.ReadAllText(Path.Combine(tmp["ck"], "checkpoint.json")));

        // --fresh starts over in the same folder: the new settings run and the checkpoint is replaced by theirs.
        (code, _, err) = Search("--epochs", "1", "--output", tmp["fresh"], "--checkpoint", tmp["ck2"], "--arch-lr", "0.001");
        Assert.True(code == 0, err);
        (code, _, err) = Search("--epochs", "1", "--output", tmp["fresh2"], "--checkpoint", tmp["ck2"], "--arch-lr", "0.002", "--fresh");
        Assert.True(code == 0, err);
        Assert.Equal(0.002, RunManifest.Read(Path.Combine(tmp["fresh2"], RunManifest.FileName)).SearchOptions!.ArchitectureLearningRate);
        (code, _, err) = Search("--epochs", "1", "--output", tmp["fresh3"], "--checkpoint", tmp["ck2"], "--arch-lr", "0.002");
        Assert.True(code == 0, err); // resumes the fresh run's completed checkpoint: same settings

        // Another process's lock (an OS lock on the lock file) makes the folder in use.
        using (new FileStream(Path.Combine(tmp["ck"], "nasflatness.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
            (code, _, err) = Search("--epochs", "1", "--output", tmp["c"], "--checkpoint", tmp["ck"], "--arch-lr", "0.001");
        Assert.Equal(ExitCodes.BadInput, code);
        line = OneErrorLine(err);
        Assert.Contains("is in use by another run", line);
        Assert.Contains("--checkpoint", line);
    }

    [Fact]
    public void Echoed_values_are_escaped_and_cut_and_a_typo_gets_a_suggestion()
    {
        var (code, _, err) = Tool.Run("search", "--method", "dartz");
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("did you mean 'darts'?", OneErrorLine(err));

        (code, _, err) = Tool.Run("search", "--method", "\u001b[31mred\u0007\nsecond line");
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("\\u001b[31mred\\u0007\\nsecond line", OneErrorLine(err));

        (code, _, err) = Tool.Run("search", "--method", new string('x', 5000));
        Assert.Equal(ExitCodes.BadInput, code);
        var line = OneErrorLine(err);
        Assert.True(line.Length < 2500, $"{line.Length} characters");

        (code, _, err) = Tool.Run("search", "--epochs", "ten");
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.DoesNotContain("System.", err);
        Assert.Contains("a whole number", err);
    }

    [Fact]
    public async Task A_fifo_as_data_file_is_refused_at_once()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var tmp = new TempFolder();
        using (var mkfifo = Process.Start("mkfifo", tmp["fifo.npz"])) mkfifo.WaitForExit();
        var run = Task.Run(() => Tool.Run("search", "--dataset", "medmnist:fifo.npz", "--data", tmp.Path, "--channels", "4", "--cells", "1", "--epochs", "1", "--output", tmp["out"]));
        var (code, _, err) = await run.WaitAsync(TimeSpan.FromSeconds(60)); // a TimeoutException here: reading the FIFO hangs
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("is not a regular file", OneErrorLine(err));
        Assert.False(Directory.Exists(tmp["out"]), "a failed search left its output folder");
    }

    [Fact]
    public void Run_trial_with_an_index_out_of_range_prints_one_line()
    {
        using var tmp = new TempFolder();
        var (code, _, err) = Tool.Run(["plan", "--method", "darts", "--seeds", "0,1", .. Tiny, "--epochs", "1", "--out", tmp["plan.jsonl"]]);
        Assert.True(code == 0, err);
        (code, _, err) = Tool.Run("run-trial", "--plan", tmp["plan.jsonl"], "--index", "2", "--results", tmp["results"]);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("Trial index 2 is out of range: the plan has 2 trials", OneErrorLine(err));
    }

    [Fact]
    public void A_checkpoint_manifest_that_is_a_folder_is_an_error_before_compute_and_deletes_nothing()
    {
        using var tmp = new TempFolder();
        Directory.CreateDirectory(Path.Combine(tmp["ck"], "checkpoint.json"));
        File.WriteAllText(Path.Combine(tmp["ck"], "supernet-epoch1.bin"), "weights");
        var (code, _, err) = Search("--epochs", "1", "--output", tmp["out"], "--checkpoint", tmp["ck"]);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("is a folder, not a file", OneErrorLine(err));
        Assert.Equal("weights", File.ReadAllText(Path.Combine(tmp["ck"], "supernet-epoch1.bin")));
        Assert.False(File.Exists(Path.Combine(tmp["out"], "epochs.jsonl")));
    }

    // ---- two Ctrl-Cs during a slow step ----

    [Fact]
    public async Task Two_ctrl_cs_during_a_slow_step_exit_130_with_one_line()
    {
        if (!OperatingSystem.IsLinux()) return; // signals are sent with kill(1)
        // A test run started as a background job inherits SIGINT as ignored (SigIgn bit 1): no Ctrl-C can reach the child.
        var ignored = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        if (ignored is not null && (Convert.ToUInt64(ignored["SigIgn:".Length..].Trim(), 16) & 0b10) != 0) return;
        using var tmp = new TempFolder();
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        // The slow step: darts-2nd, C = 16, N = 2, batch 256.
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "nasflatness.dll"), "search", "--optimizer", "darts-2nd", "--channels", "16", "--cells", "2",
                     "--batch-size", "256", "--train-examples", "2560", "--valid-examples", "256", "--epochs", "50", "--threads", "1", "--protocol", "none",
                     "--data", TestData.Cifar10, "--output", tmp["out"], "--checkpoint", tmp["ck"] })
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        try
        {
            var stderr = process.StandardError.ReadToEndAsync();
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (DateTime.UtcNow < deadline && process.StandardOutput.ReadLine() is { } line)
                if (line.StartsWith("search ", StringComparison.Ordinal)) break; // the banner: the data is read next, then the steps
            var rest = process.StandardOutput.ReadToEndAsync();
            await Task.Delay(4000);
            Interrupt(process.Id);
            await Task.Delay(1500); // two deliveries (a pending SIGINT would merge with the second)
            Interrupt(process.Id);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(timeout.Token);
            var err = await stderr;
            await rest;
            Assert.Equal(ExitCodes.Cancelled, process.ExitCode);
            Assert.DoesNotContain("Unhandled", err);
            Assert.DoesNotContain("   at ", err);
            var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("[W", StringComparison.Ordinal)).ToArray();
            Assert.Single(lines);
            Assert.Matches("interrupted again: exiting now|cancelled: ", lines[0]);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    private static void Interrupt(int pid)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-INT", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        kill.WaitForExit();
    }
}
