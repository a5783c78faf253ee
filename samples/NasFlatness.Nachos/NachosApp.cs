using System.CommandLine;
using System.Globalization;
using NasFlatness.Data;
using NasFlatness.MultiObjective.Nachos;
using NasFlatness.Genotypes;
using NasFlatness.MultiObjective;
using NasFlatness.MultiObjective.FlatNas;
using NasFlatness.Samples;
using NasFlatness.SearchSpaces.Nb201;
using ScottPlot;
using Spectre.Console;

namespace NasFlatness.Nachos;

/// <summary>
/// NACHOS on NAS-Bench-201 / CIFAR-10 at CPU size: NSGA-II over (cell, exit placement); each candidate's early-exit network is trained
/// (backbone, then exit classifiers over the frozen backbone), its thresholds tuned and repaired under the MAC limit; prints the
/// admissible Pareto set (accuracy, average MACs, exit fractions) and writes a plot. <c>--table</c> uses the fast table-based evaluator instead.
/// </summary>
public static class NachosApp
{
    /// <summary>Runs the program; returns the process exit code.</summary>
    public static int Run(string[] args)
    {
        var data = SampleCli.Cifar10DataOption();
        var table = new Option<bool>("--table") { Description = "Evaluate candidates with the table-based evaluator (NB201 table error, exact exit MACs, synthetic exit accuracies) instead of training." };
        var trainExamples = new Option<int>("--train-examples") { Description = "CIFAR-10 training images (10 % of them are held out for tuning).", DefaultValueFactory = _ => 2000 };
        var channels = new Option<int>("--channels") { Description = "Channels C.", DefaultValueFactory = _ => 8 };
        var cells = new Option<int>("--cells") { Description = "Cells per stage N.", DefaultValueFactory = _ => 1 };
        var backboneEpochs = new Option<int>("--backbone-epochs") { Description = "Backbone epochs.", DefaultValueFactory = _ => 3 };
        var warmupEpochs = new Option<int>("--warmup-epochs") { Description = "Exit-classifier warm-up epochs.", DefaultValueFactory = _ => 1 };
        var exitEpochs = new Option<int>("--exit-epochs") { Description = "Exit-classifier epochs with the support term.", DefaultValueFactory = _ => 1 };
        var batch = new Option<int>("--batch-size") { Description = "Batch size.", DefaultValueFactory = _ => 64 };
        var initial = new Option<int>("--initial") { Description = "Random candidates before NSGA-II.", DefaultValueFactory = _ => 6 };
        var perIteration = new Option<int>("--per-iteration") { Description = "Candidates per NSGA-II iteration.", DefaultValueFactory = _ => 3 };
        var budget = new Option<int>("--budget") { Description = "Candidate evaluations in all.", DefaultValueFactory = _ => 12 };
        var macLimit = new Option<double?>("--mac-limit") { Description = "m_max in millions of MACs (default: half the full MACs of the best NB201 cell at this size)." };
        var minAccuracy = new Option<double>("--min-accuracy") { Description = "top1_min (0..1).", DefaultValueFactory = _ => 0.25 };
        var noConstraints = new Option<bool>("--no-constraints") { Description = "The paper's ablation: no MAC regulariser, no m_max or top1_min." };
        var noSupport = new Option<bool>("--no-support") { Description = "The paper's ablation: no support term." };
        var seed = new Option<int>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 0 };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
        var single = new Option<string?>("--genotype") { Description = "Train only this cell (arch string) with --exits and print the threshold curve (accuracy and average MACs over the grid, then the repair) instead of searching." };
        var exitBits = new Option<string>("--exits") { Description = "Exit bits for --genotype, one per slot (default 11: after stages 1 and 2).", DefaultValueFactory = _ => "11" };
        var output = new Option<string>("--out") { Description = "Folder for the plot and the search checkpoint.", DefaultValueFactory = _ => "nachos-out" };

