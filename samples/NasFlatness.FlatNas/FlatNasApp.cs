using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using NasFlatness.Data;
using NasFlatness.Evaluation;
using NasFlatness.Genotypes;
using NasFlatness.Landscape;
using NasFlatness.MultiObjective;
using NasFlatness.MultiObjective.FlatNas;
using NasFlatness.MultiObjective.MLNet;
using NasFlatness.MultiObjective.Nachos;
using NasFlatness.Samples;
using NasFlatness.SearchSpaces.Nb201;
using ScottPlot;
using Spectre.Console;

namespace NasFlatness.FlatNas;

/// <summary>
/// FlatNAS on NAS-Bench-201 / CIFAR-10 at CPU size: NSGA-II over NB201 cells with the objectives top1_robust (α·err + α_norm·(1 − α)·R)
/// and parameters under a limit (static penalty). Each candidate is trained at proxy size with SGD, SAM or ASAM; its error, R(σ, M) and
/// mean corruption error are measured on a held-out part of the training images. Prints the feasible Pareto front with each member's
/// table accuracy and writes a plot. <c>--table</c> uses the fast table-based evaluator (proxy R, for the search mechanics);
/// <c>--evaluate</c> trains the given cells only (the SGD / SAM / ASAM comparison).
/// </summary>
public static class FlatNasApp
{
    /// <summary>Runs the program; returns the process exit code.</summary>
    public static int Run(string[] args)
    {
        var data = SampleCli.Cifar10DataOption();
        var table = new Option<bool>("--table") { Description = "Table-based evaluator: NB201 table error, exact parameters and the neighbourhood accuracy drop as a proxy of R (NOT the paper's R)." };
        var optimizer = new Option<string>("--optimizer") { Description = "Candidate training step: sgd, sam or asam.", DefaultValueFactory = _ => "asam" };
        var rho = new Option<double?>("--rho") { Description = "ρ of SAM / ASAM (default: 0.05 for sam, 2.0 for asam as in the FlatNAS code)." };
        var trainExamples = new Option<int>("--train-examples") { Description = "CIFAR-10 training images (--holdout of them are held out for error, R and corruption error).", DefaultValueFactory = _ => 1000 };
        var holdout = new Option<double>("--holdout") { Description = "Held-out fraction of the training images.", DefaultValueFactory = _ => 0.2 };
        var channels = new Option<int>("--channels") { Description = "Channels C of the trained proxy.", DefaultValueFactory = _ => 8 };
        var cells = new Option<int>("--cells") { Description = "Cells per stage N of the trained proxy.", DefaultValueFactory = _ => 1 };
        var epochs = new Option<int>("--epochs") { Description = "Training epochs per candidate.", DefaultValueFactory = _ => 2 };
        var batch = new Option<int>("--batch-size") { Description = "Batch size.", DefaultValueFactory = _ => 64 };
        var lr = new Option<double>("--lr") { Description = "SGD learning rate (cosine).", DefaultValueFactory = _ => 0.1 };
        var draws = new Option<int>("--draws") { Description = "M: weight-noise draws of R (σ = 0.05).", DefaultValueFactory = _ => 20 };
        var sigma = new Option<double>("--sigma") { Description = "σ of R.", DefaultValueFactory = _ => 0.05 };
        var severities = new Option<string>("--severities") { Description = "Corruption severities of the mean corruption error (all 9 corruptions), comma-separated; 'none' skips it.", DefaultValueFactory = _ => "3" };
        var initial = new Option<int>("--initial") { Description = "Random candidates before NSGA-II.", DefaultValueFactory = _ => 6 };
        var perIteration = new Option<int>("--per-iteration") { Description = "Candidates per NSGA-II iteration.", DefaultValueFactory = _ => 3 };
        var budget = new Option<int>("--budget") { Description = "Candidate evaluations in all.", DefaultValueFactory = _ => 12 };
        var limit = new Option<double>("--param-limit") { Description = "p_max: parameter limit in millions (of the C = 16, N = 5 network).", DefaultValueFactory = _ => 0.4 };
        var alpha = new Option<double>("--alpha") { Description = "α of top1_robust.", DefaultValueFactory = _ => 0.5 };
        var seed = new Option<int>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 0 };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
        var evaluate = new Option<string[]>("--evaluate") { Description = "Train only these cells (NB201 table index or arch string; repeatable) and print error, R and corruption error instead of searching.", AllowMultipleArgumentsPerToken = true };
        var surrogate = new Option<bool>("--surrogate") { Description = "Surrogate-assisted search: each iteration fits ML.NET FastTree on the archive's top1_robust and runs NSGA-II on the predictions (docs/multi-objective.md)." };
        var output = new Option<string>("--out") { Description = "Folder for the plot and the search checkpoint.", DefaultValueFactory = _ => "flatnas-out" };

