using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using NasFlatness.Evaluation;
using NasFlatness.Genotypes;
using NasFlatness.Landscape;
using NasFlatness.Reproducibility;
using NasFlatness.SearchSpaces.Darts;
using NasFlatness.SearchSpaces.Nb201;
using NasFlatness.SearchSpaces.ZoDartsPlusPlus;
using Spectre.Console;
using TorchSharp;

namespace NasFlatness.Cli;

/// <summary><c>nasflatness evaluate</c>: trains a genotype's network from scratch with the <see cref="EvaluationTrainer"/>.</summary>
internal static class EvaluateCommand
{
    public static Command Create(string[] args, Func<ParseResult, CliOutput> output)
    {
        var genotype = new Option<string>("--genotype", "-g") { Description = "The cell: a NAS-Bench-201 arch string, DARTS Genotype(...) text, or a published DARTS name (DARTS_V1, DARTS_V2, PC_DARTS).", Required = true };
        var dataset = new Option<string>("--dataset") { Description = "cifar10 or medmnist:<file.npz>.", DefaultValueFactory = _ => "cifar10" };
        var data = new Option<string?>("--data") { Description = "Data folder (default shared/data above the current folder)." };
        var epochs = new Option<int>("--epochs") { Description = "Training epochs (papers: 600 DARTS, 200 NAS-Bench-201).", DefaultValueFactory = _ => 2 };
        var trainExamples = new Option<int>("--train-examples") { Description = "Training images.", DefaultValueFactory = _ => 512 };
        var testExamples = new Option<int>("--test-examples") { Description = "Test images.", DefaultValueFactory = _ => 1000 };
        var batch = new Option<int>("--batch-size") { Description = "Batch size (DARTS paper 96).", DefaultValueFactory = _ => 64 };
        var lr = new Option<double>("--lr") { Description = "Initial SGD learning rate (cosine to 0; DARTS paper 0.025).", DefaultValueFactory = _ => 0.05 };
        var channels = new Option<int>("--channels") { Description = "Network channels (DARTS paper 36, NAS-Bench-201 16).", DefaultValueFactory = _ => 8 };
        var cells = new Option<int?>("--cells") { Description = "DARTS: cells in total (paper 20, default 5); NAS-Bench-201: cells per stage (paper 5, default 1)." };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
        var seed = new Option<int>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 0 };
        var threads = new Option<int?>("--threads") { Description = "libtorch CPU threads." };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Folder for per-epoch checkpoints; an interrupted run resumes." };
        var outputOption = new Option<string?>("--output", "-o") { Description = "Folder for manifest.json, network.json and the trained weights.bin (default results/evaluate-<time>)." };
        var onnx = new Option<bool>("--onnx") { Description = "Also write the trained network as model.onnx next to its weights (docs/export.md)." };
        var command = new Command("evaluate",
            "Train a genotype's network from scratch (EvaluationTrainer: SGD with cosine schedule, cutout and drop-path and the auxiliary head for DARTS networks) and report test accuracy and size; " +
            "NAS-Bench-201 cells also show their table accuracy. Writes manifest.json, the trained weights.bin and network.json (with --onnx also model.onnx).\n\n" +
            "Examples:\n  nasflatness evaluate --genotype DARTS_V2 --epochs 2 --train-examples 512\n" +
            "  nasflatness evaluate -g '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|' --channels 16 --cells 5 --epochs 200 --device cuda")
        {
            genotype, dataset, data, epochs, trainExamples, testExamples, batch, lr, channels, cells, device, seed, threads, checkpoint, outputOption, onnx,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var o = output(parse);
            Genotype g = CliGenotypes.Parse(parse.GetValue(genotype)!);
            bool nb201 = g is Nb201Genotype;
            var options = new EvaluationOptions
            {
                Epochs = parse.GetValue(epochs), BatchSize = parse.GetValue(batch), LearningRate = parse.GetValue(lr), Seed = parse.GetValue(seed),
                Device = parse.GetValue(device)!, CheckpointDirectory = parse.GetValue(checkpoint),
            };
            var errors = options.Validate().ToList();
            int nTrain = parse.GetValue(trainExamples), nTest = parse.GetValue(testExamples);
            if (nTrain < 1) errors.Add($"--train-examples {nTrain} is invalid: must be at least 1.");
            if (nTest < 1) errors.Add($"--test-examples {nTest} is invalid: must be at least 1.");
            if (parse.GetValue(threads) is < 1) errors.Add("--threads must be at least 1.");
            // A ZO-DARTS++ genotype carries its cells per stage; --cells is the supernet's N, the upper bound of those counts.
            int c = parse.GetValue(channels), n = parse.GetValue(cells) ?? (g is ZoDartsPlusPlusGenotype v ? v.CellsPerStage.Max() : nb201 ? 1 : 5);
            var space = CliGenotypes.SpaceFor(g, c, n);
            if (errors.Count > 0) throw new CliInputException(string.Join(" ", errors.Select(SearchJob.AsFlag)));
            if (options.Device.StartsWith("cuda", StringComparison.Ordinal) && !torch.cuda.is_available())
                throw new CliInputException($"--device {options.Device}: CUDA is not available on this machine.");
            var source = DataSource.Resolve(parse.GetValue(dataset), parse.GetValue(data));
            if (parse.GetValue(threads) is int t) torch.set_num_threads(t);
            var folder = parse.GetValue(outputOption) ?? SearchArguments.DefaultOutput("evaluate");
            bool exportOnnx = parse.GetValue(onnx);
            string files = "manifest.json, weights.bin, network.json" + (exportOnnx ? ", model.onnx" : "") + ", cell.svg, report.html";
            return Task.FromResult(OutputFolder.RemoveIfLeftEmpty(folder, () =>
            {
                // Writable with room for the small files before any data is read; room for the weights once the network is built.
                OutputFolder.Prepare(folder, ResultBytes(0, exportOnnx), files: files);

                var trainer = new EvaluationTrainer(options, new WarningLogger<EvaluationTrainer>(o));
                var (classification, fingerprint) = source.LoadClassification(nTrain, nTest, options.Device);
                using var _ = classification;
                space.Validate(classification.Info);
                torch.manual_seed(options.Seed);
                using var network = space.CreateNetwork(g, classification.Info);
                OutputFolder.RequireFree(folder, ResultBytes(network.parameters().Concat(network.buffers()).Sum(t => t.numel() * t.ElementSize), exportOnnx), files: files);
                o.Line($"[bold]evaluate[/] {Markup.Escape(g.ToString())}: {Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"C={c}, cells={n}, {options.Epochs} epochs, batch {options.BatchSize}, lr {options.LearningRate}, {nTrain:N0} train / {nTest:N0} test images of {source.Name}, seed {options.Seed}, device {options.Device}"))}");
                var result = trainer.Train(network, classification, new SyncProgress<EvaluationProgress>(p =>
                {
                    if (p.CompletedEpoch is not { } e) return;
                    o.Event("epoch", new { epoch = e.Epoch + 1, epochs = options.Epochs, learningRate = e.LearningRate, trainLoss = e.TrainLoss, trainAccuracy = e.TrainAccuracy, seconds = e.Duration.TotalSeconds });
                    o.Text(string.Create(CultureInfo.InvariantCulture, $"epoch {e.Epoch + 1,3}/{options.Epochs}: lr {e.LearningRate:F4}, loss {e.TrainLoss:F4}, acc {e.TrainAccuracy:P1}, {e.Duration.TotalSeconds:F1} s"));
                }), cancellationToken);

                var manifest = new RunManifest
                {
                    Kind = "evaluation",
                    Command = [.. args],
                    Environment = RunEnvironment.Capture(options.Device),
                    Seed = options.Seed,
                    Composition = new Dictionary<string, string> { ["SearchSpace"] = space.Name },
                    Settings = new Dictionary<string, string>
                    {
                        ["EvaluationOptions"] = JsonSerializer.Serialize(options, RunManifest.JsonOptions).ReplaceLineEndings(" "),
                        ["Channels"] = c.ToString(CultureInfo.InvariantCulture),
                        ["Cells"] = n.ToString(CultureInfo.InvariantCulture),
                    },
                    Dataset = fingerprint,
                    // The training curve, for the report page (no validation split: NaN).
                    Epochs = [.. result.Epochs.Select(e => new EpochManifest { Epoch = e.Epoch, TrainLoss = e.TrainLoss, TrainAccuracy = e.TrainAccuracy, ValidationLoss = double.NaN, ValidationAccuracy = double.NaN, Seconds = e.Duration.TotalSeconds })],
                    Outcome = new RunOutcome
                    {
                        Genotype = g.ToString(), SpaceName = g.SpaceName, SelectedEpoch = result.Epochs.Count - 1,
                        TrainLoss = result.Epochs.Count > 0 ? result.Epochs[^1].TrainLoss : double.NaN, ValidationLoss = result.TestLoss, Seconds = result.Duration.TotalSeconds,
                        Metrics = new Dictionary<string, double> { [OutcomeMetrics.TestAccuracy] = result.TestAccuracy, [OutcomeMetrics.Parameters] = result.ParameterCountWithoutAuxiliary },
                    },
                };
                double? tableAccuracy = null;
                if (g is Nb201Genotype cell)
                {
                    tableAccuracy = Nb201Table.Embedded.Get(cell).Cifar10TestAccuracy;
                    manifest.TableVersion = SearchJob.TableVersion();
                    manifest.Outcome.Metrics[OutcomeMetrics.Nb201Cifar10TestAccuracy] = tableAccuracy.Value;
                }
                var path = Path.Combine(folder, RunManifest.FileName);
                manifest.Write(path);
                ExportCommand.SaveEvaluation(folder, network, g, c, n, source, path, exportOnnx, o);
                ReportFiles.TryWriteRun(folder, o);
                o.Event("result", new { genotype = g.ToString(), testAccuracy = result.TestAccuracy, testLoss = result.TestLoss, parameters = result.ParameterCountWithoutAuxiliary, nb201Cifar10 = tableAccuracy, manifest = path });
                string tableText = tableAccuracy is double a ? FormattableString.Invariant($"; NAS-Bench-201 table (200 epochs, full data): {a:F2} %") : "";
                o.Line(Markup.Escape(FormattableString.Invariant(
                    $"test accuracy {result.TestAccuracy:P2} (loss {result.TestLoss:F4}) on {nTest:N0} images, {result.ParameterCountWithoutAuxiliary / 1e6:F3} M parameters, {result.Duration.TotalSeconds:F0} s") + tableText));
                o.Text($"manifest: {path}");
                return ExitCodes.Ok;
            }));
        });
        return command;
    }

    /// <summary>About what an evaluation writes: 1 MB for the manifest, network description, drawing and report, plus the weights
    /// file (and the ONNX model, which holds the same weights) for <paramref name="weightBytes"/> bytes of parameters and buffers.</summary>
    internal static long ResultBytes(long weightBytes, bool onnx) => 1_000_000 + weightBytes * (onnx ? 2 : 1);
}
