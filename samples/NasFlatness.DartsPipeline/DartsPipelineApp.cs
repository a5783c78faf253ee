using System.CommandLine;
using System.Globalization;
using NasFlatness.Samples;
using NasFlatness.Data;
using NasFlatness.Evaluation;
using NasFlatness.Genotypes;
using NasFlatness.Optimizers;
using NasFlatness.Search;
using NasFlatness.SearchSpaces.Darts;
using TorchSharp;

namespace NasFlatness.DartsPipeline;

/// <summary>
/// DARTS-space pipeline on CIFAR-10: search (DARTS first order, optionally the PC-DARTS supernet) → derive the
/// genotype → train the evaluation network from scratch (cutout, drop-path, auxiliary head) → report test
/// accuracy, parameters and MACs. The default is a CPU-sized proxy that finishes in a few minutes;
/// <c>--paper</c> selects the papers' configuration (GPU-days).
/// </summary>
public static class DartsPipelineApp
{
    /// <summary>Exit code for invalid input (bad option, missing data, malformed genotype).</summary>
    public const int BadInput = SampleCli.BadInput;

    /// <summary>Runs the program; returns the process exit code.</summary>
    public static int Run(string[] args)
    {
        var data = SampleCli.Cifar10DataOption();
        var paper = new Option<bool>("--paper") { Description = "Paper configuration: search C=16, 8 cells, 25k/25k images, 50 epochs; evaluation C=36, 20 cells, 50k images, 600 epochs (GPU-days; use --device cuda)." };
        var pcDarts = new Option<bool>("--pc-darts") { Description = "Search with the PC-DARTS supernet (partial channels K=4, edge normalisation)." };
        var genotype = new Option<string?>("--genotype") { Description = "Skip the search and evaluate this genotype: a published name (DARTS_V1, DARTS_V2, PC_DARTS) or Genotype(...) text." };
        var searchEpochs = new Option<int?>("--search-epochs") { Description = "Search epochs (proxy 1, paper 50)." };
        var trainEpochs = new Option<int?>("--train-epochs") { Description = "Evaluation training epochs (proxy 2, paper 600)." };
        var searchImages = new Option<int?>("--search-images") { Description = "Images of each search split (proxy 128, paper 25000)." };
        var trainImages = new Option<int?>("--train-images") { Description = "Training images of the evaluation (proxy 512, paper 50000)." };
        var testImages = new Option<int?>("--test-images") { Description = "Test images (proxy 1000, paper 10000)." };
        var seed = new Option<int>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 0 };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
        var threads = new Option<int?>("--threads") { Description = "libtorch CPU threads (CPU proxy default 1: many tiny kernels run faster on one thread; paper default: libtorch's choice)." };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Folder for per-epoch checkpoints (search/ and evaluation/ inside); an interrupted run resumes from it." };

