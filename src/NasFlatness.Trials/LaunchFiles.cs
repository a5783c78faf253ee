using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace NasFlatness.Trials;

/// <summary>What a generated launch file runs and where the trials keep their results.</summary>
public abstract class TrialLaunchOptions
{
    /// <summary>The command that runs one trial, before its <c>--plan</c>, <c>--results</c> and <c>--expect-plan-hash</c> arguments.</summary>
    /// <value>Default <c>nasflatness run-trial</c>.</value>
    public IReadOnlyList<string> Command { get; set; } = ["nasflatness", "run-trial"];

    /// <summary>The job's name; null derives <c>nasflatness-&lt;first 8 digits of the plan hash&gt;</c>.</summary>
    /// <value>Default null.</value>
    public string? JobName { get; set; }

    /// <summary>GPUs per trial (0: none requested).</summary>
    /// <value>Default 0.</value>
    public int Gpus { get; set; }

    /// <summary>CPU cores per trial.</summary>
    /// <value>Default 1.</value>
    public int Cpus { get; set; } = 1;

    /// <summary>Problems with the options, one message each, naming the field.</summary>
    public virtual IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Command is null || Command.Count == 0 || Command.Any(string.IsNullOrWhiteSpace)) errors.Add($"{nameof(Command)} is empty or has an empty word.");
        if (Gpus < 0) errors.Add($"{nameof(Gpus)} = {Gpus} is invalid: must be 0 or more.");
        if (Cpus < 1) errors.Add($"{nameof(Cpus)} = {Cpus} is invalid: must be at least 1.");
        if (JobName is not null && !IsDnsLabel(JobName)) errors.Add($"{nameof(JobName)} = '{ErrorText.Echo(JobName)}' is invalid: use lowercase letters, digits and '-', at most 52 characters, starting with a letter.");
        return errors;
    }

    internal string NameFor(TrialPlan plan) => JobName ?? $"nasflatness-{plan.Hash[..8]}";

    internal static bool IsDnsLabel(string s) =>
        s.Length is > 0 and <= 52 && s[0] is >= 'a' and <= 'z' && s[^1] != '-' && s.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-');

    internal void ThrowIfInvalid()
    {
        var errors = Validate();
        if (errors.Count > 0) throw new ArgumentException("Invalid launch options: " + string.Join(" ", errors));
    }
}

/// <summary>Options of the Slurm array script (<see cref="SlurmArrayScript"/>).</summary>
public sealed class SlurmArrayOptions : TrialLaunchOptions
{
    /// <summary>The most array tasks running at once (the <c>%</c> limit of <c>--array</c>); null: no limit.</summary>
    /// <value>Default null.</value>
    public int? ArrayLimit { get; set; }

    /// <summary>Wall-clock limit per trial as Slurm reads it (<c>HH:MM:SS</c>, <c>D-HH:MM</c> …); null: the partition's default.</summary>
    /// <value>Default null.</value>
    public string? Time { get; set; }

    /// <summary>The partition; null: the cluster's default.</summary>
    /// <value>Default null.</value>
    public string? Partition { get; set; }

    /// <summary>Whether Slurm requeues a preempted or failed-node task (<c>--requeue</c>; false writes <c>--no-requeue</c>).</summary>
    /// <value>Default true.</value>
    public bool Requeue { get; set; } = true;

    /// <summary>The folder of the per-trial logs (<c>trial-&lt;index&gt;.out</c>, appended across attempts); null: <c>&lt;results&gt;/logs</c>.</summary>
    /// <value>Default null.</value>
    public string? LogFolder { get; set; }

