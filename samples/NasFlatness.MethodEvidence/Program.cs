using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using NasFlatness;
using NasFlatness.Advanced;
using NasFlatness.Data;
using NasFlatness.Evaluation;
using NasFlatness.MethodEvidence;
using NasFlatness.Search;
using TorchSharp;

// Evidence for the zeroth-order and constrained methods (issue 14): NAS-Bench-201 proxy searches (darts, zo-darts, zo-darts+,
// darts+prox, darts-prime, zo-darts+ under parameter budgets) and a MedMNIST ZO-DARTS+ search whose found cell is trained.
// Every run writes one JSON file per (experiment, method, seed) into --out-dir when it finishes; a killed search resumes from
// its per-epoch checkpoint, and rerunning the same command skips finished runs. `report` prints the markdown tables.
var methods = new Option<string>("--methods") { Description = "Comma-separated methods: preset names, or preset@0.4M for a parameter budget [0, 0.4 M].", DefaultValueFactory = _ => "darts,zo-darts,zo-darts+,darts+prox,darts-prime" };
var seeds = new Option<string>("--seeds") { Description = "Comma-separated seeds.", DefaultValueFactory = _ => "0,1,2" };
var outDir = new Option<string>("--out-dir") { Description = "Folder of result files and checkpoints.", DefaultValueFactory = _ => "method-evidence" };
var data = new Option<string?>("--data") { Description = "CIFAR-10 binary folder (default: shared/data/cifar10/cifar-10-batches-bin above the current folder)." };
var stopAfter = new Option<int?>("--stop-after-epochs") { Description = "Stop (checkpointed) after this many epochs in this process; rerun to resume." };

var nb201 = new Command("nb201", "NAS-Bench-201 / CIFAR-10 searches at the quick-nb201 protocol (one search-cell BN setting for all: batch statistics).") { methods, seeds, outDir, data, stopAfter };
nb201.SetAction(parse =>
{
    Setup();
    var specs = Split(parse.GetValue(methods)!).Select(MethodSpec.Parse).ToArray(); // fail before compute
    var seedList = Seeds(parse.GetValue(seeds)!);
    var size = Experiments.QuickNb201();
    var store = new EvidenceStore(parse.GetValue(outDir)!);
    var pending = seedList.SelectMany(s => specs.Select(m => (m, s))).Where(p => !store.IsDone(size.Experiment, p.m.Label, p.s)).ToArray();
    Console.WriteLine($"{specs.Length * seedList.Length - pending.Length} of {specs.Length * seedList.Length} runs done in {store.Directory}; {pending.Length} to run.");
    if (pending.Length == 0) return 0;
    var protocol = NasFlatness.Optimizers.SearchProtocols.QuickNb201;
    var images = CifarImages.Load(parse.GetValue(data) ?? FindData(Path.Combine("cifar10", "cifar-10-batches-bin")), CifarKind.Cifar10, train: true);
    using var dataset = new CifarSearchData(images, new CifarSearchDataOptions { MaxTrainExamples = protocol.TrainExamples, MaxValidationExamples = protocol.ValidationExamples });
    return RunSearches(pending, size, dataset, store, parse.GetValue(stopAfter), null);
});

var dataset = new Option<string>("--dataset") { Description = "MedMNIST set: pneumoniamnist or breastmnist.", DefaultValueFactory = _ => "pneumoniamnist" };
var medMethods = new Option<string>("--methods") { Description = "Comma-separated presets.", DefaultValueFactory = _ => "zo-darts+" };
var medSeeds = new Option<string>("--seeds") { Description = "Comma-separated seeds.", DefaultValueFactory = _ => "0" };
var searchEpochs = new Option<int>("--search-epochs") { Description = "Search epochs.", DefaultValueFactory = _ => 10 };
var searchBatch = new Option<int>("--search-batch") { Description = "Search batch (the code: PneumoniaMNIST 32, BreastMNIST 16).", DefaultValueFactory = _ => 32 };
var searchTrain = new Option<int>("--search-train-examples") { Description = "Weight-training images of the search (official train split, capped).", DefaultValueFactory = _ => 1280 };
var searchValid = new Option<int>("--search-valid-examples") { Description = "α images (official validation split, capped).", DefaultValueFactory = _ => 512 };
var searchChannels = new Option<int>("--search-channels") { Description = "Supernet C.", DefaultValueFactory = _ => 8 };
var searchCells = new Option<int>("--search-cells") { Description = "Supernet N.", DefaultValueFactory = _ => 1 };
var evalChannels = new Option<int>("--eval-channels") { Description = "Trained network C.", DefaultValueFactory = _ => 16 };
var evalCells = new Option<int>("--eval-cells") { Description = "Trained network N.", DefaultValueFactory = _ => 1 };
var evalEpochs = new Option<int>("--eval-epochs") { Description = "Training epochs of the found network.", DefaultValueFactory = _ => 8 };
var evalBatch = new Option<int>("--eval-batch") { Description = "Training batch.", DefaultValueFactory = _ => 64 };
var medOut = new Option<string>("--out-dir") { Description = "Folder of result files and checkpoints.", DefaultValueFactory = _ => "method-evidence" };
var medmnist = new Command("medmnist", "A search on a MedMNIST set, then training of the found cell (test accuracy).")
    { dataset, medMethods, medSeeds, searchEpochs, searchBatch, searchTrain, searchValid, searchChannels, searchCells, evalChannels, evalCells, evalEpochs, evalBatch, medOut, stopAfter };