        var root = new RootCommand("NasFlatness DARTS pipeline: search → derive → train → report on CIFAR-10.")
        {
            data, paper, pcDarts, genotype, searchEpochs, trainEpochs, searchImages, trainImages, testImages, seed, device, threads, checkpoint,
        };
        root.SetAction((parse, cancellationToken) =>
            SampleCli.Guard(() =>
            {
                bool isPaper = parse.GetValue(paper);
                var config = new Configuration(
                    DataFolder: parse.GetValue(data),
                    Paper: isPaper,
                    PcDarts: parse.GetValue(pcDarts),
                    Genotype: parse.GetValue(genotype),
                    SearchEpochs: parse.GetValue(searchEpochs) ?? (isPaper ? 50 : 1),
                    TrainEpochs: parse.GetValue(trainEpochs) ?? (isPaper ? 600 : 2),
                    SearchImages: parse.GetValue(searchImages) ?? (isPaper ? 25_000 : 128),
                    TrainImages: parse.GetValue(trainImages) ?? (isPaper ? 50_000 : 512),
                    TestImages: parse.GetValue(testImages) ?? (isPaper ? 10_000 : 1_000),
                    Seed: parse.GetValue(seed),
                    Device: parse.GetValue(device)!,
                    Threads: parse.GetValue(threads) ?? (isPaper ? null : 1),
                    Checkpoint: parse.GetValue(checkpoint));
                return Pipeline(config, cancellationToken);
            }, "cancelled: run the same command again to resume from the last checkpoint (--checkpoint).", stripParameterName: true));
        return SampleCli.Invoke(root, args);
    }

    private sealed record Configuration(
        string? DataFolder, bool Paper, bool PcDarts, string? Genotype, int SearchEpochs, int TrainEpochs,
        int SearchImages, int TrainImages, int TestImages, int Seed, string Device, int? Threads, string? Checkpoint);

    private static int Pipeline(Configuration c, CancellationToken cancellationToken)
    {
        // Validate everything before the data is read or a tensor is made.
        if (c.SearchEpochs < 1) throw new ArgumentException($"--search-epochs {c.SearchEpochs} is invalid: must be at least 1.");
        if (c.TrainEpochs < 1) throw new ArgumentException($"--train-epochs {c.TrainEpochs} is invalid: must be at least 1.");
        if (c.SearchImages < 1 || c.SearchImages > 25_000) throw new ArgumentException($"--search-images {c.SearchImages} is invalid: must be in 1..25000 (each half of the CIFAR-10 training set).");
        if (c.TrainImages < 1 || c.TrainImages > 50_000) throw new ArgumentException($"--train-images {c.TrainImages} is invalid: must be in 1..50000.");
        if (c.TestImages < 1 || c.TestImages > 10_000) throw new ArgumentException($"--test-images {c.TestImages} is invalid: must be in 1..10000.");
        if (c.Threads is < 1) throw new ArgumentException($"--threads {c.Threads} is invalid: must be at least 1.");
        if (c.Device.StartsWith("cuda", StringComparison.Ordinal) && !torch.cuda.is_available())
            throw new ArgumentException($"--device {c.Device}: CUDA is not available on this machine (this sample references the CPU backend; use --device cpu).");
        DartsGenotype? given = c.Genotype is null ? null
            : c.Genotype.TrimStart().StartsWith("Genotype", StringComparison.Ordinal) ? DartsGenotype.Parse(c.Genotype) : DartsGenotype.FromName(c.Genotype);
        string folder = c.DataFolder ?? SampleCli.FindDefaultCifar10();
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"--data folder '{folder}' does not exist; pass the CIFAR-10 binary version folder (cifar-10-batches-bin).");

        var spaceOptions = new DartsSpaceOptions
        {
            Channels = c.Paper ? 16 : 8,
            Cells = c.Paper ? 8 : 5,
            PartialChannels = c.PcDarts ? 4 : 1,
            EdgeNormalization = c.PcDarts,
            NetworkChannels = c.Paper ? 36 : 8,
            NetworkCells = c.Paper ? 20 : 5,
        };
        var space = new DartsSearchSpace(spaceOptions);
        var searchOptions = new SearchOptions
        {
            Epochs = c.SearchEpochs,
            BatchSize = c.Paper ? (c.PcDarts ? 256 : 64) : 32,
            Seed = c.Seed,
            Device = c.Device,
            CheckpointDirectory = c.Checkpoint is null ? null : Path.Combine(c.Checkpoint, "search"),
            ArchitectureLearningRate = c.Paper ? (c.PcDarts ? 6e-4 : 3e-4) : 3e-2,
            WeightLearningRate = c.Paper && c.PcDarts ? 0.1 : 0.025,
            WeightLearningRateMin = c.Paper && c.PcDarts ? 0.0 : 0.001,
            WarmupEpochs = c.Paper && c.PcDarts ? 15 : 0,
            EpochValidationBatches = c.Paper ? null : 2,
        };
        var evaluationOptions = new EvaluationOptions
        {
            Epochs = c.TrainEpochs,
            BatchSize = c.Paper ? 96 : 64,
            LearningRate = c.Paper ? 0.025 : 0.05,
            Seed = c.Seed,
            Device = c.Device,
            CheckpointDirectory = c.Checkpoint is null ? null : Path.Combine(c.Checkpoint, "evaluation"),
        };
        var runner = given is null ? new SearchRunner(space, new DartsFirstOrder(), options: searchOptions) : null;
        var trainer = new EvaluationTrainer(evaluationOptions);

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"DARTS pipeline ({(c.Paper ? "paper" : "CPU proxy")}): search {(c.PcDarts ? "PC-DARTS" : "DARTS")} C={spaceOptions.Channels}, {spaceOptions.Cells} cells, {c.SearchEpochs} epoch(s), {c.SearchImages:N0}+{c.SearchImages:N0} images; " +
            $"evaluation C={spaceOptions.NetworkChannels}, {spaceOptions.NetworkCells} cells, {c.TrainEpochs} epoch(s), {c.TrainImages:N0} train / {c.TestImages:N0} test images; seed {c.Seed}, device {c.Device}"));
        if (c.Threads is int n) torch.set_num_threads(n);
        var train = CifarImages.Load(folder, CifarKind.Cifar10, train: true);
        var test = CifarImages.Load(folder, CifarKind.Cifar10, train: false);

        // 1. Search and 2. derive.
        DartsGenotype found;
        if (given is not null)
        {
            found = given;
            Console.WriteLine($"search skipped: evaluating {found}");
        }
        else
        {
            using var searchData = new CifarSearchData(train, new CifarSearchDataOptions { MaxTrainExamples = c.SearchImages, MaxValidationExamples = c.SearchImages, Device = c.Device });
            var search = runner!.Run(searchData, new SyncProgress<SearchProgress>(p =>
            {
                if (p.CompletedEpoch is { } e)
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"search epoch {e.Epoch + 1,3}: train loss {e.TrainLoss:F4}, acc {e.TrainAccuracy:P1}, valid loss {e.ValidationLoss:F4}, acc {e.ValidationAccuracy:P1}, max softmax(α) {e.MeanMaxWeight:F3}, {e.Duration.TotalSeconds:F1} s"));
            }), cancellationToken);
            found = (DartsGenotype)search.Genotype;
            Console.WriteLine($"derived genotype (epoch {search.SelectedEpoch + 1}, {search.Duration.TotalSeconds:F0} s): {found}");
        }

        // 3. Train the evaluation network from scratch.
        torch.manual_seed(c.Seed);
        using var network = space.CreateDartsNetwork(found, DatasetInfo.Cifar10);
        var size = NetworkSize.Measure(network, [1, 3, 32, 32]);
        using var evaluationData = new CifarClassificationData(train, test, new CifarClassificationDataOptions { MaxTrainExamples = c.TrainImages, MaxTestExamples = c.TestImages, Device = c.Device });
        var result = trainer.Train(network, evaluationData, new SyncProgress<EvaluationProgress>(p =>
        {
            if (p.CompletedEpoch is { } e)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"train epoch {e.Epoch + 1,3}: lr {e.LearningRate:F4}, drop-path {e.DropPathProbability:F3}, loss {e.TrainLoss:F4}, acc {e.TrainAccuracy:P1}{(e.TestAccuracy is double t ? $", test acc {t:P2}" : "")}, {e.Duration.TotalSeconds:F1} s"));
        }), cancellationToken);

        // 4. Report.
        Console.WriteLine();
        Console.WriteLine($"genotype:   {found}");
        Console.WriteLine($"network:    {size}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"test:       top-1 {result.TestAccuracy:P2}, loss {result.TestLoss:F4} on {c.TestImages:N0} CIFAR-10 test images"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"training:   {result.Epochs.Count} epoch(s), {result.Duration.TotalSeconds:F0} s on {result.Device}"));
        return 0;
    }
}
