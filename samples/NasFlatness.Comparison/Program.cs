using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using NasFlatness;
using NasFlatness.Advanced;
using NasFlatness.Comparison;
using NasFlatness.Data;
using NasFlatness.Optimizers;
using NasFlatness.Search;
using TorchSharp;

// Comparison experiment: method presets on NAS-Bench-201 / CIFAR-10 at a CPU protocol, several seeds, final genotypes
// looked up in the NAS-Bench-201 table with their neighbourhood flatness. `run` writes one result file per (method, seed)
// into --out-dir as each search finishes and resumes interrupted searches from their checkpoints; `table-search` runs
// NA-RS and RS on the table; `report` writes the markdown tables and paired tests. See docs/protocol.md.
var protocol = new Option<string?>("--protocol") { Description = $"Named search protocol ({string.Join(", ", SearchProtocols.Names)}); overrides the size flags below." };
var presets = new Option<string>("--presets") { Description = "Comma-separated preset names (default: all).", DefaultValueFactory = _ => string.Join(",", MethodPresets.Names) };
var seeds = new Option<string>("--seeds") { Description = "Comma-separated seeds.", DefaultValueFactory = _ => "0,1" };
var epochs = new Option<int>("--epochs") { Description = "Search epochs (paper 50; without --protocol).", DefaultValueFactory = _ => 10 };
var channels = new Option<int>("--channels") { Description = "Initial channels C (paper 16; without --protocol).", DefaultValueFactory = _ => 8 };
var cells = new Option<int>("--cells") { Description = "Cells per stage N (paper 5; without --protocol).", DefaultValueFactory = _ => 1 };
var batch = new Option<int>("--batch-size") { Description = "Batch size for every method (without --protocol).", DefaultValueFactory = _ => 64 };
var train = new Option<int>("--train-examples") { Description = "Weight-training images (without --protocol).", DefaultValueFactory = _ => 960 };
var valid = new Option<int>("--valid-examples") { Description = "Validation images (without --protocol).", DefaultValueFactory = _ => 960 };
var archLrScale = new Option<double>("--arch-lr-scale") { Description = "Multiplier on every preset's α learning rate (without --protocol).", DefaultValueFactory = _ => 100 };
var epochValidation = new Option<int>("--epoch-validation-batches") { Description = "Batches of the end-of-epoch supernet validation (without --protocol).", DefaultValueFactory = _ => 4 };
var betaSlope = new Option<double?>("--beta-slope") { Description = "β-decay λ per epoch (default: 0.5·50/epochs)." };
var a2mRho = new Option<double?>("--a2m-rho") { Description = "A²M ρ for the A²M presets (ρ sweep; the method label gets -rho<ρ>). Default: the preset's (1e-2)." };
var hessianEvery = new Option<int>("--hessian-every") { Description = "Measure the dominant α-Hessian eigenvalue every k epochs (and at the last).", DefaultValueFactory = _ => 1 };
var stopAfter = new Option<int?>("--stop-after-epochs") { Description = "Stop (checkpointed) after this many epochs in this process; rerun the same command to resume." };
var threads = new Option<int>("--threads") { Description = "Torch CPU threads.", DefaultValueFactory = _ => 1 };
var outDir = new Option<string>("--out-dir") { Description = "Folder of result files (one per method and seed) and checkpoints.", DefaultValueFactory = _ => "comparison-results" };
var data = new Option<string?>("--data") { Description = "CIFAR-10 binary folder (default: ../shared/data/cifar10/cifar-10-batches-bin above the current folder)." };
var run = new Command("run", "Run (or resume) searches; one result file per (method, seed).")
    { protocol, presets, seeds, epochs, channels, cells, batch, train, valid, archLrScale, epochValidation, betaSlope, a2mRho, hessianEvery, stopAfter, threads, outDir, data };
run.SetAction(parse =>
{
    var named = parse.GetValue(protocol) is { } pn ? SearchProtocols.Get(pn) : null;
    int e = named?.Epochs ?? parse.GetValue(epochs);
    var config = named is not null
        ? new ProxyConfig(named.Epochs, named.Channels, named.CellsPerStage, named.BatchSize, named.TrainExamples, named.ValidationExamples, double.NaN, named.EpochValidationBatches, parse.GetValue(betaSlope) ?? named.BetaDecaySlope)
        : new ProxyConfig(e, parse.GetValue(channels), parse.GetValue(cells), parse.GetValue(batch), parse.GetValue(train), parse.GetValue(valid),
            parse.GetValue(archLrScale), parse.GetValue(epochValidation), parse.GetValue(betaSlope) ?? 0.5 * 50.0 / e);
    var settings = new RunSettings(config, named, parse.GetValue(hessianEvery), parse.GetValue(a2mRho));
    torch.set_num_threads(parse.GetValue(threads));
    TorchRuntime.EnsureCorrectCpuKernels();
    var names = parse.GetValue(presets)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    var seedList = ParseSeeds(parse.GetValue(seeds)!);
    var methods = names.Select(MethodPresets.Get).ToDictionary(m => settings.Label(m)); // fail before any compute
    foreach (var m in methods.Values) _ = settings.CreateOptions(m, 0);
    var store = new ResultStore(parse.GetValue(outDir)!);
    var pending = store.Pending(methods.Keys, seedList);
    Console.WriteLine($"{methods.Count * seedList.Length - pending.Count} of {methods.Count * seedList.Length} searches done in {store.Directory}; {pending.Count} to run.");
    if (pending.Count == 0) return 0;
    var images = CifarImages.Load(parse.GetValue(data) ?? Experiment.FindData(), CifarKind.Cifar10, train: true);
    using var dataset = new CifarSearchData(images, new CifarSearchDataOptions { MaxTrainExamples = config.TrainExamples, MaxValidationExamples = config.ValidExamples });
    int? stop = parse.GetValue(stopAfter);
    int epochsThisProcess = 0;
    using var cts = new CancellationTokenSource();
    var total = Stopwatch.StartNew();
    for (int i = 0; i < pending.Count; i++)
    {
        var (label, seed) = pending[i];
        string tag = $"[{i + 1}/{pending.Count}] {label} seed {seed}";
        var progress = new ConsoleProgress(p =>
        {
            if (p.CompletedEpoch is not { } r) return;
            double lambda = r.Metrics.TryGetValue(ArchitectureHessianObserver.MetricName, out var v) ? v : double.NaN;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{tag}: epoch {r.Epoch + 1}/{p.TotalEpochs} train loss {r.TrainLoss:F3} valid acc {r.ValidationAccuracy:F3} mean max p {r.MeanMaxWeight:F3} λmax {lambda:G4} {r.Duration.TotalSeconds:F0} s  {r.Genotype}  (total {total.Elapsed:hh\\:mm\\:ss})"));
            if (stop is { } k && ++epochsThisProcess >= k) cts.Cancel();
        });
        var record = Experiment.Run(methods[label], seed, settings, dataset, store.CheckpointDirectory(label, seed), progress, cts.Token);
        if (record is null)
        {
            Console.WriteLine($"{tag}: stopped after {epochsThisProcess} epoch(s) in this process; checkpoint in {store.CheckpointDirectory(label, seed)}. Rerun the same command to resume.");
            return 0;
        }
        store.Write(record);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{tag}: done → {record.Genotype} {record.TestAccuracy:F2} % (rank {record.Rank}, r1 mean {record.Radius1Mean:F2}, gap {record.Radius1Gap:F2}), mean max p {record.FinalMeanMaxWeight:F3}, {record.SecondsPerEpoch:F1} s/epoch → {store.ResultPath(label, seed)}"));
    }
    return 0;
});

