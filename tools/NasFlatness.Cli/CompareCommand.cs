using System.CommandLine;
using System.Globalization;

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
            "accuracy.png (NAS-Bench-201 accuracy per seed) and sharpening.png (mean max mixing weight over the epochs), a comparison manifest.json and report.html (linking every run's page).\n\n" +
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
            var seedList = ParseSeeds(parse.GetValue(seeds)!);
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

            var path = ComparisonReport.Write(folder, [.. outcomes.Select(x => new ComparisonRow(x.Method, x.Seed, x.Outcome.Manifest, x.Folder))], [.. args], o);
            o.Event("result", new { folder, manifest = path, runs = outcomes.Count });
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }

    /// <summary>Parses <c>--seeds</c>: comma-separated integers, at least one.</summary>
    internal static List<int> ParseSeeds(string text)
    {
        var seedList = new List<int>();
        foreach (var s in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int seed)) throw new CliInputException($"--seeds '{s}' is not an integer.");
            seedList.Add(seed);
        }
        if (seedList.Count == 0) throw new CliInputException("--seeds is empty.");
        return seedList;
    }
}
