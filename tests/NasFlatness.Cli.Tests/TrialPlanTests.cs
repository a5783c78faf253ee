using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using NasFlatness.Trials;
using Xunit;

namespace NasFlatness.Cli.Tests;

/// <summary>A temporary folder removed at the end of a test.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "nasflatness-trials-" + Guid.NewGuid().ToString("N"));

    public TempFolder() => Directory.CreateDirectory(Path);

    public string this[string name] => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Plan files, ids, indices, plan changes and launch files: no search runs here.</summary>
public sealed class TrialPlanTests
{
    internal static string[] PlanArgs(string planPath, string results, params string[] more) =>
    [
        "plan", "--method", "darts", "--method", "beta-darts", "--seeds", "0,1", "--channels", "4", "--cells", "1", "--train-examples", "128",
        "--valid-examples", "128", "--epochs", "4", "--threads", "1", "--data", TestData.Cifar10, "--out", planPath, "--results", results, .. more,
    ];

    [Fact]
    public void Ids_are_a_label_and_the_sha256_of_the_canonical_options_whatever_their_order()
    {
        var a = new TrialSpec(0, "darts-s0", new Dictionary<string, string> { ["seed"] = "0", ["method"] = "darts", ["arch-lr"] = "0.0003" });
        var b = new TrialSpec(0, "darts-s0", new Dictionary<string, string> { ["arch-lr"] = "0.0003", ["method"] = "darts", ["seed"] = "0" });
        // Oracle: the canonical JSON written by hand (keys in ordinal order, no spaces) and hashed independently.
        var expected = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("{\"arch-lr\":\"0.0003\",\"method\":\"darts\",\"seed\":\"0\"}")));
        Assert.Equal(expected, a.Hash);
        Assert.Equal(a.Hash, b.Hash);
        Assert.Equal("darts-s0-" + expected[..8], a.Id);
        var c = new TrialSpec(0, "darts-s0", new Dictionary<string, string> { ["seed"] = "0", ["method"] = "darts", ["arch-lr"] = "0.003" });
        Assert.NotEqual(a.Id, c.Id);
        Assert.Equal("beta-darts-x_1.5", TrialSpec.Sanitize("Beta DARTS!x_1.5"));
    }

    [Fact]
    public void Grid_expansion_is_deterministic_first_axis_outermost()
    {
        static TrialPlan Expand()
        {
            var grid = new TrialGrid { Options = { ["epochs"] = "2", ["channels"] = "4" } };
            grid.Axes.Add(new TrialAxis("method", ["darts", "beta-darts"]));
            grid.Axes.Add(new TrialAxis("seed", ["0", "1", "2"]));
            return grid.Expand();
        }
        var first = Expand();
        var second = Expand();
        Assert.Equal(6, first.Count);
        Assert.Equal(first.Trials.Select(t => t.Id), second.Trials.Select(t => t.Id));
        Assert.Equal(first.Hash, second.Hash);
        Assert.Equal(["darts", "darts", "darts", "beta-darts", "beta-darts", "beta-darts"], first.Trials.Select(t => t.Options["method"]));
        Assert.Equal(["0", "1", "2", "0", "1", "2"], first.Trials.Select(t => t.Options["seed"]));
        Assert.All(first.Trials, t => Assert.Matches(new Regex("^(darts|beta-darts)-s[0-2]-[0-9a-f]{8}$"), t.Id));
        // Oracle for the plan hash: SHA-256 over "id hash\n" lines in order.
        var lines = string.Concat(first.Trials.Select(t => $"{t.Id} {t.Hash}\n"));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(lines))), first.Hash);

        var bad = new TrialGrid();
        bad.Axes.Add(new TrialAxis("seed", ["0", "0"]));
        bad.Axes.Add(new TrialAxis("seed", []));
        var errors = bad.Validate();
        Assert.Contains(errors, e => e.Contains("Axes[0] 'seed' repeats a value", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Axes[1] 'seed' repeats an axis", StringComparison.Ordinal));
    }

    [Fact]
    public void The_plan_command_writes_the_same_file_for_the_same_grid_with_resolved_preset_options()
    {
        using var tmp = new TempFolder();
        var (code, output, err) = Tool.Run([.. PlanArgs(tmp["a.jsonl"], tmp["results"]), "--json"]);
        Assert.True(code == 0, err);
        (code, _, err) = Tool.Run(PlanArgs(tmp["b.jsonl"], tmp["results"]));
        Assert.True(code == 0, err);
        Assert.Equal(File.ReadAllText(tmp["a.jsonl"]), File.ReadAllText(tmp["b.jsonl"]));
        var plan = TrialPlan.Load(tmp["a.jsonl"]);
        Assert.Equal(4, plan.Count);
        var summary = Tool.JsonLines(output).Single(l => l.GetProperty("event").GetString() == "plan");
        Assert.Equal(plan.Hash, summary.GetProperty("hash").GetString());
        // The resolved values are made explicit: batch 64, and the α learning rate the default protocol (quick-nb201) derives
        // for these sizes — DARTS' 3e-4 × 19,550 paper α steps / (2 steps × 4 epochs) — recorded with the protocol's name.
        var darts = NasFlatness.Optimizers.MethodPresets.All.Single(p => p.Name == "darts");
        var resolved = darts.Apply(new NasFlatness.Search.SearchOptions());
        Assert.Equal(resolved.ArchitectureLearningRate * 19_550 / (2 * 4), double.Parse(plan.Trials[0].Options["arch-lr"], System.Globalization.CultureInfo.InvariantCulture), 12);
        Assert.Equal(resolved.BatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture), plan.Trials[0].Options["batch-size"]);
        Assert.Equal("quick-nb201", plan.Trials[0].Options["protocol"]);
        Assert.StartsWith("darts-s0-", plan.Trials[0].Id, StringComparison.Ordinal);
        Assert.StartsWith("beta-darts-s1-", plan.Trials[3].Id, StringComparison.Ordinal);
    }

    [Fact]
    public void A_plan_carries_the_sharpness_aware_weight_step_and_the_hessian_interval_into_every_trial()
    {
        using var tmp = new TempFolder();
        var (code, _, err) = Tool.Run(PlanArgs(tmp["p.jsonl"], tmp["results"], "--weight-sharpness", "asam", "--weight-rho", "2", "--alpha-hessian-every", "4"));
        Assert.True(code == 0, err);
        var plan = TrialPlan.Load(tmp["p.jsonl"]);
        foreach (var trial in plan.Trials)
        {
            Assert.Equal("asam", trial.Options["weight-sharpness"]);
            Assert.Equal("2", trial.Options["weight-rho"]);
            Assert.Equal("4", trial.Options["alpha-hessian-every"]);
            var request = TrialOptions.ToRequest(trial);
            Assert.Equal("asam", request.WeightSharpness);
            Assert.Equal(2.0, request.WeightRho);
            Assert.Equal(4, request.AlphaHessianEvery);
            // The search command line a trial's manifest records replays them too.
            var line = TrialOptions.SearchCommandLine(trial);
            Assert.Equal("asam", line[Array.IndexOf(line, "--weight-sharpness") + 1]);
            Assert.Equal("2", line[Array.IndexOf(line, "--weight-rho") + 1]);
            Assert.Equal("4", line[Array.IndexOf(line, "--alpha-hessian-every") + 1]);
        }
    }

    [Fact]
    public void A_plan_on_the_zo_darts_plus_plus_space_carries_its_switch_epoch_into_every_trial()
    {
        using var tmp = new TempFolder();
        var (code, _, err) = Tool.Run("plan", "--space", "nas-bench-201-varied", "--method", "zo-darts++", "--method", "zo-darts++-small", "--seeds", "0",
            "--channels", "4", "--cells", "2", "--train-examples", "80", "--valid-examples", "16", "--epochs", "3", "--switch-epoch", "1", "--threads", "1",
            "--data", TestData.Cifar10, "--out", tmp["p.jsonl"], "--results", tmp["results"]);
        Assert.True(code == 0, err);
        var plan = TrialPlan.Load(tmp["p.jsonl"]);
        Assert.Equal(2, plan.Trials.Count);
        foreach (var trial in plan.Trials)
        {
            Assert.Equal("1", trial.Options["switch-epoch"]);
            Assert.Equal(1, TrialOptions.ToRequest(trial).SwitchEpoch);
            var line = TrialOptions.SearchCommandLine(trial);
            Assert.Equal("1", line[Array.IndexOf(line, "--switch-epoch") + 1]);
            Assert.Equal("nas-bench-201-varied", line[Array.IndexOf(line, "--space") + 1]);
        }
    }

    [Fact]
    public void An_index_out_of_range_or_missing_is_a_clear_error()
    {
        using var tmp = new TempFolder();
        Assert.Equal(0, Tool.Run(PlanArgs(tmp["plan.jsonl"], tmp["results"])).Code);
        var (code, _, err) = Tool.Run("run-trial", "--plan", tmp["plan.jsonl"], "--index", "4", "--results", tmp["results"]);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("Trial index 4 is out of range: the plan has 4 trials (indices 0–3)", err);
        Assert.False(Directory.Exists(tmp["results"]) && Directory.EnumerateDirectories(tmp["results"]).Any(d => !d.EndsWith("logs", StringComparison.Ordinal)));

        Assert.Equal(3, TrialIndex.FromEnvironment(n => n == "SLURM_ARRAY_TASK_ID" ? "3" : n == "JOB_COMPLETION_INDEX" ? "1" : null));
        Assert.Equal(1, TrialIndex.FromEnvironment(n => n == "JOB_COMPLETION_INDEX" ? "1" : null));
        Assert.Null(TrialIndex.FromEnvironment(_ => null));
        var ex = Assert.Throws<FormatException>(() => TrialIndex.FromEnvironment(n => n == "SLURM_ARRAY_TASK_ID" ? "x1" : null));
        Assert.Contains("SLURM_ARRAY_TASK_ID = 'x1'", ex.Message);
    }

    [Fact]
    public void A_plan_changed_since_launch_or_edited_by_hand_is_a_clear_error_naming_the_trial()
    {
        using var tmp = new TempFolder();
        Assert.Equal(0, Tool.Run(PlanArgs(tmp["plan.jsonl"], tmp["results"])).Code);
        var launched = TrialPlan.Load(tmp["plan.jsonl"]);
        // Re-planned with other seeds after the array was submitted: index 1 now names another trial.
        var args = PlanArgs(tmp["plan.jsonl"], tmp["results"]);
        args[Array.IndexOf(args, "0,1")] = "1,2";
        Assert.Equal(0, Tool.Run(args).Code);
        var (code, _, err) = Tool.Run("run-trial", "--plan", tmp["plan.jsonl"], "--index", "1", "--results", tmp["results"], "--expect-plan-hash", launched.Hash);
        Assert.Equal(ExitCodes.BadInput, code);
        var now = TrialPlan.Load(tmp["plan.jsonl"]);
        Assert.Contains($"The plan file changed since launch: trial 1 ({now.Trials[1].Id}) was launched for plan {launched.ShortHash}, but the plan file is now plan {now.ShortHash}", err);
        Assert.False(Directory.Exists(Path.Combine(tmp["results"], now.Trials[1].Id)));

        // A line edited by hand (epochs 4 → 40) no longer hashes to its id.
        var lines = File.ReadAllLines(tmp["plan.jsonl"]);
        lines[2] = lines[2].Replace("\"epochs\":\"4\"", "\"epochs\":\"40\"", StringComparison.Ordinal);
        File.WriteAllLines(tmp["plan.jsonl"], lines);
        (code, _, err) = Tool.Run("run-trial", "--plan", tmp["plan.jsonl"], "--index", "0", "--results", tmp["results"]);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains($"line 3: trial 2 ({now.Trials[2].Id}) was edited after it was planned", err);
    }

    [Fact]
    public void The_slurm_script_is_an_array_of_the_plan_with_limit_resources_requeue_and_the_plan_hash()
    {
        using var tmp = new TempFolder();
        var (code, _, err) = Tool.Run([.. PlanArgs(tmp["plan.jsonl"], tmp["results"]), "--slurm", "--array-limit", "2", "--cpus", "4", "--gpus", "1", "--time", "02:00:00",
            "--partition", "gpu", "--tool", "dotnet '/opt/nas flatness/nasflatness.dll'"]);
        Assert.True(code == 0, err);
        var plan = TrialPlan.Load(tmp["plan.jsonl"]);
        var script = File.ReadAllLines(tmp["plan.sbatch"]);
        Assert.Equal("#!/bin/bash", script[0]);
        Assert.Contains("#SBATCH --array=0-3%2", script);
        Assert.Contains("#SBATCH --cpus-per-task=4", script);
        Assert.Contains("#SBATCH --gres=gpu:1", script);
        Assert.Contains("#SBATCH --time=02:00:00", script);
        Assert.Contains("#SBATCH --partition=gpu", script);
        Assert.Contains("#SBATCH --requeue", script);
        Assert.Contains($"#SBATCH --output={tmp["results"]}/logs/trial-%a.out", script);
        Assert.True(Directory.Exists(Path.Combine(tmp["results"], "logs")));
        Assert.Contains($"dotnet '/opt/nas flatness/nasflatness.dll' run-trial --plan {tmp["plan.jsonl"]} --results {tmp["results"]} --expect-plan-hash {plan.Hash}", script);

        (code, _, err) = Tool.Run([.. PlanArgs(tmp["plan.jsonl"], tmp["results"]), "--slurm", tmp["other.sh"], "--requeue", "false", "--array-limit", "0"]);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("ArrayLimit = 0 is invalid", err);
    }

    [Fact]
    public void The_kubernetes_manifest_is_an_indexed_job_of_the_plan_with_index_wiring_volume_and_gpus()
    {
        using var tmp = new TempFolder();
        var (code, _, err) = Tool.Run([.. PlanArgs(tmp["plan.jsonl"], tmp["results"]), "--kubernetes", tmp["job.json"], "--image", "registry.example/nasflatness:1.0",
            "--results-volume", "nas-results", "--parallelism", "3", "--backoff-limit", "5", "--gpus", "1", "--cpus", "2", "--memory", "6Gi"]);
        Assert.True(code == 0, err);
        var plan = TrialPlan.Load(tmp["plan.jsonl"]);
        using var doc = JsonDocument.Parse(File.ReadAllText(tmp["job.json"]));
        var root = doc.RootElement;
        Assert.Equal("v1", root.GetProperty("apiVersion").GetString());
        Assert.Equal("List", root.GetProperty("kind").GetString());
        var items = root.GetProperty("items").EnumerateArray().ToArray();
        var configMap = items.Single(i => i.GetProperty("kind").GetString() == "ConfigMap");
        var job = items.Single(i => i.GetProperty("kind").GetString() == "Job");
        Assert.Equal(File.ReadAllText(tmp["plan.jsonl"]), configMap.GetProperty("data").GetProperty("plan.jsonl").GetString());

        Assert.Equal("batch/v1", job.GetProperty("apiVersion").GetString());
        Assert.Matches("^[a-z][a-z0-9-]*$", job.GetProperty("metadata").GetProperty("name").GetString());
        var spec = job.GetProperty("spec");
        Assert.Equal("Indexed", spec.GetProperty("completionMode").GetString());
        Assert.Equal(plan.Count, spec.GetProperty("completions").GetInt32());
        Assert.Equal(3, spec.GetProperty("parallelism").GetInt32());
        Assert.Equal(5, spec.GetProperty("backoffLimit").GetInt32());
        var rule = spec.GetProperty("podFailurePolicy").GetProperty("rules")[0];
        Assert.Equal("Ignore", rule.GetProperty("action").GetString());
        Assert.Equal("DisruptionTarget", rule.GetProperty("onPodConditions")[0].GetProperty("type").GetString());
        var pod = spec.GetProperty("template").GetProperty("spec");
        Assert.Equal("Never", pod.GetProperty("restartPolicy").GetString());
        var container = pod.GetProperty("containers").EnumerateArray().Single();
        Assert.Equal("registry.example/nasflatness:1.0", container.GetProperty("image").GetString());
        var command = container.GetProperty("command").EnumerateArray().Select(e => e.GetString()!).ToArray();
        Assert.Equal(["nasflatness", "run-trial", "--plan", "/plan/plan.jsonl", "--results", "/results", "--expect-plan-hash", plan.Hash], command);
        var env = container.GetProperty("env").EnumerateArray().ToDictionary(e => e.GetProperty("name").GetString()!);
        Assert.Equal("metadata.annotations['batch.kubernetes.io/job-completion-index']",
            env["JOB_COMPLETION_INDEX"].GetProperty("valueFrom").GetProperty("fieldRef").GetProperty("fieldPath").GetString());
        Assert.Equal(plan.Hash, env["NASFLATNESS_PLAN_HASH"].GetProperty("value").GetString());
        var resources = container.GetProperty("resources");
        Assert.Equal("1", resources.GetProperty("limits").GetProperty("nvidia.com/gpu").GetString());
        Assert.Equal("2", resources.GetProperty("requests").GetProperty("cpu").GetString());
        Assert.Equal("6Gi", resources.GetProperty("limits").GetProperty("memory").GetString());
        // Every mount names a volume of the pod; the plan volume is the ConfigMap above, the results volume the claim.
        var volumes = pod.GetProperty("volumes").EnumerateArray().ToDictionary(v => v.GetProperty("name").GetString()!);
        var mounts = container.GetProperty("volumeMounts").EnumerateArray().ToDictionary(m => m.GetProperty("mountPath").GetString()!, m => m.GetProperty("name").GetString()!);
        Assert.Equal("nas-results", volumes[mounts["/results"]].GetProperty("persistentVolumeClaim").GetProperty("claimName").GetString());
        Assert.Equal(configMap.GetProperty("metadata").GetProperty("name").GetString(), volumes[mounts["/plan"]].GetProperty("configMap").GetProperty("name").GetString());

        (code, _, err) = Tool.Run([.. PlanArgs(tmp["plan.jsonl"], tmp["results"]), "--kubernetes"]);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("--image is required", err);
        Assert.Contains("--results-volume is required", err);
    }
}