    /// <inheritdoc/>
    public override IReadOnlyList<string> Validate()
    {
        var errors = base.Validate().ToList();
        if (ArrayLimit is < 1) errors.Add($"{nameof(ArrayLimit)} = {ArrayLimit} is invalid: must be at least 1.");
        if (Time is not null && (Time.Length == 0 || !Time.All(c => char.IsAsciiDigit(c) || c is ':' or '-'))) errors.Add($"{nameof(Time)} = '{ErrorText.Echo(Time)}' is invalid: use Slurm's form, e.g. 02:00:00 or 1-00:00.");
        if (Partition is not null && (Partition.Length == 0 || Partition.Any(c => char.IsWhiteSpace(c) || c is '\'' or '"' or '$' or '`' or '\\')))
            errors.Add($"{nameof(Partition)} = '{ErrorText.Echo(Partition)}' is invalid: a partition name has no spaces or quotes.");
        return errors;
    }
}

/// <summary>Writes the <c>sbatch</c> script that runs every trial of a plan as one task of a job array.</summary>
public static class SlurmArrayScript
{
    /// <summary>
    /// The script: <c>--array=0-(N−1)[%limit]</c>, CPUs, GPUs (<c>--gres=gpu:n</c>), time, partition, requeue, one appended log
    /// per trial; each task runs <see cref="TrialLaunchOptions.Command"/> with the plan, the results folder and the plan hash
    /// (the index comes from <c>SLURM_ARRAY_TASK_ID</c>). Paths are made absolute.
    /// </summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public static string Write(TrialPlan plan, string planPath, string resultsRoot, SlurmArrayOptions options)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentException.ThrowIfNullOrWhiteSpace(planPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(resultsRoot);
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        var results = Path.GetFullPath(resultsRoot);
        var logs = Path.GetFullPath(options.LogFolder ?? Path.Combine(results, "logs"));
        var command = string.Join(" ", options.Command.Concat(["--plan", Path.GetFullPath(planPath), "--results", results, "--expect-plan-hash", plan.Hash]).Select(Quote));
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.Append("#!/bin/bash\n");
        sb.Append(inv, $"# Generated by NasFlatness: {plan.Count} trials of plan {plan.ShortHash} ({Path.GetFullPath(planPath)}).\n");
        sb.Append("# Submit with: sbatch <this file>. Every task is one idempotent trial: a requeued task resumes from its checkpoint,\n");
        sb.Append("# a completed one is skipped, a second launch of a running one exits with code 75. Logs: one file per trial, appended.\n");
        sb.Append(inv, $"#SBATCH --job-name={options.NameFor(plan)}\n");
        sb.Append(inv, $"#SBATCH --array=0-{plan.Count - 1}{(options.ArrayLimit is int l ? $"%{l}" : "")}\n");
        sb.Append("#SBATCH --ntasks=1\n");
        sb.Append(inv, $"#SBATCH --cpus-per-task={options.Cpus}\n");
        if (options.Gpus > 0) sb.Append(inv, $"#SBATCH --gres=gpu:{options.Gpus}\n");
        if (options.Time is not null) sb.Append(inv, $"#SBATCH --time={options.Time}\n");
        if (options.Partition is not null) sb.Append(inv, $"#SBATCH --partition={options.Partition}\n");
        sb.Append(options.Requeue ? "#SBATCH --requeue\n" : "#SBATCH --no-requeue\n");
        sb.Append("#SBATCH --open-mode=append\n");
        sb.Append(inv, $"#SBATCH --output={logs}/trial-%a.out\n");
        sb.Append("set -u\n");
        sb.Append("stamp() { date -u +%Y-%m-%dT%H:%M:%SZ; }\n");
        sb.Append("echo \"[$(stamp)] trial ${SLURM_ARRAY_TASK_ID} start: job ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID} (id ${SLURM_JOB_ID}, restart ${SLURM_RESTART_COUNT:-0}) on $(hostname)\"\n");
        sb.Append(inv, $"{command}\n");
        sb.Append("rc=$?\n");
        sb.Append("echo \"[$(stamp)] trial ${SLURM_ARRAY_TASK_ID} end: exit ${rc}\"\n");
        sb.Append("exit ${rc}\n");
        return sb.ToString();
    }

    /// <summary>A word for bash: left bare when safe, else in single quotes.</summary>
    internal static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '_' or '-' or '=' or ':' or '+' or ',')
            ? word
            : "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}