var budget = new Option<int>("--budget") { Description = "Scorer calls (distinct cells scored, neighbours included) per table search.", DefaultValueFactory = _ => 100 };
var tableSeeds = new Option<string>("--seeds") { Description = "Comma-separated seeds.", DefaultValueFactory = _ => "0,1,2,3,4" };
var tableOut = new Option<string>("--out-dir") { Description = "Folder of result files.", DefaultValueFactory = _ => "comparison-results" };
var tableSearch = new Command("table-search", "NA-RS and plain RS on the NAS-Bench-201 table at the same number of scorer calls.") { budget, tableSeeds, tableOut };
tableSearch.SetAction(parse =>
{
    var store = new ResultStore(parse.GetValue(tableOut)!);
    foreach (int seed in ParseSeeds(parse.GetValue(tableSeeds)!))
        foreach (bool aware in new[] { true, false })
        {
            string label = aware ? "na-rs" : "rs";
            if (store.IsDone(label, seed)) continue;
            var record = Experiment.TableSearch(aware, seed, parse.GetValue(budget));
            store.Write(record);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{label} seed {seed}: {record.Genotype} {record.TestAccuracy:F2} % ({record.ScorerCalls} scorer calls)"));
        }
    return 0;
});

var inputs = new Option<string[]>("--in") { Description = "Result folders, JSON files or JSON-lines files.", AllowMultipleArgumentsPerToken = true, Required = true };
var markdown = new Option<string>("--md") { Description = "Markdown file to write.", DefaultValueFactory = _ => "docs/results.md" };
var command = new Option<string>("--command") { Description = "The command line that produced the results (quoted in the report).", DefaultValueFactory = _ => "" };
var plots = new Option<string?>("--plots") { Description = "Folder for the figures (alpha-max-weight.png, alpha-hessian.png, accuracy-vs-flatness.png); none when not given." };
var report = new Command("report", "Write the markdown report (and, with --plots, the figures) from result files.") { inputs, markdown, command, plots };
report.SetAction(parse =>
{
    var records = ResultStore.ReadAll(parse.GetValue(inputs)!);
    File.WriteAllText(parse.GetValue(markdown)!, Report.Markdown(records, parse.GetValue(command)!));
    if (parse.GetValue(plots) is { } folder)
        foreach (var path in Plots.Write(folder, Report.Unique(records), Report.Order)) Console.WriteLine(path);
    return 0;
});

var probePreset = new Option<string>("--preset") { Description = "Preset name.", DefaultValueFactory = _ => "darts" };
var probeSteps = new Option<int>("--steps") { Description = "Search steps.", DefaultValueFactory = _ => 3 };
var probeBatch = new Option<int>("--batch-size") { Description = "Batch size.", DefaultValueFactory = _ => 64 };
var probeChannels = new Option<int>("--channels") { Description = "Initial channels C.", DefaultValueFactory = _ => 8 };
var probeCells = new Option<int>("--cells") { Description = "Cells per stage N.", DefaultValueFactory = _ => 1 };
var memory = new Command("memory", "Peak RSS of a few search steps of one preset (run each preset in a fresh process).") { probePreset, probeSteps, probeBatch, probeChannels, probeCells };
memory.SetAction(parse => MemoryProbe.Run(parse.GetValue(probePreset)!, parse.GetValue(probeChannels), parse.GetValue(probeCells), parse.GetValue(probeBatch), parse.GetValue(probeSteps)));

var root = new RootCommand("NasFlatness comparison experiment: method presets on NAS-Bench-201 / CIFAR-10 (CPU protocol).") { run, tableSearch, report, memory };
return root.Parse(args).Invoke();

static int[] ParseSeeds(string text) =>
    text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();

internal sealed class ConsoleProgress(Action<SearchProgress> report) : IProgress<SearchProgress>
{
    public void Report(SearchProgress value) => report(value);
}
