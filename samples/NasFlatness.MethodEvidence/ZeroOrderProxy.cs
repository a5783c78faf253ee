using System.Diagnostics;
using System.Globalization;
using NasFlatness.Data;
using NasFlatness.Genotypes;
using NasFlatness.Landscape;
using NasFlatness.Optimizers;
using NasFlatness.Search;
using NasFlatness.SearchSpaces.Nb201;
using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.MethodEvidence;

/// <summary>
/// The short NAS-Bench-201 proxy comparison of docs/methods-zo.md: DARTS first order, ZO-DARTS and ZO-DARTS+ on the same data and
/// seed, each line printed (and appended to <c>--out</c>) as it finishes. An experiment, run by hand; not part of the test suite.
/// </summary>
internal static class ZeroOrderProxy
{
    public static void Run(CifarImages images, int epochs, int examples, int seed, int roundSteps, string? logFile)
    {
        void Write(string line)
        {
            Console.WriteLine(line);
            if (logFile is not null) File.AppendAllText(logFile, line + Environment.NewLine);
        }
        using var data = new CifarSearchData(images, new CifarSearchDataOptions { MaxTrainExamples = examples, MaxValidationExamples = examples });
        var space = new Nb201SearchSpace(new Nb201Options { Channels = 8, CellsPerStage = 1, TrackRunningStats = false });
        // One τ decay per proxy epoch, ending at the official code's last τ (1.5·0.9^⌊49/5⌋ ≈ 0.581).
        double gamma = epochs > 1 ? Math.Pow(0.5811 / 1.5, 1.0 / (epochs - 1)) : 1.0;
        var sparsemax = new SparsemaxActivation(1.5, gamma, 1);
        SearchOptions Options() => new()
        {
            Epochs = epochs, BatchSize = 64, Seed = seed, ArchitectureLearningRate = 4.5e-2, EpochValidationBatches = 5, Augment = true,
        };
        var methods = new (string Name, Func<SearchRunner> Create)[]
        {
            ("darts-1st", () => new SearchRunner(space, new DartsFirstOrder(), options: Options())),
            ("zo-darts", () => new SearchRunner(space, new ZeroOrderDarts(), options: Options()) { Schedule = new EveryKStepsSchedule(roundSteps) }),
            ("zo-darts+", () => new SearchRunner(space, new ZeroOrderDarts(), options: Options()) { Schedule = new EveryKStepsSchedule(roundSteps), Activation = sparsemax }),
        };
        Write(string.Create(CultureInfo.InvariantCulture,
            $"NB201 proxy: C = 8, N = 1, {examples}+{examples} CIFAR-10 images, batch 64, {epochs} epochs, seed {seed}, α-Adam 4.5e-2, ZO rounds R = {roundSteps}, τ = 1.5·{gamma:F4}^t, search-cell BN without running stats"));
        foreach (var (name, create) in methods)
        {
            var clock = Stopwatch.StartNew();
            var result = create().Run(data, new Progress(p =>
            {
                if (p.CompletedEpoch is { } e)
                    Write(string.Create(CultureInfo.InvariantCulture, $"  {name} epoch {e.Epoch}: train {e.TrainLoss:F3} valid {e.ValidationLoss:F3} mean max p {e.MeanMaxWeight:F3} α updates {e.ArchitectureUpdates} {e.Duration.TotalSeconds:F0} s {e.Genotype}"));
            }));
            clock.Stop();
            using var scope = NewDisposeScope();
            var last = result.Epochs[^1];
            int steps = result.Epochs.Sum(e => e.Steps), updates = result.Epochs.Sum(e => e.ArchitectureUpdates);
            var alpha = tensor(last.Architecture[0].SelectMany(r => r).ToArray(), [6, 5], dtype: float64);
            var p = name == "zo-darts+" ? sparsemax.Activate(alpha) : alpha.softmax(-1);
            var zeros = Enumerable.Range(0, 6).Select(e => p[e].eq(0).sum().item<long>()).ToArray();
            var cell = (Nb201Genotype)result.Genotype;
            Write(string.Create(CultureInfo.InvariantCulture,
                $"{name,-10} {clock.Elapsed.TotalSeconds,6:F1} s ({1000 * result.Duration.TotalSeconds / steps:F0} ms/step incl. epoch eval), α updates {updates}, mean max p {last.MeanMaxWeight:F3}, exact zeros per edge [{string.Join(", ", zeros)}] (total {zeros.Sum()}/30), valid loss {last.ValidationLoss:F3} acc {last.ValidationAccuracy:F3}, {cell} → table CIFAR-10 {Nb201Table.Embedded.Get(cell).Cifar10TestAccuracy:F2} %"));
            Write("  p = " + string.Join(" ", Enumerable.Range(0, 6).Select(e => "[" + string.Join(",", p[e].data<double>().ToArray().Select(v => v.ToString("F2", CultureInfo.InvariantCulture))) + "]")));
        }
    }

    private sealed class Progress(Action<SearchProgress> report) : IProgress<SearchProgress>
    {
        public void Report(SearchProgress value) => report(value);
    }
}
