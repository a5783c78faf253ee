using System.CommandLine;
using System.Globalization;
using NasFlatness.Data;
using NasFlatness.Genotypes;
using NasFlatness.Landscape;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NasFlatness.Extensions.DependencyInjection;
using NasFlatness.Optimizers;
using NasFlatness.Samples;
using NasFlatness.Search;
using NasFlatness.SearchSpaces;
using NasFlatness.SearchSpaces.Nb201;
using Spectre.Console;
using TorchSharp;

namespace NasFlatness.QuickStart;

/// <summary>
/// Quick start: searches the NAS-Bench-201 space with DARTS on CIFAR-10 and looks the found cell up in
/// the NAS-Bench-201 table. The default is a CPU-sized proxy; <c>--paper</c> selects the paper configuration.
/// </summary>
public static class QuickStartApp
{
    /// <summary>The names the command line accepts (the same registry <c>AddNasFlatness</c> builds).</summary>
    private static readonly NasFlatnessRegistry Registry = new NasFlatnessRegistry().AddBuiltInSearchSpaces().AddBuiltInMethods();

    /// <summary>Exit code for invalid input (bad option, missing data, malformed arch string).</summary>
    public const int BadInput = SampleCli.BadInput;

    /// <summary>Runs the program; returns the process exit code.</summary>
    public static int Run(string[] args)
    {
        if (Console.IsOutputRedirected)
        {
            // Redirected output (a file, a pipe, a test): plain lines to the current Console.Out, none wrapped.
            AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(Console.Out), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No,
            });
            AnsiConsole.Console.Profile.Width = 400;
        }
        var data = SampleCli.Cifar10DataOption();
        var optimizer = new Option<string?>("--optimizer") { Description = "Architecture optimizer: " + string.Join(", ", Registry.Optimizers.Names) + " (default darts-1st, or the --method preset's)." };
        var method = new Option<string?>("--method") { Description = "A method preset instead of --optimizer: " + string.Join(", ", MethodPresets.Names) + ". A preset also sets the batch size, learning rates, warm-up and selection rule its paper used." };
        var paper = new Option<bool>("--paper") { Description = "Paper configuration: C=16, N=5, batch 64, 50 epochs, 25k/25k images (hours on CPU; use --device cuda)." };
        var epochs = new Option<int?>("--epochs") { Description = "Search epochs (proxy default 10, paper 50)." };
        var channels = new Option<int?>("--channels") { Description = "Initial channels C (proxy 8, paper 16)." };
        var cells = new Option<int?>("--cells") { Description = "Cells per stage N (proxy 1, paper 5)." };
        var batch = new Option<int?>("--batch-size") { Description = "Batch size (default 64, or the --method preset's; a value given here wins over the preset's)." };
        var warmup = new Option<int?>("--warmup") { Description = "Epochs without α updates (default 0, or the --method preset's; a value given here wins)." };
        var threads = new Option<int?>("--threads") { Description = "libtorch CPU threads (default libtorch's choice; 1 is fastest for small networks on small machines)." };
        var trainExamples = new Option<int?>("--train-examples") { Description = "Images of the weight-training split (proxy 2560, paper 25000)." };
        var validExamples = new Option<int?>("--valid-examples") { Description = "Images of the validation split (proxy 2560, paper 25000)." };
        var archLr = new Option<double?>("--arch-lr") { Description = "Adam learning rate of α (default 3e-4, or the --method preset's; a value given here wins)." };
        var seed = new Option<int>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 0 };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Folder for per-epoch checkpoints; an interrupted search resumes from it." };
        var table = new Option<string?>("--table") { Description = "NAS-Bench-201 table CSV (default: the table built into NasFlatness.Landscape)." };
        var lookup = new Option<string?>("--lookup") { Description = "Only look an arch string up in the table (no search)." };

        var root = new RootCommand("NasFlatness quick start: DARTS on NAS-Bench-201 / CIFAR-10, then the table accuracy of the found cell.")
        {
            data, optimizer, method, paper, epochs, channels, cells, batch, warmup, threads, trainExamples, validExamples, archLr, seed, device, checkpoint, table, lookup,
        };
        root.SetAction((parse, cancellationToken) =>
            SampleCli.Guard(() =>
            {
                if (parse.GetValue(lookup) is not null)
                {
                    // --lookup only reads the table: a search flag beside it would be silently ignored.
                    Option[] searchFlags = [data, optimizer, method, paper, epochs, channels, cells, batch, warmup, threads, trainExamples, validExamples, archLr, seed, device, checkpoint];
                    var ignored = searchFlags.Where(f => parse.GetResult(f) is { Implicit: false }).Select(f => f.Name).ToArray();
                    if (ignored.Length > 0)
                        throw new ArgumentException($"--lookup only looks an arch string up in the table and would ignore {string.Join(", ", ignored)}; remove {(ignored.Length > 1 ? "them" : "it")}, or drop --lookup to search.");
                }
                var nb201 = LoadTable(parse.GetValue(table));
                if (parse.GetValue(lookup) is { } arch)
                {
                    PrintLookup(nb201, Nb201Genotype.Parse(arch));
                    return 0;
                }
                bool isPaper = parse.GetValue(paper);
                var config = new Configuration(
                    DataFolder: parse.GetValue(data) ?? SampleCli.FindDefaultCifar10(),
                    Optimizer: parse.GetValue(optimizer),
                    Method: parse.GetValue(method),
                    Epochs: parse.GetValue(epochs) ?? (isPaper ? 50 : 10),
                    Channels: parse.GetValue(channels) ?? (isPaper ? 16 : 8),
                    Cells: parse.GetValue(cells) ?? (isPaper ? 5 : 1),
                    BatchSize: parse.GetValue(batch),
                    WarmupEpochs: parse.GetValue(warmup),
                    Threads: parse.GetValue(threads),
                    TrainExamples: parse.GetValue(trainExamples) ?? (isPaper ? 25_000 : 2_560),
                    ValidExamples: parse.GetValue(validExamples) ?? (isPaper ? 25_000 : 2_560),
                    ArchitectureLearningRate: parse.GetValue(archLr),
                    Seed: parse.GetValue(seed),
                    Device: parse.GetValue(device)!,
                    Checkpoint: parse.GetValue(checkpoint));
                return Search(config, nb201, cancellationToken);
            }, "cancelled: the search stopped; run the same command again to resume from the last checkpoint (--checkpoint)."));
        return SampleCli.Invoke(root, args);
    }

    /// <summary>Images in each half of the CIFAR-10 training set (the weight-training and the validation split).</summary>
    private const int CifarHalf = 25_000;

    private sealed record Configuration(
        string DataFolder, string? Optimizer, string? Method, int Epochs, int Channels, int Cells, int? BatchSize, int? WarmupEpochs, int? Threads,
        int TrainExamples, int ValidExamples, double? ArchitectureLearningRate, int Seed, string Device, string? Checkpoint);

    private static string Invariant(IFormattable value) => value.ToString(null, CultureInfo.InvariantCulture);

    private static int Search(Configuration c, Nb201Table nb201, CancellationToken cancellationToken)
    {
        // Everything is validated before the data is read or a tensor is made: the runner is composed
        // through AddNasFlatness, whose options are validated at start.
        if (c.Optimizer is not null && !Registry.Optimizers.Contains(c.Optimizer))
            throw new ArgumentException($"--optimizer '{c.Optimizer}' is not known; expected one of {Registry.Optimizers.KnownNames()}.");
        // The settings go through configuration, so that a value given on the command line counts as explicit and wins over the
        // preset's (docs/configuration.md), even where it equals the default (--batch-size 64 with pc-darts's 256).
        var settings = new Dictionary<string, string?>
        {
            ["Optimizer"] = c.Optimizer,
            ["Method"] = c.Method,
            ["Nb201:Channels"] = Invariant(c.Channels),
            ["Nb201:CellsPerStage"] = Invariant(c.Cells),
            ["Search:Epochs"] = Invariant(c.Epochs),
            ["Search:Seed"] = Invariant(c.Seed),
            ["Search:Device"] = c.Device,
            ["Search:CheckpointDirectory"] = c.Checkpoint,
        };
        if (c.BatchSize is int b) settings["Search:BatchSize"] = Invariant(b);
        if (c.WarmupEpochs is int w) settings["Search:WarmupEpochs"] = Invariant(w);
        if (c.ArchitectureLearningRate is double lr) settings["Search:ArchitectureLearningRate"] = Invariant(lr);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings.Where(kv => kv.Value is not null)).Build();
        if (c.Threads is < 1) throw new ArgumentException($"--threads {c.Threads} is invalid: must be at least 1.");
        using var services = new ServiceCollection().AddNasFlatness(configuration).Services.BuildServiceProvider();
        try
        {
            services.GetRequiredService<IStartupValidator>().Validate();
        }
        catch (OptionsValidationException ex)
        {
            throw new ArgumentException(string.Join(" ", ex.Failures));
        }
        var runner = services.GetRequiredService<SearchRunner>();
        var optimizer = services.GetRequiredService<IArchitectureOptimizer>();
        var options = runner.Options;
        if (c.TrainExamples < 1 || c.TrainExamples > CifarHalf)
            throw new ArgumentException($"--train-examples {c.TrainExamples} is invalid: must be in 1..{CifarHalf} (half of the CIFAR-10 training set).");
        if (c.ValidExamples < 1 || c.ValidExamples > CifarHalf)
            throw new ArgumentException($"--valid-examples {c.ValidExamples} is invalid: must be in 1..{CifarHalf} (the other half of the CIFAR-10 training set).");
        if (c.Device.StartsWith("cuda", StringComparison.Ordinal) && !torch.cuda.is_available())
            throw new ArgumentException($"--device {ErrorText.Echo(c.Device)} was requested but CUDA is not available on this machine; use --device cpu (or install a CUDA build of TorchSharp).");
        if (!Directory.Exists(c.DataFolder))
            throw new DirectoryNotFoundException($"--data folder '{c.DataFolder}' does not exist; pass the CIFAR-10 binary version folder (cifar-10-batches-bin).");

        if (c.Threads is int threadCount) torch.set_num_threads(threadCount);
        if (c.Method is not null && options.WarmupEpochs >= options.Epochs)
            AnsiConsole.MarkupLine(Markup.Escape($"warning: the preset's warm-up covers all {options.Epochs} epochs ({c.Method} warms up for {Registry.Presets.Get(c.Method).Settings.WarmupEpochs} of its paper's 50), so α will not move; give --warmup or more --epochs."));
        AnsiConsole.MarkupLine($"[bold]NAS-Bench-201 search[/] with [green]{Markup.Escape(c.Method ?? optimizer.Name)}[/]: C={c.Channels}, N={c.Cells}, batch {options.BatchSize}, {c.Epochs} epochs, " +
                               $"{c.TrainExamples:N0}+{c.ValidExamples:N0} images, seed {c.Seed}, device {c.Device}");
        var images = CifarImages.Load(c.DataFolder, CifarKind.Cifar10, train: true);
        using var data = new CifarSearchData(images, new CifarSearchDataOptions
        {
            MaxTrainExamples = c.TrainExamples,
            MaxValidationExamples = c.ValidExamples,
            Device = c.Device,
        });

        SearchResult result = null!;
        try
        {
            if (AnsiConsole.Profile.Capabilities.Interactive)
            {
                AnsiConsole.Progress().AutoClear(false).Columns(
                        new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                    .Start(ctx =>
                    {
                        var task = ctx.AddTask("searching", maxValue: c.Epochs);
                        result = runner.Run(data, new SyncProgress<SearchProgress>(p =>
                        {
                            task.Value = p.Epoch + (double)p.Step / p.StepsPerEpoch;
                            task.Description = string.Create(CultureInfo.InvariantCulture, $"epoch {p.Epoch + 1}/{p.TotalEpochs} loss {p.TrainLoss:F3}");
                            if (p.CompletedEpoch is { } e) PrintEpoch(e, nb201);
                        }), cancellationToken);
                    });
            }
            else
            {
                result = runner.Run(data, new SyncProgress<SearchProgress>(p =>
                {
                    if (p.CompletedEpoch is { } e) PrintEpoch(e, nb201);
                }), cancellationToken);
            }
        }
        catch (InvalidOperationException ex) when (c.Checkpoint is not null && ex.Message.Contains(nameof(SearchOptions.ResumeFromCheckpoint), StringComparison.Ordinal))
        {
            // The library names its option; say it in this command line's words too.
            throw new InvalidOperationException($"{ex.Message} With the quick start: pass another --checkpoint folder, or delete '{c.Checkpoint}' to start over.", ex);
        }

        var final = result.GetGenotype<Nb201Genotype>();
        AnsiConsole.WriteLine();
        AnsiConsole.MarkupLine($"[bold]Final genotype[/] (epoch {result.SelectedEpoch + 1}, {result.Selection}, {result.Duration.TotalSeconds:F0} s): {Markup.Escape(final.ToString())}");
        PrintLookup(nb201, final);
        return 0;
    }

    private static void PrintEpoch(EpochRecord e, Nb201Table nb201)
    {
        var g = e.Genotype;
        double acc = nb201.Get(g).Cifar10TestAccuracy;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"epoch {e.Epoch + 1,3}  train loss {e.TrainLoss:F4}  train acc {e.TrainAccuracy:P1}  valid loss {e.ValidationLoss:F4}  valid acc {e.ValidationAccuracy:P1}  " +
            $"max softmax(α) {e.MeanMaxWeight:F3}  {e.Duration.TotalSeconds:F1} s  genotype {g}  (NB201 C10 {acc:F2})"));
    }

    private static void PrintLookup(Nb201Table nb201, Nb201Genotype genotype)
    {
        var r = nb201.Get(genotype);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"NAS-Bench-201 #{r.Index} {genotype}: CIFAR-10 test {r.Cifar10TestAccuracy:F2}%, CIFAR-100 test {r.Cifar100TestAccuracy:F2}%, ImageNet16-120 test {r.ImageNet16TestAccuracy:F2}%"));
    }

    private static Nb201Table LoadTable(string? path)
    {
        if (path is null) return Nb201Table.Embedded;
        if (!File.Exists(path)) throw new FileNotFoundException($"--table file '{path}' does not exist.", path);
        return Nb201Table.Load(path);
    }
}