        var root = new RootCommand("FlatNAS on NAS-Bench-201 / CIFAR-10: NSGA-II for flat (robust) cells under a parameter limit.")
        {
            data, table, optimizer, rho, trainExamples, holdout, channels, cells, epochs, batch, lr, draws, sigma, severities, initial, perIteration, budget,
            limit, alpha, seed, device, evaluate, output, surrogate,
        };
        root.SetAction((parse, cancellationToken) => SampleCli.Guard(() =>
        {
            string outDir = parse.GetValue(output)!;
            Directory.CreateDirectory(outDir);
            var sharpness = parse.GetValue(optimizer)!.ToLowerInvariant() switch
            {
                "sgd" => SharpnessAwareness.None,
                "sam" => SharpnessAwareness.Sam,
                "asam" => SharpnessAwareness.Asam,
                var other => throw new ArgumentException($"--optimizer '{other}' is not sgd, sam or asam."),
            };
            int[] severityList = parse.GetValue(severities) is "none" ? [] : [.. parse.GetValue(severities)!.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))];
            bool useTable = parse.GetValue(table);
            var searchOptions = new FlatNasSearchOptions
            {
                Alpha = parse.GetValue(alpha),
                ParameterLimit = parse.GetValue(limit),
                Search = new ParetoSearchOptions
                {
                    InitialSamples = parse.GetValue(initial),
                    EvaluationsPerIteration = parse.GetValue(perIteration),
                    PopulationSize = Math.Max(2, parse.GetValue(initial)),
                    Budget = parse.GetValue(budget),
                    MaxIterations = 1000,
                    Patience = 1000,
                    Seed = parse.GetValue(seed),
                    CheckpointDirectory = Path.Combine(outDir, (useTable ? "search-table" : $"search-{parse.GetValue(optimizer)}") + (parse.GetValue(surrogate) ? "-surrogate" : "")),
                    Surrogate = parse.GetValue(surrogate) ? new TreeEnsembleSurrogate() : null,
                },
            };
            if (searchOptions.Validate() is { Count: > 0 } bad) throw new ArgumentException(string.Join(" ", bad));

            if (useTable)
            {
                AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "FlatNAS, table-based evaluator (R column = neighbourhood accuracy drop, a proxy); p_max {0} M", searchOptions.ParameterLimit);
                var tableResult = RunSearch(FlatNasSearch.Create(new Nb201TableFlatNasEvaluator(), searchOptions), cancellationToken);
                Print(tableResult, null, "table");
                Plot(tableResult, searchOptions.ParameterLimit, Path.Combine(outDir, "flatnas-pareto-table.png"), "table error");
                return 0;
            }