        var root = new RootCommand("NACHOS on NAS-Bench-201 / CIFAR-10: constrained multi-objective search of early-exit networks.")
        {
            data, table, trainExamples, channels, cells, backboneEpochs, warmupEpochs, exitEpochs, batch, initial, perIteration, budget,
            macLimit, minAccuracy, noConstraints, noSupport, seed, device, output, single, exitBits,
        };
        root.SetAction((parse, cancellationToken) => SampleCli.Guard(() =>
        {
            var options = new Nb201Options { Channels = parse.GetValue(channels), CellsPerStage = parse.GetValue(cells) };
            bool useTable = parse.GetValue(table);
            if (useTable) options = new Nb201Options(); // the table's networks: C = 16, N = 5
            var errors = options.Validate();
            if (errors.Count > 0) throw new ArgumentException(string.Join(" ", errors));
            var best = Nb201Genotype.Parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|");
            double full = new Nb201ResourceModel(options).MultiplyAccumulates(best) / 1e6;
            bool unconstrained = parse.GetValue(noConstraints);
            double? mmax = unconstrained ? null : parse.GetValue(macLimit) ?? Math.Round(full / 2, 3);
            double? top1 = unconstrained ? null : parse.GetValue(minAccuracy);
            string outDir = parse.GetValue(output)!;
            Directory.CreateDirectory(outDir);
            var search = new ParetoSearchOptions
            {
                InitialSamples = parse.GetValue(initial),
                EvaluationsPerIteration = parse.GetValue(perIteration),
                PopulationSize = Math.Max(2, parse.GetValue(initial)),
                Budget = parse.GetValue(budget),
                MaxIterations = 1000,
                Patience = 1000,
                Seed = parse.GetValue(seed),
                CheckpointDirectory = Path.Combine(outDir, "search"),
            };
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "NACHOS: C = {0}, N = {1}; full MACs of cell 6111 {2:F2} M; m_max {3}; top1_min {4}; {5}",
                options.Channels, options.CellsPerStage, full, mmax is double m ? $"{m:F2} M" : "none", top1?.ToString("P0", CultureInfo.InvariantCulture) ?? "none",
                useTable ? "table-based evaluator" : "trained candidates");

            IMultiObjectiveEvaluator<NachosCandidate> evaluator;
            IReadOnlyList<int> slots;
            CifarClassificationData? cifar = null;
            try
            {
                if (useTable)
                {
                    var tableEvaluator = new Nb201TableNachosEvaluator();
                    (evaluator, slots) = (tableEvaluator, tableEvaluator.Slots);
                }
                else
                {
                    string folder = parse.GetValue(data) ?? SampleCli.FindDefaultCifar10();
                    var training = new EarlyExitTrainingOptions
                    {
                        BackboneEpochs = parse.GetValue(backboneEpochs),
                        WarmupEpochs = parse.GetValue(warmupEpochs),
                        ExitEpochs = parse.GetValue(exitEpochs),
                        BatchSize = parse.GetValue(batch),
                        Seed = parse.GetValue(seed),
                        Device = parse.GetValue(device)!,
                        SupportWeight = parse.GetValue(noSupport) ? 0 : 1,
                        MacWeight = unconstrained ? 0 : 1,
                    };
                    var evaluatorOptions = new TrainedNachosEvaluatorOptions
                    {
                        Network = options,
                        Training = training,
                        MacLimit = mmax,
                        MinimumAccuracy = top1,
                        Seed = parse.GetValue(seed),
                        CheckpointRoot = Path.Combine(outDir, "candidates"),
                    };
                    var problems = evaluatorOptions.Validate();
                    if (problems.Count > 0) throw new ArgumentException(string.Join(" ", problems));
                    cifar = new CifarClassificationData(CifarImages.Load(folder), CifarImages.Load(folder, train: false),
                        new CifarClassificationDataOptions { MaxTrainExamples = parse.GetValue(trainExamples), MaxTestExamples = 1, Device = parse.GetValue(device)! });
                    var trained = new TrainedNachosEvaluator(cifar, evaluatorOptions);
                    if (parse.GetValue(single) is { } arch)
                    {
                        var bits = parse.GetValue(exitBits)!.Select(ch => ch == '1').ToArray();
                        if (bits.Length != trained.Slots.Count) throw new ArgumentException($"--exits needs {trained.Slots.Count} bits, got '{parse.GetValue(exitBits)}'.");
                        var candidate = new NachosCandidate(Nb201Genotype.Parse(arch), bits);
                        new Reporting(trained).Evaluate(candidate, cancellationToken);
                        ThresholdCurve(trained.Details.Values.Single(), mmax, Path.Combine(outDir, "nachos-thresholds.png"));
                        return 0;
                    }
                    (evaluator, slots) = (new Reporting(trained), trained.Slots);
                }
                var nachos = NachosSearch.Create(evaluator, slots.Count, new NachosSearchOptions { MacLimit = mmax, MinimumAccuracy = top1, Search = search },
                    macReference: full * 1.05);
                var result = nachos.Run(new SyncProgress<ParetoSearchProgress>(p =>
                    AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "[grey]iteration {0}: {1} evaluated, {2} admissible, hypervolume {3:F3}[/]", p.Iteration, p.Evaluations, p.FeasibleCount, p.Hypervolume)),
                    cancellationToken);
                Print(result, slots);
                string plot = Path.Combine(outDir, "nachos-pareto.png");
                Plot(result, mmax, top1, plot);
                AnsiConsole.MarkupLine("plot: {0}", Markup.Escape(plot));
                return 0;
            }
            finally
            {
                cifar?.Dispose();
            }
        }, "cancelled: run the same command again to continue from the checkpoints in --out."));
        return SampleCli.Invoke(root, args);
    }

    /// <summary>Prints each trained candidate as it finishes.</summary>
    private sealed class Reporting(TrainedNachosEvaluator inner) : IMultiObjectiveEvaluator<NachosCandidate>
    {
        public IReadOnlyList<string> MetricNames => inner.MetricNames;

        public IReadOnlyList<double> Evaluate(NachosCandidate candidate, CancellationToken cancellationToken)
        {
            var metrics = inner.Evaluate(candidate, cancellationToken);
            var key = new NachosCandidateEncoding(inner.Slots.Count, requireExit: false).Key(candidate);
            var d = inner.Details[key];
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "  {0}: exit MACs [[{1}]] M, pools [[{2}]], backbone train acc {3:P1}; tuned {4}",
                key, string.Join(", ", d.ExitCosts.Select(c => (c / 1e6).ToString("F2", CultureInfo.InvariantCulture))), string.Join(", ", d.PoolKernels),
                d.Training.Epochs.Where(e => e.BackbonePhase).LastOrDefault()?.FinalExitTrainAccuracy ?? double.NaN, Markup.Escape(d.Tuning.Final.ToString()));
            return metrics;
        }
    }

    private static void ThresholdCurve(TrainedNachosCandidate d, double? mmax, string path)
    {
        var grid = new Table().Title(Markup.Escape($"{d.Key}: exit MACs [{string.Join(", ", d.ExitCosts.Select(c => (c / 1e6).ToString("F3", CultureInfo.InvariantCulture)))}] M"));
        grid.AddColumns("step", "thresholds", "accuracy", "average MACs (M)", "exit fractions");
        void Row(string step, ExitEvaluation e) => grid.AddRow(step, Markup.Escape(string.Join(", ", e.Thresholds.Select(t => t.ToString("0.##", CultureInfo.InvariantCulture)))),
            e.Accuracy.ToString("P2", CultureInfo.InvariantCulture), (e.AverageMultiplyAccumulates / 1e6).ToString("F3", CultureInfo.InvariantCulture),
            string.Join(" / ", e.ExitFractions.Select(f => f.ToString("F3", CultureInfo.InvariantCulture))));
        foreach (var e in d.Tuning.Grid) Row("grid", e);
        foreach (var e in d.Tuning.RepairSteps) Row("repair", e);
        Row("final", d.Tuning.Final);
        AnsiConsole.Write(grid);
        AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "meets MAC limit: {0}; meets accuracy: {1}", d.Tuning.MeetsMacLimit, d.Tuning.MeetsAccuracy);
        var plt = new ScottPlot.Plot();
        var curve = plt.Add.Scatter(d.Tuning.Grid.Select(e => e.AverageMultiplyAccumulates / 1e6).ToArray(), d.Tuning.Grid.Select(e => 100 * e.Accuracy).ToArray());
        curve.LegendText = "threshold grid (ε = 0.1 … 0.8)";
        curve.MarkerSize = 8;
        if (d.Tuning.RepairSteps.Count > 0)
        {
            var repair = plt.Add.Scatter(d.Tuning.RepairSteps.Select(e => e.AverageMultiplyAccumulates / 1e6).ToArray(), d.Tuning.RepairSteps.Select(e => 100 * e.Accuracy).ToArray());
            repair.LegendText = "repair steps";
            repair.MarkerSize = 8;
        }
        if (mmax is double m) plt.Add.VerticalLine(m).LegendText = "m_max";
        plt.Title($"NACHOS thresholds, {d.Key}");
        plt.XLabel("average MACs per inference (M)");
        plt.YLabel("top-1 accuracy on the hold-out (%)");
        plt.ShowLegend(Alignment.LowerRight);
        plt.SavePng(path, 900, 550);
        AnsiConsole.MarkupLine("plot: {0}", Markup.Escape(path));
    }

    private static void Print(ParetoSearchResult<NachosCandidate> result, IReadOnlyList<int> slots)
    {
        var grid = new Table().Title(result.Front.Any(e => e.IsFeasible) ? "Admissible Pareto set" : "No admissible candidate: non-dominated set of the penalised objectives");
        grid.AddColumns("key (cell digits-exit bits)", "accuracy", "average MACs (M)", "full MACs (M)", Markup.Escape("exit fractions (slots after cells [" + string.Join(", ", slots) + "], final)"));
        foreach (var e in result.Front.OrderBy(e => e.Metrics[NachosMetrics.AverageMacs]))
        {
            var fractions = e.Metrics.Skip(NachosMetrics.FirstFraction).Select(f => f.ToString("F3", CultureInfo.InvariantCulture));
            grid.AddRow(e.Key, (1 - e.Metrics[NachosMetrics.Error] / 100).ToString("P2", CultureInfo.InvariantCulture),
                e.Metrics[NachosMetrics.AverageMacs].ToString("F3", CultureInfo.InvariantCulture), e.Metrics[NachosMetrics.FullMacs].ToString("F3", CultureInfo.InvariantCulture),
                string.Join(" / ", fractions));
        }
        AnsiConsole.Write(grid);
        AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "{0} candidates evaluated, {1} admissible, stopped: {2}", result.Evaluations, result.Archive.Count(e => e.IsFeasible), result.StopReason);
    }

    private static void Plot(ParetoSearchResult<NachosCandidate> result, double? mmax, double? top1, string path)
    {
        var plt = new ScottPlot.Plot();
        var all = plt.Add.Scatter(result.Archive.Select(e => e.Metrics[NachosMetrics.AverageMacs]).ToArray(), result.Archive.Select(e => 100 - e.Metrics[NachosMetrics.Error]).ToArray());
        all.LineWidth = 0;
        all.MarkerSize = 6;
        all.LegendText = "evaluated";
        var front = result.Front.OrderBy(e => e.Metrics[NachosMetrics.AverageMacs]).ToArray();
        if (front.Length > 0)
        {
            var line = plt.Add.Scatter(front.Select(e => e.Metrics[NachosMetrics.AverageMacs]).ToArray(), front.Select(e => 100 - e.Metrics[NachosMetrics.Error]).ToArray());
            line.MarkerSize = 10;
            line.LineWidth = 2;
            line.LegendText = "admissible Pareto set";
        }
        if (mmax is double m) plt.Add.VerticalLine(m).LegendText = "m_max";
        if (top1 is double a) plt.Add.HorizontalLine(100 * a).LegendText = "top1_min";
        plt.Title("NACHOS on NAS-Bench-201 / CIFAR-10");
        plt.XLabel("average MACs per inference (M)");
        plt.YLabel("top-1 accuracy (%)");
        plt.ShowLegend(Alignment.LowerRight);
        plt.SavePng(path, 900, 550);
    }
}