/// <summary>Options of the Kubernetes Indexed Job (<see cref="KubernetesIndexedJob"/>).</summary>
public sealed class KubernetesJobOptions : TrialLaunchOptions
{
    /// <summary>The container image holding the <c>nasflatness</c> tool (required).</summary>
    /// <value>Default null.</value>
    public string? Image { get; set; }

    /// <summary>How many trials run at once (<c>parallelism</c>).</summary>
    /// <value>Default 1.</value>
    public int Parallelism { get; set; } = 1;

    /// <summary>Failed pods tolerated before the job fails (<c>backoffLimit</c>; preemption and eviction do not count).</summary>
    /// <value>Default 6.</value>
    public int BackoffLimit { get; set; } = 6;

    /// <summary>The PersistentVolumeClaim that holds the results, mounted read-write in every pod (required; <c>ReadWriteMany</c> when pods share nodes unevenly).</summary>
    /// <value>Default null.</value>
    public string? ResultsVolumeClaim { get; set; }

    /// <summary>Where the results volume is mounted.</summary>
    /// <value>Default <c>/results</c>.</value>
    public string ResultsMountPath { get; set; } = "/results";

    /// <summary>Memory request and limit per pod (Kubernetes quantity, e.g. <c>8Gi</c>); null: none.</summary>
    /// <value>Default null.</value>
    public string? Memory { get; set; }

    /// <inheritdoc/>
    public override IReadOnlyList<string> Validate()
    {
        var errors = base.Validate().ToList();
        if (string.IsNullOrWhiteSpace(Image)) errors.Add($"{nameof(Image)} is required: the container image with the nasflatness tool.");
        if (Parallelism < 1) errors.Add($"{nameof(Parallelism)} = {Parallelism} is invalid: must be at least 1.");
        if (BackoffLimit < 0) errors.Add($"{nameof(BackoffLimit)} = {BackoffLimit} is invalid: must be 0 or more.");
        if (string.IsNullOrWhiteSpace(ResultsVolumeClaim)) errors.Add($"{nameof(ResultsVolumeClaim)} is required: the PersistentVolumeClaim for the results.");
        if (string.IsNullOrWhiteSpace(ResultsMountPath) || !ResultsMountPath.StartsWith('/') || ResultsMountPath == KubernetesIndexedJob.PlanMountPath)
            errors.Add($"{nameof(ResultsMountPath)} = '{ErrorText.Echo(ResultsMountPath)}' is invalid: an absolute path other than {KubernetesIndexedJob.PlanMountPath}.");
        return errors;
    }
}

/// <summary>
/// Writes a Kubernetes manifest (JSON, which <c>kubectl apply -f</c> reads, and which is also YAML): a <c>v1 List</c> of a
/// ConfigMap holding the plan file and a <c>batch/v1</c> Job with <c>completionMode: Indexed</c>, one completion per trial.
/// </summary>
public static class KubernetesIndexedJob
{
    /// <summary>Where the plan ConfigMap is mounted in the pods.</summary>
    public const string PlanMountPath = "/plan";

    /// <summary>The plan's file name inside the ConfigMap.</summary>
    public const string PlanFileName = "plan.jsonl";