medmnist.SetAction(parse =>
{
    Setup();
    string name = parse.GetValue(dataset)!.ToLowerInvariant();
    var specs = Split(parse.GetValue(medMethods)!).Select(MethodSpec.Parse).ToArray();
    var seedList = Seeds(parse.GetValue(medSeeds)!);
    var medData = MedMnistData.Load(FindData(Path.Combine("medmnist", name + ".npz")));
    (int paperBatch, string what) = name switch { "pneumoniamnist" => (32, ""), "breastmnist" => (16, ""), _ => (64, " (unknown paper batch; 64 assumed)") };
    var size = Experiments.MedMnist(name, parse.GetValue(searchChannels), parse.GetValue(searchCells), parse.GetValue(searchEpochs), parse.GetValue(searchBatch),
        Math.Min(parse.GetValue(searchTrain), medData.Train.Count), medData.Train.Count, paperBatch);
    var store = new EvidenceStore(parse.GetValue(medOut)!);
    var pending = seedList.SelectMany(s => specs.Select(m => (m, s))).Where(p => !store.IsDone(size.Experiment, p.m.Label, p.s)).ToArray();
    Console.WriteLine($"{name}{what}: {medData.Train.Count}/{medData.Validation.Count}/{medData.Test.Count} images, {medData.Info.Channels} channel(s), {medData.ClassCount} classes; {pending.Length} run(s) to do.");
    if (pending.Length == 0) return 0;
    using var searchData = new MedMnistSearchData(medData, new MedMnistSearchDataOptions { MaxTrainExamples = parse.GetValue(searchTrain), MaxValidationExamples = parse.GetValue(searchValid) });
    return RunSearches(pending, size, searchData, store, parse.GetValue(stopAfter), (record, token) =>
    {
        var training = new EvaluationOptions
        {
            Epochs = parse.GetValue(evalEpochs),
            BatchSize = parse.GetValue(evalBatch),
            LearningRate = 0.05,
            LearningRateMin = 0,
            WeightDecay = 5e-4,
            DropPathProbability = 0,
            TestEveryEpoch = true,
            Seed = record.Seed,
            CheckpointDirectory = store.CheckpointDirectory(size.Experiment, record.Method, record.Seed, "train"),
        };
        Console.WriteLine($"  training {record.Genotype} (C={parse.GetValue(evalChannels)}, N={parse.GetValue(evalCells)}, {training.Epochs} epochs) ...");
        return Experiments.TrainFound(record, medData, parse.GetValue(evalChannels), parse.GetValue(evalCells), training, token);
    });
});

var inputs = new Option<string[]>("--in") { Description = "Result folders or JSON files.", AllowMultipleArgumentsPerToken = true, Required = true };
var report = new Command("report", "Print the markdown tables (mean ± sample std over seeds).") { inputs };
report.SetAction(parse =>
{
    Console.Write(Report.Markdown(EvidenceStore.ReadAll(parse.GetValue(inputs)!)));
    return 0;
});

