using System.CommandLine;
using System.Globalization;
using System.Text;
using NasFlatness.Reproducibility;
using Spectre.Console;

namespace NasFlatness.Cli;

/// <summary><c>nasflatness compare</c>: several presets × seeds under one budget → a results table and plots.</summary>
internal static class CompareCommand
{
    public static Command Create(string[] args, Func<ParseResult, CliOutput> output)
    {
        var a = new SearchArguments();
        var methods = new Option<string[]>("--method") { Description = "A method preset to compare (repeatable; default darts and beta-darts).", AllowMultipleArgumentsPerToken = false };
        var seeds = new Option<string>("--seeds") { Description = "Comma-separated seeds.", DefaultValueFactory = _ => "0" };
        var command = new Command("compare",
            "Run several method presets × seeds with the same budget; writes each run's folder (manifest.json, alpha.png), results.csv, results.md, " +
            "accuracy.png (NAS-Bench-201 accuracy per seed) and sharpening.png (mean max mixing weight over the epochs), and a comparison manifest.json.\n\n" +
            "Examples:\n  nasflatness compare --method darts --method beta-darts --method darts+a2m --seeds 0,1,2 --epochs 10 --arch-lr 3e-2\n" +
            "  nasflatness compare --method pc-darts --method pc-darts+a2m --seeds 0 --epochs 2 --json")
        {
            methods, seeds,
        };
        a.AddTo(command, composition: false, checkpoint: false);
        command.SetAction((parse, cancellationToken) =>
        {
            var o = output(parse);
            var names = parse.GetValue(methods) is { Length: > 0 } given ? given : ["darts", "beta-darts"];
            var seedList = new List<int>();
            foreach (var s in parse.GetValue(seeds)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int seed)) throw new CliInputException($"--seeds '{s}' is not an integer.");
                seedList.Add(seed);
            }
            if (seedList.Count == 0) throw new CliInputException("--seeds is empty.");
            var request = a.Read(parse);
            // Every run is resolved (names, options, data paths) before the first one reads data.
            var plans = names.SelectMany(m => seedList.Select(seed => (Method: m, Seed: seed, Plan: SearchJob.Resolve(request with { Method = m, Seed = seed, Optimizer = null, Output = null }))))
                .ToList();
            var folder = request.Output ?? SearchArguments.DefaultOutput("compare");
            Directory.CreateDirectory(folder);
            var outcomes = new List<(string Method, int Seed, SearchOutcome Outcome, string Folder)>();
            int k = 0;
            foreach (var (method, seed, plan) in plans)
            {
                var runFolder = Path.Combine(folder, $"{plan.Preset!.Name}-seed{seed}");
                var outcome = SearchJob.Run(plan, [.. args], runFolder, o, cancellationToken, label: $"run {++k}/{plans.Count}");
                outcomes.Add((plan.Preset.Name, seed, outcome, runFolder));
            }

            var csv = new StringBuilder("method,seed,genotype,nb201_cifar10,nb201_rank,final_train_loss,final_valid_loss,mean_max_weight,seconds\n");
            var md = new StringBuilder("| method | seed | NB201 CIFAR-10 | rank | final valid loss | mean max p | genotype |\n|---|---|---|---|---|---|---|\n");
            var table = new Table().AddColumns("method", "seed", "NB201 C10", "rank", "valid loss", "mean max p", "genotype");
            foreach (var (method, seed, outcome, _) in outcomes)
            {
                var last = outcome.Manifest.Epochs.LastOrDefault();
                string acc = outcome.TableAccuracy is double t ? t.ToString("F2", CultureInfo.InvariantCulture) : "";
                string rank = outcome.Rank?.ToString(CultureInfo.InvariantCulture) ?? "";
                string valid = outcome.Manifest.Outcome.ValidationLoss.ToString("F4", CultureInfo.InvariantCulture);
                string sharp = (last?.MeanMaxWeight ?? double.NaN).ToString("F3", CultureInfo.InvariantCulture);
                csv.Append(CultureInfo.InvariantCulture, $"{method},{seed},\"{outcome.Result.Genotype}\",{acc},{rank},{outcome.Manifest.Outcome.TrainLoss.ToString("R", CultureInfo.InvariantCulture)},{outcome.Manifest.Outcome.ValidationLoss.ToString("R", CultureInfo.InvariantCulture)},{sharp},{outcome.Result.Duration.TotalSeconds:F1}\n");
                md.Append(CultureInfo.InvariantCulture, $"| {method} | {seed} | {acc} | {rank} | {valid} | {sharp} | `{outcome.Result.Genotype}` |\n");
                table.AddRow(Markup.Escape(method), seed.ToString(CultureInfo.InvariantCulture), acc, rank, valid, sharp, Markup.Escape(outcome.Result.Genotype.ToString()));
                o.Event("run", new { method, seed, genotype = outcome.Result.Genotype.ToString(), nb201Cifar10 = outcome.TableAccuracy, nb201Rank = outcome.Rank, folder = outcome.Folder });
            }
            md.Append("\n| method | runs | NB201 CIFAR-10 mean ± std |\n|---|---|---|\n");
            foreach (var group in outcomes.GroupBy(x => x.Method))
            {
                var accs = group.Select(x => x.Outcome.TableAccuracy).OfType<double>().ToArray();
                double mean = accs.Length == 0 ? double.NaN : accs.Average();
                double std = accs.Length < 2 ? 0 : Math.Sqrt(accs.Sum(v => (v - mean) * (v - mean)) / (accs.Length - 1));
                md.Append(CultureInfo.InvariantCulture, $"| {group.Key} | {group.Count()} | {mean:F2} ± {std:F2} |\n");
                o.Event("summary", new { method = group.Key, runs = group.Count(), nb201Cifar10Mean = accs.Length == 0 ? (double?)null : mean, nb201Cifar10Std = std });
            }
            File.WriteAllText(Path.Combine(folder, "results.csv"), csv.ToString());
            File.WriteAllText(Path.Combine(folder, "results.md"), md.ToString());
            if (outcomes.Any(x => x.Outcome.TableAccuracy is not null))
            {
                AlphaPlot.Lines(Path.Combine(folder, "accuracy.png"), "NAS-Bench-201 CIFAR-10 test accuracy of the found cell", "seed", "accuracy (%)",
                    outcomes.GroupBy(x => x.Method).Select(g => (g.Key, g.Select(x => (double)x.Seed).ToArray(), g.Select(x => x.Outcome.TableAccuracy ?? double.NaN).ToArray())));
            }
            AlphaPlot.Lines(Path.Combine(folder, "sharpening.png"), "mean max mixing weight over the epochs", "epoch", "mean max mixing weight",
                outcomes.Select(x => ($"{x.Method} s{x.Seed}", x.Outcome.Manifest.Epochs.Select(e => (double)e.Epoch + 1).ToArray(), x.Outcome.Manifest.Epochs.Select(e => e.MeanMaxWeight).ToArray())));
            var manifest = new RunManifest
            {
                Kind = "comparison",
                Command = [.. args],
                Environment = outcomes[0].Outcome.Manifest.Environment,
                Seed = seedList[0],
                Composition = new Dictionary<string, string> { ["Methods"] = string.Join(",", names), ["Seeds"] = string.Join(",", seedList) },
                SearchOptions = null,
                Settings = outcomes[0].Outcome.Manifest.Settings,
                Dataset = outcomes[0].Outcome.Manifest.Dataset,
                TableVersion = outcomes[0].Outcome.Manifest.TableVersion,
                Runs = [.. outcomes.Select(x => Path.GetRelativePath(folder, Path.Combine(x.Folder, RunManifest.FileName)))],
            };
            var path = Path.Combine(folder, RunManifest.FileName);
            manifest.Write(path);
            if (!o.Json)
            {
                o.Console.Write(table);
                o.Text($"results: {Path.Combine(folder, "results.md")}, manifest: {path}");
            }
            o.Event("result", new { folder, manifest = path, runs = outcomes.Count });
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }
}
