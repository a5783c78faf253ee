using System.Diagnostics;
using System.Globalization;
using NasFlatness.Data;
using NasFlatness.Search;
using NasFlatness.SearchSpaces.Nb201;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace NasFlatness.Optimizers.Tests;

/// <summary>
/// The short NB201 proxy comparison of docs/methods-zo.md (darts vs zo-darts vs zo-darts+). Runs only when NASFLAT_ZO_PROXY=1
/// (minutes of CPU); otherwise it returns at once. Settings through NASFLAT_ZO_PROXY_EPOCHS / _IMAGES / _SEED.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class ZeroOrderProxyComparison(ITestOutputHelper output)
{
    private static int Env(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : fallback;

    [Fact]
    public void ZeroOrderProxyComparisonOnNb201()
    {
        if (Environment.GetEnvironmentVariable("NASFLAT_ZO_PROXY") != "1") return;
        int epochs = Env("NASFLAT_ZO_PROXY_EPOCHS", 6), images = Env("NASFLAT_ZO_PROXY_IMAGES", 640), seed = Env("NASFLAT_ZO_PROXY_SEED", 0);
        int rounds = Env("NASFLAT_ZO_PROXY_ROUND", 5);
        var log = Environment.GetEnvironmentVariable("NASFLAT_ZO_PROXY_OUT");
        void Write(string line)
        {
            output.WriteLine(line);
            if (log is not null) File.AppendAllText(log, line + Environment.NewLine);
        }
        var table = File.ReadLines(TestData.Nb201TestAccuracyCsv).Skip(1).Select(l => l.Split(','))
            .ToDictionary(f => f[1], f => double.Parse(f[2], CultureInfo.InvariantCulture));
        using var data = new CifarSearchData(TestData.Cifar10Train, new CifarSearchDataOptions { MaxTrainExamples = images, MaxValidationExamples = images });
        var space = new Nb201SearchSpace(new Nb201Options { Channels = 8, CellsPerStage = 1, TrackRunningStats = false });
        // τ decays once per proxy epoch, reaching the code's final τ_49 = 0.581 (γ = 0.9 over 50 epochs) at the last proxy epoch.
        double gamma = epochs > 1 ? Math.Pow(0.5811 / 1.5, 1.0 / (epochs - 1)) : 1.0;
        var sparsemax = new SparsemaxActivation(1.5, gamma, 1);
        var runs = new (string Name, Func<SearchRunner> Create)[]
        {
            ("darts-1st", () => new SearchRunner(space, new DartsFirstOrder(), options: Options())),
            ("zo-darts", () => new SearchRunner(space, new ZeroOrderDarts(), options: Options()) { Schedule = new EveryKStepsSchedule(rounds) }),
            ("zo-darts+", () => new SearchRunner(space, new ZeroOrderDarts(), options: Options()) { Schedule = new EveryKStepsSchedule(rounds), Activation = sparsemax }),
        };
        SearchOptions Options() => new()
        {
            Epochs = epochs, BatchSize = 64, Seed = seed, ArchitectureLearningRate = 4.5e-2, EpochValidationBatches = 5, Augment = true,
        };
        Write(string.Create(CultureInfo.InvariantCulture, $"NB201 proxy: C = 8, N = 1, {images}+{images} CIFAR-10 images, batch 64, {epochs} epochs, seed {seed}, α-Adam 4.5e-2, ZO rounds R = {rounds}, τ = 1.5·{gamma:F4}^t, search-cell BN without running stats"));
        foreach (var (name, create) in runs)
        {
            var clock = Stopwatch.StartNew();
            var result = create().Run(data, new EpochLog(r => { if (r.CompletedEpoch is { } e) Write(string.Create(CultureInfo.InvariantCulture, $"  {name} epoch {e.Epoch}: train {e.TrainLoss:F3} valid {e.ValidationLoss:F3} mean max p {e.MeanMaxWeight:F3} α updates {e.ArchitectureUpdates} {e.Duration.TotalSeconds:F0} s {e.Genotype}")); }));
            clock.Stop();
            var last = result.Epochs[^1];
            int steps = result.Epochs.Sum(e => e.Steps), updates = result.Epochs.Sum(e => e.ArchitectureUpdates);
            var alpha = torch.tensor(last.Architecture[0].SelectMany(r => r).ToArray(), [6, 5], dtype: float64);
            var p = name == "zo-darts+" ? sparsemax.Activate(alpha) : alpha.softmax(-1);
            var zerosPerEdge = Enumerable.Range(0, 6).Select(e => p[e].eq(0).sum().item<long>()).ToArray();
            string arch = result.Genotype.ToString();
            string accuracy = table.TryGetValue(arch, out var acc) ? acc.ToString("F2", CultureInfo.InvariantCulture) : "n/a";
            Write(string.Create(CultureInfo.InvariantCulture,
                $"{name,-10} {clock.Elapsed.TotalSeconds,6:F1} s ({1000 * result.Duration.TotalSeconds / steps:F0} ms/step incl. epoch eval), α updates {updates}, mean max p {last.MeanMaxWeight:F3}, exact zeros per edge [{string.Join(", ", zerosPerEdge)}] (total {zerosPerEdge.Sum()}/30), valid loss {last.ValidationLoss:F3} acc {last.ValidationAccuracy:F3}, {arch} → table CIFAR-10 {accuracy} %"));
            Write("  p = " + string.Join(" ", Enumerable.Range(0, 6).Select(e => "[" + string.Join(",", p[e].data<double>().ToArray().Select(v => v.ToString("F2", CultureInfo.InvariantCulture))) + "]")));
        }
    }
}

internal sealed class EpochLog(Action<SearchProgress> report) : IProgress<SearchProgress>
{
    public void Report(SearchProgress value) => report(value);
}
