using NasFlatness.Advanced;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using NasFlatness;
using NasFlatness.Comparison;
using NasFlatness.Data;
using NasFlatness.Genotypes;
using NasFlatness.Landscape;
using NasFlatness.Optimizers;
using NasFlatness.Search;
using NasFlatness.SearchSpaces.Nb201;
using TorchSharp;

// Comparison experiment: every method preset on NAS-Bench-201 / CIFAR-10 at a CPU proxy, several seeds, final genotypes
// looked up in the NAS-Bench-201 table. `run` appends one JSON line per search; `report` writes the markdown table.
var presets = new Option<string>("--presets") { Description = "Comma-separated preset names (default: all).", DefaultValueFactory = _ => string.Join(",", MethodPresets.Names) };
var seeds = new Option<string>("--seeds") { Description = "Comma-separated seeds.", DefaultValueFactory = _ => "0,1" };
var epochs = new Option<int>("--epochs") { Description = "Search epochs (paper 50).", DefaultValueFactory = _ => 10 };
var channels = new Option<int>("--channels") { Description = "Initial channels C (paper 16).", DefaultValueFactory = _ => 8 };
var cells = new Option<int>("--cells") { Description = "Cells per stage N (paper 5).", DefaultValueFactory = _ => 1 };
var batch = new Option<int>("--batch-size") { Description = "Batch size for every method (paper 64; PC-DARTS 256).", DefaultValueFactory = _ => 64 };
var train = new Option<int>("--train-examples") { Description = "Weight-training images (paper 25000).", DefaultValueFactory = _ => 960 };
var valid = new Option<int>("--valid-examples") { Description = "Validation images (paper 25000).", DefaultValueFactory = _ => 960 };
var archLrScale = new Option<double>("--arch-lr-scale") { Description = "Multiplier on every preset's α learning rate.", DefaultValueFactory = _ => 100 };
var epochValidation = new Option<int>("--epoch-validation-batches") { Description = "Batches of the end-of-epoch supernet validation.", DefaultValueFactory = _ => 4 };
var betaSlope = new Option<double?>("--beta-slope") { Description = "β-decay λ per epoch (default: 0.5·50/epochs, the code's 50-epoch ramp compressed to the proxy length)." };
var threads = new Option<int>("--threads") { Description = "Torch CPU threads.", DefaultValueFactory = _ => 1 };
var output = new Option<string>("--out") { Description = "JSON-lines file to append results to.", DefaultValueFactory = _ => "comparison.jsonl" };
var data = new Option<string?>("--data") { Description = "CIFAR-10 binary folder (default: ../shared/data/cifar10/cifar-10-batches-bin above the current folder)." };
var run = new Command("run", "Run searches and append results.") { presets, seeds, epochs, channels, cells, batch, train, valid, archLrScale, epochValidation, betaSlope, threads, output, data };
run.SetAction(parse =>
{
    var config = new ProxyConfig(parse.GetValue(epochs), parse.GetValue(channels), parse.GetValue(cells), parse.GetValue(batch),
        parse.GetValue(train), parse.GetValue(valid), parse.GetValue(archLrScale), parse.GetValue(epochValidation),
        parse.GetValue(betaSlope) ?? 0.5 * 50.0 / parse.GetValue(epochs));
    torch.set_num_threads(parse.GetValue(threads));
    TorchRuntime.EnsureCorrectCpuKernels();
    var names = parse.GetValue(presets)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    var seedList = parse.GetValue(seeds)!.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
    var methods = names.Select(MethodPresets.Get).ToArray(); // fail before any compute
    var images = CifarImages.Load(parse.GetValue(data) ?? Experiment.FindData(), CifarKind.Cifar10, train: true);
    using var dataset = new CifarSearchData(images, new CifarSearchDataOptions { MaxTrainExamples = config.TrainExamples, MaxValidationExamples = config.ValidExamples });
    foreach (int seed in seedList)
        foreach (var preset in methods)
        {
            var record = Experiment.Run(preset, seed, config, dataset);
            File.AppendAllText(parse.GetValue(output)!, JsonSerializer.Serialize(record) + Environment.NewLine);
            Console.WriteLine($"{record.Preset} seed {seed}: {record.Genotype} → {record.TestAccuracy:F2} % (last epoch {record.LastEpochTestAccuracy:F2} %), " +
                              $"max softmax {record.FinalMeanMaxWeight:F3}, {record.SecondsPerEpoch:F1} s/epoch, peak RSS {record.PeakRssMiB:F0} MiB");
        }
    return 0;
});

var inputs = new Option<string[]>("--in") { Description = "JSON-lines result files.", AllowMultipleArgumentsPerToken = true, Required = true };
var markdown = new Option<string>("--md") { Description = "Markdown file to write.", DefaultValueFactory = _ => "docs/results.md" };
var command = new Option<string>("--command") { Description = "The command line that produced the results (quoted in the report).", DefaultValueFactory = _ => "" };
var report = new Command("report", "Write the markdown report from result files.") { inputs, markdown, command };
report.SetAction(parse =>
{
    var records = parse.GetValue(inputs)!.SelectMany(File.ReadAllLines).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<RunRecord>(l)!).ToList();
    File.WriteAllText(parse.GetValue(markdown)!, Report.Markdown(records, parse.GetValue(command)!));
    return 0;
});

var probePreset = new Option<string>("--preset") { Description = "Preset name.", DefaultValueFactory = _ => "darts" };
var probeSteps = new Option<int>("--steps") { Description = "Search steps.", DefaultValueFactory = _ => 3 };
var probeBatch = new Option<int>("--batch-size") { Description = "Batch size.", DefaultValueFactory = _ => 64 };
var probeChannels = new Option<int>("--channels") { Description = "Initial channels C.", DefaultValueFactory = _ => 8 };
var probeCells = new Option<int>("--cells") { Description = "Cells per stage N.", DefaultValueFactory = _ => 1 };
var memory = new Command("memory", "Peak RSS of a few search steps of one preset (run each preset in a fresh process).") { probePreset, probeSteps, probeBatch, probeChannels, probeCells };
memory.SetAction(parse => MemoryProbe.Run(parse.GetValue(probePreset)!, parse.GetValue(probeChannels), parse.GetValue(probeCells), parse.GetValue(probeBatch), parse.GetValue(probeSteps)));

var root = new RootCommand("NasFlatness comparison experiment: method presets on NAS-Bench-201 / CIFAR-10 (CPU proxy).") { run, report, memory };
return root.Parse(args).Invoke();