    /// <summary>
    /// The manifest: completions = trials, parallelism, backoff limit (pod disruptions such as preemption ignored by a pod
    /// failure policy), <c>JOB_COMPLETION_INDEX</c> wired from the completion-index annotation, the plan hash in
    /// <c>NASFLATNESS_PLAN_HASH</c> and on the command line, the results volume, and CPU/GPU (<c>nvidia.com/gpu</c>) resources.
    /// </summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public static string Write(TrialPlan plan, KubernetesJobOptions options)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        var name = options.NameFor(plan);
        var labels = new JsonObject { ["app.kubernetes.io/name"] = "nasflatness", ["nasflatness/plan"] = plan.Hash[..12] };
        var command = new JsonArray([.. options.Command.Concat(["--plan", $"{PlanMountPath}/{PlanFileName}", "--results", options.ResultsMountPath, "--expect-plan-hash", plan.Hash])
            .Select(w => (JsonNode)JsonValue.Create(w))]);
        var requests = new JsonObject { ["cpu"] = options.Cpus.ToString(CultureInfo.InvariantCulture) };
        var limits = new JsonObject();
        if (options.Memory is not null)
        {
            requests["memory"] = options.Memory;
            limits["memory"] = options.Memory;
        }
        if (options.Gpus > 0)
        {
            requests["nvidia.com/gpu"] = options.Gpus.ToString(CultureInfo.InvariantCulture);
            limits["nvidia.com/gpu"] = options.Gpus.ToString(CultureInfo.InvariantCulture);
        }
        var container = new JsonObject
        {
            ["name"] = "trial",
            ["image"] = options.Image,
            ["command"] = command,
            ["env"] = new JsonArray(
                new JsonObject
                {
                    ["name"] = "JOB_COMPLETION_INDEX",
                    ["valueFrom"] = new JsonObject { ["fieldRef"] = new JsonObject { ["fieldPath"] = "metadata.annotations['batch.kubernetes.io/job-completion-index']" } },
                },
                new JsonObject { ["name"] = "NASFLATNESS_PLAN_HASH", ["value"] = plan.Hash }),
            ["resources"] = limits.Count > 0 ? new JsonObject { ["requests"] = requests, ["limits"] = limits } : new JsonObject { ["requests"] = requests },
            ["volumeMounts"] = new JsonArray(
                new JsonObject { ["name"] = "results", ["mountPath"] = options.ResultsMountPath },
                new JsonObject { ["name"] = "plan", ["mountPath"] = PlanMountPath, ["readOnly"] = true }),
        };
        var job = new JsonObject
        {
            ["apiVersion"] = "batch/v1",
            ["kind"] = "Job",
            ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = labels.DeepClone() },
            ["spec"] = new JsonObject
            {
                ["completionMode"] = "Indexed",
                ["completions"] = plan.Count,
                ["parallelism"] = Math.Min(options.Parallelism, plan.Count),
                ["backoffLimit"] = options.BackoffLimit,
                ["podFailurePolicy"] = new JsonObject
                {
                    ["rules"] = new JsonArray(new JsonObject
                    {
                        ["action"] = "Ignore",
                        ["onPodConditions"] = new JsonArray(new JsonObject { ["type"] = "DisruptionTarget" }),
                    }),
                },
                ["template"] = new JsonObject
                {
                    ["metadata"] = new JsonObject { ["labels"] = labels.DeepClone() },
                    ["spec"] = new JsonObject
                    {
                        ["restartPolicy"] = "Never",
                        ["containers"] = new JsonArray(container),
                        ["volumes"] = new JsonArray(
                            new JsonObject { ["name"] = "results", ["persistentVolumeClaim"] = new JsonObject { ["claimName"] = options.ResultsVolumeClaim } },
                            new JsonObject { ["name"] = "plan", ["configMap"] = new JsonObject { ["name"] = name + "-plan" } }),
                    },
                },
            },
        };
        var configMap = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "ConfigMap",
            ["metadata"] = new JsonObject { ["name"] = name + "-plan", ["labels"] = labels.DeepClone() },
            ["data"] = new JsonObject { [PlanFileName] = plan.ToJsonLines() },
        };
        var list = new JsonObject { ["apiVersion"] = "v1", ["kind"] = "List", ["items"] = new JsonArray(configMap, job) };
        return list.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
    }
}