var proxyEpochs = new Option<int>("--epochs") { Description = "Search epochs.", DefaultValueFactory = _ => 6 };
var proxyImages = new Option<int>("--images") { Description = "Images in each split.", DefaultValueFactory = _ => 640 };
var proxySeed = new Option<int>("--seed") { Description = "Seed.", DefaultValueFactory = _ => 0 };
var proxyRound = new Option<int>("--round") { Description = "Weight steps per ZO round (R).", DefaultValueFactory = _ => 5 };
var proxyOut = new Option<string?>("--out") { Description = "Text file each line is appended to as it is printed." };
var zoProxy = new Command("zo-proxy", "The short NB201 proxy comparison of docs/methods-zo.md: darts-1st vs zo-darts vs zo-darts+ (minutes of CPU).")
{
    proxyEpochs, proxyImages, proxySeed, proxyRound, proxyOut, data,
};
zoProxy.SetAction(parse =>
{
    var images = CifarImages.Load(parse.GetValue(data) ?? FindData(Path.Combine("cifar10", "cifar-10-batches-bin")), CifarKind.Cifar10, train: true);
    ZeroOrderProxy.Run(images, parse.GetValue(proxyEpochs), parse.GetValue(proxyImages), parse.GetValue(proxySeed), parse.GetValue(proxyRound), parse.GetValue(proxyOut));
    return 0;
});

var root = new RootCommand("NasFlatness method evidence for issue 14: ZO-DARTS(+), parameter budgets, DARTS-PRIME, MedMNIST.") { nb201, medmnist, report, zoProxy };
return root.Parse(args).Invoke();

static void Setup()
{
    torch.set_num_threads(1);
    TorchRuntime.EnsureCorrectCpuKernels();
}

static int RunSearches((MethodSpec Method, int Seed)[] pending, SearchSize size, ISearchDataset data, EvidenceStore store, int? stop,
    Func<EvidenceRecord, CancellationToken, EvidenceRecord?>? after)
{
    using var cts = new CancellationTokenSource();
    int epochsThisProcess = 0;
    var total = Stopwatch.StartNew();
    for (int i = 0; i < pending.Length; i++)
    {
        var (spec, seed) = pending[i];
        string tag = $"[{i + 1}/{pending.Length}] {size.Experiment} {spec.Label} seed {seed}";
        var progress = new Progress(p =>
        {
            if (p.CompletedEpoch is not { } r) return;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{tag}: epoch {r.Epoch + 1}/{p.TotalEpochs} train loss {r.TrainLoss:F3} valid loss {r.ValidationLoss:F3} acc {r.ValidationAccuracy:F3} mean max p {r.MeanMaxWeight:F3} α steps {r.ArchitectureUpdates} {r.Duration.TotalSeconds:F0} s {r.Genotype} (total {total.Elapsed:hh\\:mm\\:ss})"));
            if (stop is { } k && ++epochsThisProcess >= k) cts.Cancel();
        });
        var outcome = Experiments.Search(spec, seed, size, data, store.CheckpointDirectory(size.Experiment, spec.Label, seed), progress, cts.Token);
        if (outcome is not { } done)
        {
            Console.WriteLine($"{tag}: stopped; rerun the same command to resume.");
            return 0;
        }
        var record = done.Record;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{tag}: searched → {record.Genotype}{(double.IsNaN(record.TableCifar10Accuracy) ? "" : string.Create(CultureInfo.InvariantCulture, $" table {record.TableCifar10Accuracy:F2} %"))}, {record.Parameters:N0} params, zeros {record.ExactZeros}/{record.MixingEntries}, mean max p {record.FinalMeanMaxWeight:F3}, α steps {record.ArchitectureUpdates}, gap {record.DiscretisationGap:F3}, {record.WallSeconds:F0} s"));
        if (after is not null)
        {
            var trained = after(record, cts.Token);
            if (trained is null)
            {
                Console.WriteLine($"{tag}: training stopped; rerun to resume.");
                return 0;
            }
            record = trained;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{tag}: trained → test acc {record.TrainedTestAccuracy:F4} (best {record.TrainedBestTestAccuracy:F4}), {record.TrainingWallSeconds:F0} s"));
        }
        store.Write(record);
    }
    return 0;
}

static string FindData(string relative)
{
    var dir = new DirectoryInfo(Directory.GetCurrentDirectory());
    while (dir is not null)
    {
        var candidate = Path.Combine(dir.FullName, "shared", "data", relative);
        if (Directory.Exists(candidate) || File.Exists(candidate)) return candidate;
        dir = dir.Parent;
    }
    throw new FileNotFoundException($"shared/data/{relative} not found above the current folder.");
}

static string[] Split(string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

static int[] Seeds(string text) => Split(text).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();

internal sealed class Progress(Action<SearchProgress> report) : IProgress<SearchProgress>
{
    public void Report(SearchProgress value) => report(value);
}
