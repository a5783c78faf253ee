using System.CommandLine;
using System.Globalization;
using NasFlatness.Trials;
using Spectre.Console;

namespace NasFlatness.Cli;

/// <summary><c>nasflatness plan</c>: methods × grid options × seeds → a plan file, and optionally a Slurm array script and a Kubernetes Indexed Job.</summary>
internal static class PlanCommand
{
    public static Command Create(string[] args, Func<ParseResult, CliOutput> output)
    {
        var a = new SearchArguments();
        var methods = new Option<string[]>("--method") { Description = "A method preset (repeatable: one axis of the grid). Without it, --optimizer/--regularizer compose every trial.", AllowMultipleArgumentsPerToken = false };
        var seeds = new Option<string?>("--seeds") { Description = "Comma-separated seeds (an axis of the grid; default: --seed)." };
        var grid = new Option<string[]>("--grid") { Description = "Another axis: <option>=<v1>,<v2>… with a search option's name without '--' (repeatable), e.g. --grid arch-lr=3e-4,3e-3 --grid channels=8,16.", AllowMultipleArgumentsPerToken = false };
        var outFile = new Option<string>("--out") { Description = "The plan file (JSON lines, one trial per line).", DefaultValueFactory = _ => "plan.jsonl" };
        var results = new Option<string>("--results") { Description = "The results folder the launch files point the trials at (one subfolder per trial).", DefaultValueFactory = _ => "results" };
        var tool = new Option<string>("--tool") { Description = "How the launch files invoke the tool, as words (quotes group), e.g. \"dotnet '/opt/nas flatness/nasflatness.dll'\".", DefaultValueFactory = _ => "nasflatness" };
        var jobName = new Option<string?>("--job-name") { Description = "Job name (default nasflatness-<plan hash>)." };
        var cpus = new Option<int>("--cpus") { Description = "CPU cores per trial.", DefaultValueFactory = _ => 1 };
        var gpus = new Option<int>("--gpus") { Description = "GPUs per trial (Slurm --gres=gpu:N; Kubernetes nvidia.com/gpu). Plan with --device cuda and a CUDA build of the tool.", DefaultValueFactory = _ => 0 };
        var slurm = new Option<string?>("--slurm") { Description = "Also write the sbatch array script (default file: <plan>.sbatch).", Arity = ArgumentArity.ZeroOrOne };
        var arrayLimit = new Option<int?>("--array-limit") { Description = "Slurm: the most trials running at once (the % of --array)." };
        var time = new Option<string?>("--time") { Description = "Slurm: wall-clock limit per trial (e.g. 02:00:00)." };
        var partition = new Option<string?>("--partition") { Description = "Slurm: partition." };
        var requeue = new Option<bool>("--requeue") { Description = "Slurm: requeue a preempted task (it resumes from its checkpoint); --requeue false to not.", DefaultValueFactory = _ => true };
        var kubernetes = new Option<string?>("--kubernetes") { Description = "Also write the Kubernetes Indexed Job manifest, JSON (default file: <plan>.k8s.json).", Arity = ArgumentArity.ZeroOrOne };
        var parallelism = new Option<int>("--parallelism") { Description = "Kubernetes: trials running at once.", DefaultValueFactory = _ => 1 };
        var backoff = new Option<int>("--backoff-limit") { Description = "Kubernetes: failed pods tolerated (preemption/eviction not counted).", DefaultValueFactory = _ => 6 };
        var image = new Option<string?>("--image") { Description = "Kubernetes: the container image with the nasflatness tool." };
        var volume = new Option<string?>("--results-volume") { Description = "Kubernetes: the PersistentVolumeClaim for the results (mounted at /results)." };
        var memory = new Option<string?>("--memory") { Description = "Kubernetes: memory request and limit per pod (e.g. 8Gi)." };
        var command = new Command("plan",
            "Expand a grid — method presets × --grid options × seeds, with the other search options shared — into a plan file: one line per trial with its fully " +
            "resolved options (the preset's batch size, learning rates and warm-up made explicit) and a stable id (<method>-s<seed>-<8 hex of the options' SHA-256>). " +
            "The same grid always gives the same ids and plan hash. Every trial is checked (names, values, data folder) before the plan is written. " +
            "With --slurm/--kubernetes it also writes the launch files; run one trial with 'run-trial', gather them with 'collect' (docs/scale-out.md).\n\n" +
            "Examples:\n" +
            "  nasflatness plan --method darts --method beta-darts --seeds 0,1,2 --epochs 10 --out plan.jsonl --slurm --array-limit 4 --cpus 4 --time 02:00:00\n" +
            "  nasflatness plan --method darts --grid arch-lr=3e-4,3e-3 --seeds 0,1 --kubernetes --image registry/nasflatness:1.0 --results-volume nas-results --parallelism 8")
        {
            methods, seeds, grid, outFile, results, tool, jobName, cpus, gpus, slurm, arrayLimit, time, partition, requeue, kubernetes, parallelism, backoff, image, volume, memory,
        };
        a.AddTo(command, composition: false, checkpoint: false, output: false);
        command.Options.Add(a.Optimizer);
        command.Options.Add(a.Regularizer);
        command.Options.Add(a.Activation);
        command.Options.Add(a.Schedule);
        command.SetAction(parse =>
        {
            var o = output(parse);
            var request = a.Read(parse) with { Output = null, Checkpoint = null };
            // Ids: <method>[-<grid option>-<value>…]-s<seed>; without presets the optimizer (and regularizers) name the trials.
            var label = parse.GetValue(methods) is { Length: > 0 } ? "{method}"
                : (request.Optimizer is null ? "search" : "{optimizer}") + (request.Regularizers.Count > 0 ? "-{regularizer}" : "");
            var g = new TrialGrid { IdTemplate = label };
            foreach (var (key, value) in TrialOptions.Given(request)) g.Options[key] = value;
            if (parse.GetValue(methods) is { Length: > 0 } names) g.Axes.Add(new TrialAxis("method", names));
            foreach (var spec in parse.GetValue(grid) ?? [])
            {
                int eq = spec.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0) throw new CliInputException($"--grid '{ErrorText.Echo(spec)}' is not <option>=<v1>,<v2>….");
                var key = spec[..eq].Trim().TrimStart('-');
                if (key is "method" or "seed") throw new CliInputException($"--grid {key}=… : use --{(key == "seed" ? "seeds" : "method")} for that axis.");
                if (key == "protocol") throw new CliInputException("--grid protocol=… is not supported: a protocol fills the sizes of the whole plan; plan each protocol separately (--protocol).");
                if (!TrialOptions.Keys.Contains(key)) throw new CliInputException($"--grid '{ErrorText.Echo(key)}' is not a search option; known: {string.Join(", ", TrialOptions.Keys.Where(k => k is not "method" and not "seed"))}.");
                var values = spec[(eq + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                if (values.Length == 0) throw new CliInputException($"--grid {key} has no values.");
                g.Axes.Add(new TrialAxis(key, values));
                g.IdTemplate += $"-{key}-{{{key}}}";
            }
            var seedText = parse.GetValue(seeds);
            var seedList = seedText is null ? [request.Seed] : CompareCommand.ParseSeeds(seedText);
            g.Axes.Add(new TrialAxis("seed", [.. seedList.Select(s => s.ToString(CultureInfo.InvariantCulture))]));
            g.IdTemplate += "-s{seed}";
            var gridErrors = g.Validate();
            if (gridErrors.Count > 0) throw new CliInputException(string.Join(" ", gridErrors));

            // Resolve every trial before anything is written: a bad value in any combination is an error naming it.
            var trials = new List<TrialSpec>();
            foreach (var combination in g.Combinations())
            {
                var what = string.Join(", ", g.Axes.Select(x => $"{x.Name} {combination[x.Name]}"));
                var r = TrialOptions.ToRequest(combination, what);
                SearchPlan resolved;
                try
                {
                    resolved = SearchJob.Resolve(r);
                }
                catch (CliInputException ex)
                {
                    throw new CliInputException($"{what}: {ex.Message}");
                }
                trials.Add(new TrialSpec(trials.Count, g.LabelOf(combination), TrialOptions.From(r, resolved)));
            }
            TrialPlan plan;
            try
            {
                plan = new TrialPlan(trials);
            }
            catch (ArgumentException ex)
            {
                throw new CliInputException(CliApp.WithoutParameterName(ex));
            }
            var planPath = Path.GetFullPath(parse.GetValue(outFile)!);
            var resultsRoot = Path.GetFullPath(parse.GetValue(results)!);
            var toolWords = Words(parse.GetValue(tool)!).Append("run-trial").ToArray();
            string? slurmPath = null, kubePath = null;
            string? slurmText = null, kubeText = null;
            if (parse.GetResult(slurm) is not null)
            {
                slurmPath = Path.GetFullPath(parse.GetValue(slurm) ?? Path.ChangeExtension(planPath, ".sbatch"));
                var options = new SlurmArrayOptions
                {
                    Command = toolWords, JobName = parse.GetValue(jobName), Cpus = parse.GetValue(cpus), Gpus = parse.GetValue(gpus), ArrayLimit = parse.GetValue(arrayLimit),
                    Time = parse.GetValue(time), Partition = parse.GetValue(partition), Requeue = parse.GetValue(requeue),
                };
                slurmText = Launch(() => SlurmArrayScript.Write(plan, planPath, resultsRoot, options));
            }
            if (parse.GetResult(kubernetes) is not null)
            {
                kubePath = Path.GetFullPath(parse.GetValue(kubernetes) ?? Path.ChangeExtension(planPath, ".k8s.json"));
                var options = new KubernetesJobOptions
                {
                    Command = toolWords, JobName = parse.GetValue(jobName), Cpus = parse.GetValue(cpus), Gpus = parse.GetValue(gpus), Image = parse.GetValue(image),
                    Parallelism = parse.GetValue(parallelism), BackoffLimit = parse.GetValue(backoff), ResultsVolumeClaim = parse.GetValue(volume), Memory = parse.GetValue(memory),
                };
                kubeText = Launch(() => KubernetesIndexedJob.Write(plan, options));
            }
            plan.Save(planPath);
            if (slurmText is not null)
            {
                OutputFolder.WriteText(slurmPath!, slurmText);
                if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(slurmPath!, File.GetUnixFileMode(slurmPath!) | UnixFileMode.UserExecute);
                Directory.CreateDirectory(Path.Combine(resultsRoot, "logs")); // sbatch does not create the log folder
            }
            if (kubeText is not null) OutputFolder.WriteText(kubePath!, kubeText);

            foreach (var t in plan.Trials) o.Event("trial", new { index = t.Index, id = t.Id, hash = t.Hash, options = t.Options });
            o.Event("plan", new { plan = planPath, trials = plan.Count, hash = plan.Hash, results = resultsRoot, slurm = slurmPath, kubernetes = kubePath });
            if (!o.Json)
            {
                var table = new Table().AddColumns("index", "id", "options");
                var varying = g.Axes.Select(x => x.Name).ToArray();
                foreach (var t in plan.Trials)
                    table.AddRow(t.Index.ToString(CultureInfo.InvariantCulture), Markup.Escape(t.Id), Markup.Escape(string.Join(" ", varying.Select(k => $"{k}={t.Options.GetValueOrDefault(k)}"))));
                o.Console.Write(table);
                o.Text($"plan: {planPath} ({plan.Count} trials, hash {plan.ShortHash})");
                if (slurmPath is not null) o.Text($"slurm: sbatch {slurmPath}");
                if (kubePath is not null) o.Text($"kubernetes: kubectl apply -f {kubePath}");
                if (slurmPath is null && kubePath is null) o.Text($"run one: nasflatness run-trial --plan {planPath} --index 0 --results {resultsRoot}");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Splits <c>--tool</c> into words at white space; single or double quotes keep a word with spaces together.</summary>
    internal static List<string> Words(string text)
    {
        var words = new List<string>();
        var current = new System.Text.StringBuilder();
        bool inWord = false;
        char quote = '\0';
        foreach (var c in text)
        {
            if (quote != '\0')
            {
                if (c == quote) quote = '\0';
                else current.Append(c);
            }
            else if (c is '\'' or '"')
            {
                quote = c;
                inWord = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord) words.Add(current.ToString());
                current.Clear();
                inWord = false;
            }
            else
            {
                current.Append(c);
                inWord = true;
            }
        }
        if (quote != '\0') throw new CliInputException($"--tool '{ErrorText.Echo(text)}' has an unclosed quote.");
        if (inWord) words.Add(current.ToString());
        if (words.Count == 0) throw new CliInputException("--tool is empty.");
        return words;
    }

    private static string Launch(Func<string> write)
    {
        try
        {
            return write();
        }
        catch (ArgumentException ex)
        {
            throw new CliInputException(SearchJob.AsFlag(CliApp.WithoutParameterName(ex))
                .Replace("Image is required", "--image is required", StringComparison.Ordinal)
                .Replace("ResultsVolumeClaim is required", "--results-volume is required", StringComparison.Ordinal));
        }
    }
}