            var training = FlatNasEvaluatorOptions.DefaultTraining();
            training.Epochs = parse.GetValue(epochs);
            training.BatchSize = parse.GetValue(batch);
            training.LearningRate = parse.GetValue(lr);
            training.Sharpness = sharpness;
            training.SharpnessRho = parse.GetValue(rho) ?? (sharpness == SharpnessAwareness.Asam ? 2.0 : 0.05);
            training.Device = parse.GetValue(device)!;
            var mean = CifarImages.Mean(CifarKind.Cifar10);
            var std = CifarImages.Std(CifarKind.Cifar10);
            var evaluatorOptions = new FlatNasEvaluatorOptions
            {
                Network = new Nb201Options { Channels = parse.GetValue(channels), CellsPerStage = parse.GetValue(cells) },
                Training = training,
                Robustness = new WeightPerturbationOptions { Sigma = parse.GetValue(sigma), Samples = parse.GetValue(draws), Seed = parse.GetValue(seed) },
                ValidationFraction = parse.GetValue(holdout),
                Seed = parse.GetValue(seed),
                CheckpointRoot = Path.Combine(outDir, "candidates-" + parse.GetValue(optimizer)),
                CorruptionError = severityList.Length == 0 ? null : (network, split, token) => MeanCorruptionError.Evaluate(network, split, mean, std,
                    new MeanCorruptionErrorOptions { Severities = severityList, Seed = parse.GetValue(seed) }, token).Mean,
            };
            if (evaluatorOptions.Validate() is { Count: > 0 } problems) throw new ArgumentException(string.Join(" ", problems));
            string folder = parse.GetValue(data) ?? SampleCli.FindDefaultCifar10();
            using var cifar = new CifarClassificationData(CifarImages.Load(folder), CifarImages.Load(folder, train: false),
                new CifarClassificationDataOptions { MaxTrainExamples = parse.GetValue(trainExamples), MaxTestExamples = 1, Device = parse.GetValue(device)! });
            var evaluator = new FlatNasEvaluator(cifar, evaluatorOptions);
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "FlatNAS: {0} (ρ {1}), proxy C = {2}, N = {3}, {4} epochs on {5} images ({6:P0} held out), R(σ = {7}, M = {8}); p_max {9} M",
                parse.GetValue(optimizer)!, training.SharpnessRho, evaluatorOptions.Network.Channels, evaluatorOptions.Network.CellsPerStage, training.Epochs,
                parse.GetValue(trainExamples), evaluatorOptions.ValidationFraction, evaluatorOptions.Robustness.Sigma, evaluatorOptions.Robustness.Samples, searchOptions.ParameterLimit);

            if (parse.GetValue(evaluate) is { Length: > 0 } cellsToTrain)
            {
                var grid = new Table().Title(Markup.Escape($"Proxy-trained cells, {parse.GetValue(optimizer)}"));
                grid.AddColumns("table index", "table acc %", "params M", "held-out acc %", "R (pp)", "mean corruption error %", "seconds");
                foreach (var text in cellsToTrain)
                {
                    var genotype = int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int index) ? Nb201Table.Embedded[index].Genotype : Nb201Genotype.Parse(text);
                    var clock = Stopwatch.StartNew();
                    var d = evaluator.Train(genotype, cancellationToken, keep: null);
                    grid.AddRow(Nb201Table.Embedded.IndexOf(genotype).ToString(CultureInfo.InvariantCulture), Nb201Table.Embedded.Get(genotype).Cifar10TestAccuracy.ToString("F2", CultureInfo.InvariantCulture),
                        (d.Parameters / 1e6).ToString("F3", CultureInfo.InvariantCulture), (100 * d.Training.TestAccuracy).ToString("F2", CultureInfo.InvariantCulture),
                        d.Robustness.Robustness.ToString("F3", CultureInfo.InvariantCulture), d.CorruptionError?.ToString("F2", CultureInfo.InvariantCulture) ?? "-",
                        clock.Elapsed.TotalSeconds.ToString("F0", CultureInfo.InvariantCulture));
                }
                AnsiConsole.Write(grid);
                return 0;
            }

            var result = RunSearch(FlatNasSearch.Create(new Reporting(evaluator), searchOptions), cancellationToken);
            Print(result, evaluator, parse.GetValue(optimizer)!);
            Plot(result, searchOptions.ParameterLimit, Path.Combine(outDir, $"flatnas-pareto-{parse.GetValue(optimizer)}.png"), "proxy error");
            return 0;
        }, "cancelled: run the same command again to continue from the checkpoints in --out."));
        return SampleCli.Invoke(root, args);
    }

    private static ParetoSearchResult<Nb201Genotype> RunSearch(ParetoSearch<Nb201Genotype> search, CancellationToken cancellationToken)
    {
        var progress = new SyncProgress<ParetoSearchProgress>(p =>
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "[grey]iteration {0}: {1} evaluated, {2} feasible, hypervolume {3:F4}[/]", p.Iteration, p.Evaluations, p.FeasibleCount, p.Hypervolume));
        return search.Run(progress, cancellationToken); // resumes from the checkpoint folder when it holds one
    }

    /// <summary>Prints each trained candidate as it finishes.</summary>
    private sealed class Reporting(FlatNasEvaluator inner) : IMultiObjectiveEvaluator<Nb201Genotype>
    {
        public IReadOnlyList<string> MetricNames => inner.MetricNames;

        public IReadOnlyList<double> Evaluate(Nb201Genotype candidate, CancellationToken cancellationToken)
        {
            var clock = Stopwatch.StartNew();
            var metrics = inner.Evaluate(candidate, cancellationToken);
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "  index {0}: error {1:F2} %, R {2:F3}, params {3:F3} M ({4:F0} s)",
                Nb201Table.Embedded.IndexOf(candidate), metrics[0], metrics[1], metrics[2], clock.Elapsed.TotalSeconds);
            return metrics;
        }
    }

    private static void Print(ParetoSearchResult<Nb201Genotype> result, FlatNasEvaluator? evaluator, string label)
    {
        var feasible = result.Front.Any(e => e.IsFeasible);
        var grid = new Table().Title(Markup.Escape(feasible ? $"Feasible Pareto front ({label})" : $"No feasible candidate: non-dominated set of the penalised objectives ({label})"));
        grid.AddColumns("table index", "key", "table acc %", "error %", "R (pp)", "top1_robust", "params M", "mean corruption error %");
        foreach (var e in result.Front.OrderBy(e => e.Metrics[FlatNasMetrics.Parameters]))
        {
            double? mce = evaluator is not null && evaluator.Details.TryGetValue(e.Key, out var d) ? d.CorruptionError : null;
            grid.AddRow(Nb201Table.Embedded.IndexOf(e.Candidate).ToString(CultureInfo.InvariantCulture), e.Key, Nb201Table.Embedded.Get(e.Candidate).Cifar10TestAccuracy.ToString("F2", CultureInfo.InvariantCulture),
                e.Metrics[FlatNasMetrics.Error].ToString("F2", CultureInfo.InvariantCulture), e.Metrics[FlatNasMetrics.Robustness].ToString("F3", CultureInfo.InvariantCulture),
                e.Objectives[0].ToString("F3", CultureInfo.InvariantCulture), e.Metrics[FlatNasMetrics.Parameters].ToString("F3", CultureInfo.InvariantCulture),
                mce?.ToString("F2", CultureInfo.InvariantCulture) ?? "-");
        }
        AnsiConsole.Write(grid);
        AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "{0} candidates evaluated, {1} feasible, stopped: {2}; best cell under 0.4 M in the table: index 13987, 93.60 %",
            result.Evaluations, result.Archive.Count(e => e.IsFeasible), result.StopReason);
    }

    private static void Plot(ParetoSearchResult<Nb201Genotype> result, double limit, string path, string errorLabel)
    {
        var plt = new ScottPlot.Plot();
        var all = plt.Add.Scatter(result.Archive.Select(e => e.Metrics[FlatNasMetrics.Parameters]).ToArray(), result.Archive.Select(e => e.Objectives[0]).ToArray());
        all.LineWidth = 0;
        all.MarkerSize = 6;
        all.LegendText = "evaluated";
        var front = result.Front.OrderBy(e => e.Metrics[FlatNasMetrics.Parameters]).ToArray();
        if (front.Length > 0)
        {
            var line = plt.Add.Scatter(front.Select(e => e.Metrics[FlatNasMetrics.Parameters]).ToArray(), front.Select(e => e.Objectives[0]).ToArray());
            line.MarkerSize = 10;
            line.LineWidth = 2;
            line.LegendText = "feasible Pareto front";
        }
        plt.Add.VerticalLine(limit).LegendText = "p_max";
        plt.Title("FlatNAS on NAS-Bench-201 / CIFAR-10");
        plt.XLabel("parameters of the C = 16, N = 5 network (M)");
        plt.YLabel($"top1_robust = α·{errorLabel} + α_norm·(1 − α)·R");
        plt.ShowLegend(Alignment.UpperRight);
        plt.SavePng(path, 900, 550);
        AnsiConsole.MarkupLine("plot: {0}", Markup.Escape(path));
    }
}
