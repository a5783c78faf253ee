using System.CommandLine;
using System.Globalization;
using NasFlatness.Genotypes;
using NasFlatness.Optimizers;
using NasFlatness.Search;
using NasFlatness.SearchSpaces;

namespace NasFlatness.Cli;

/// <summary>What a search needs, as the user gave it (null: not given).</summary>
internal sealed record SearchRequest
{
    public string Space { get; init; } = SpaceNames.Nb201;
    public string? Method { get; init; }
    public string? Optimizer { get; init; }
    public IReadOnlyList<string> Regularizers { get; init; } = [];
    public string? Activation { get; init; }
    public string? Schedule { get; init; }
    public string Dataset { get; init; } = "cifar10";
    public string? DataFolder { get; init; }
    public int Epochs { get; init; } = SearchArguments.DefaultEpochs;
    public int TrainExamples { get; init; } = SearchArguments.DefaultExamples;
    public int ValidExamples { get; init; } = SearchArguments.DefaultExamples;
    public int? BatchSize { get; init; }
    public int Channels { get; init; } = SearchArguments.DefaultChannels;
    public int Cells { get; init; } = SearchArguments.DefaultCells;
    public double? ArchitectureLearningRate { get; init; }
    public double? WeightLearningRate { get; init; }
    public int? WarmupEpochs { get; init; }
    public int? ValidationBatches { get; init; }
    public string Device { get; init; } = "cpu";
    public int Seed { get; init; }
    public int? Threads { get; init; }
    public string? Checkpoint { get; init; }
    /// <summary>Start over in the checkpoint folder instead of resuming what is there (<c>--fresh</c>).</summary>
    public bool Fresh { get; init; }
    public string? Output { get; init; }
    /// <summary>The named protocol whose sizes and derived α-lr filled the values not given (null: none).</summary>
    public string? Protocol { get; init; }
    // Sharpness-aware weight step of the search (--weight-sharpness sam|asam|none, --weight-rho).
    public string? WeightSharpness { get; init; }
    public double? WeightRho { get; init; }
    /// <summary>First epoch of the ZO-DARTS++ space's kernel and depth mixtures (null: the space's 20 of 50 epochs, scaled to the run).</summary>
    public int? SwitchEpoch { get; init; }
    /// <summary>Measure the dominant eigenvalue of ∇²_α L_val every this many epochs (null: not measured).</summary>
    public int? AlphaHessianEvery { get; init; }
}

/// <summary>The options of <c>search</c> (and the budget options <c>compare</c> shares).</summary>
internal sealed class SearchArguments
{
    public const int DefaultEpochs = 10, DefaultExamples = 2560, DefaultChannels = 8, DefaultCells = 1;

    /// <summary>Cells per stage of a <c>nas-bench-201-varied</c> search when <c>--cells</c> is not given (α_exit then chooses 1 or 2).</summary>
    public const int DefaultVariedCells = 2;

    /// <summary>The protocol a NAS-Bench-201 search uses when <c>--protocol</c> is not given.</summary>
    public const string DefaultProtocol = "quick-nb201";

    private static readonly NasFlatnessRegistry Names = new NasFlatnessRegistry().AddBuiltInSearchSpaces().AddBuiltInMethods();

    /// <summary>"a (what a is), b (…)": every name of a catalog with its description, for help texts generated from the registry.</summary>
    private static string Listed<T>(ComponentCatalog<T> catalog) where T : class =>
        string.Join("; ", catalog.Names.Select(n => catalog.Describe(n) is { } d ? $"{n} ({d})" : n));

    private static string ProtocolDefaults(Func<SearchProtocol, object> value) =>
        string.Join(", ", SearchProtocols.All.Where(p => SearchProtocols.DefaultFor(p.Space) == p).Select(p => $"{p.Name} {value(p)}"));

    public Option<string> Space { get; } = new("--space") { Description = "Search space: " + Listed(Names.SearchSpaces) + ".", DefaultValueFactory = _ => SpaceNames.Nb201 };
    public Option<string?> Method { get; } = new("--method") { Description = "Method preset (sets optimizer, regularizers, activation, schedule, batch size, learning rates, warm-up, selection rule as its paper did; 'nasflatness presets' shows each): " + string.Join(", ", Names.Presets.Names) + "." };
    public Option<string?> Optimizer { get; } = new("--optimizer") { Description = "Architecture optimizer instead of a preset: " + Listed(Names.Optimizers) + ". Default darts-1st." };
    public Option<string[]> Regularizer { get; } = new("--regularizer") { Description = "Flatness or constraint regularizer to add (repeatable): " + Listed(Names.Regularizers) + ".", AllowMultipleArgumentsPerToken = false };
    public Option<string?> Activation { get; } = new("--activation") { Description = "Activation of α: " + Listed(Names.Activations) + ". Default softmax, or the preset's." };
    public Option<string?> Schedule { get; } = new("--schedule") { Description = "Architecture-update schedule: " + Listed(Names.Schedules) + ". Default every-step, or the preset's." };
    public Option<string> Dataset { get; } = new("--dataset") { Description = "cifar10 or medmnist:<file.npz>.", DefaultValueFactory = _ => "cifar10" };
    public Option<string?> Data { get; } = new("--data") { Description = "Folder of the data (CIFAR-10 binary version, or the folder holding the .npz); default shared/data above the current folder." };
    // Sizes have no fixed default: the space's protocol fills what is not given, so the help states what will run.
    public Option<int?> Epochs { get; } = new("--epochs") { Description = $"Search epochs. Default: the protocol's ({ProtocolDefaults(p => p.Epochs)}); {DefaultEpochs} without one." };
    public Option<int?> TrainExamples { get; } = new("--train-examples") { Description = $"Images of the weight-training split. Default: the protocol's ({ProtocolDefaults(p => p.TrainExamples)}); {DefaultExamples} without one." };
    public Option<int?> ValidExamples { get; } = new("--valid-examples") { Description = $"Images of the α (validation) split. Default: the protocol's ({ProtocolDefaults(p => p.ValidationExamples)}); {DefaultExamples} without one." };
    public Option<int?> BatchSize { get; } = new("--batch-size") { Description = $"Batch size. Default: the protocol's ({ProtocolDefaults(p => p.BatchSize)}); the preset's or 64 without one. An explicit value wins over both." };
    public Option<int?> Channels { get; } = new("--channels") { Description = $"Initial channels C of the supernet (paper 16). Default: the protocol's ({ProtocolDefaults(p => p.Channels)}); {DefaultChannels} without one." };
    public Option<int?> Cells { get; } = new("--cells") { Description = $"Cells: per stage N for nas-bench-201 and nas-bench-201-varied (paper 5 and 3), in total for darts (paper 8). Default: the protocol's ({ProtocolDefaults(p => p.CellsPerStage)}); {DefaultVariedCells} for nas-bench-201-varied; {DefaultCells} otherwise." };
    public Option<int?> SwitchEpoch { get; } = new("--switch-epoch") { Description = "nas-bench-201-varied only: first (zero-based) epoch of the kernel and depth mixtures and of the ZO-DARTS++ budget penalty. Default: the code's 20 of 50 epochs scaled to --epochs (round(20 × epochs / 50))." };
    public Option<double?> ArchLr { get; } = new("--arch-lr") { Description = "Adam learning rate of α. Default: derived by the protocol (paper α-lr × paper α steps / α steps here); the preset's or 3e-4 without one. An explicit value wins." };
    public Option<double?> WeightLr { get; } = new("--weight-lr") { Description = "Initial SGD learning rate of the weights (default 0.025, or the preset's)." };
    public Option<int?> Warmup { get; } = new("--warmup") { Description = "Epochs without α updates. Default: the preset's scaled by epochs / 50 under a protocol; the preset's or 0 without one." };
    public Option<int?> ValidationBatches { get; } = new("--validation-batches") { Description = $"Validation batches evaluated at each epoch end. Default: the protocol's ({ProtocolDefaults(p => p.EpochValidationBatches)}); the whole split without one." };
    public Option<string> Device { get; } = new("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
    public Option<string?> Protocol { get; } = new("--protocol")
    {
        Description = "Named search protocol that fills every size option not given (channels, cells, images, batch, epochs, validation batches, warm-up) and derives the α learning rate from the paper's (lr × α steps as in the paper; docs/protocol.md): " +
            string.Join(", ", SearchProtocols.All.Select(p => $"{p.Name} ({p.Space})")) + ", or none. Default: " +
            string.Join(", ", SearchProtocols.All.Where(p => SearchProtocols.DefaultFor(p.Space) == p).Select(p => $"{p.Name} for {p.Space}")) + ", none for other spaces. An option given explicitly wins.",
    };
    public Option<int> Seed { get; } = new("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 0 };
    public Option<int?> Threads { get; } = new("--threads") { Description = "libtorch CPU threads (default libtorch's choice)." };
    public Option<string?> Checkpoint { get; } = new("--checkpoint") { Description = "Folder for per-epoch checkpoints; an interrupted search resumes from it." };
    public Option<bool> Fresh { get; } = new("--fresh") { Description = "With --checkpoint: start over instead of resuming the checkpoint in the folder (it is replaced epoch by epoch)." };
    public Option<string?> Output { get; } = new("--output", "-o") { Description = "Folder for manifest.json, alpha.png, epochs.jsonl (default results/<command>-<time>)." };
    public Option<string?> WeightSharpness { get; } = new("--weight-sharpness") { Description = "Sharpness-aware weight step of the search: none (plain SGD, default), sam or asam (two passes: gradient at w, then at w + ε; docs/flatnas.md)." };
    public Option<int?> AlphaHessianEvery { get; } = new("--alpha-hessian-every") { Description = "Record the dominant eigenvalue of the Hessian of the validation loss w.r.t. α (the DARTS-collapse indicator) every this many epochs and at the last (1 = every epoch; costs 1 + (α entries) backward passes per measurement; default: not measured)." };
    public Option<double?> WeightRho { get; } = new("--weight-rho") { Description = "Radius ρ of the sharpness-aware weight step (default 0.05; FlatNAS's ASAM uses 2)." };

    /// <summary>Adds the options to <paramref name="command"/>; <paramref name="composition"/> false leaves out the method/component options (compare has its own),
    /// <paramref name="output"/> false leaves out --output (plan has its own).</summary>
    public void AddTo(Command command, bool composition = true, bool checkpoint = true, bool output = true)
    {
        command.Options.Add(Space);
        if (composition)
        {
            command.Options.Add(Method);
            command.Options.Add(Optimizer);
            command.Options.Add(Regularizer);
            command.Options.Add(Activation);
            command.Options.Add(Schedule);
        }
        foreach (var o in new Option[] { Protocol, Dataset, Data, Epochs, TrainExamples, ValidExamples, BatchSize, Channels, Cells, SwitchEpoch, ArchLr, WeightLr, Warmup, ValidationBatches, Device, Seed, Threads, WeightSharpness, WeightRho, AlphaHessianEvery })
            command.Options.Add(o);
        if (checkpoint)
        {
            command.Options.Add(Checkpoint);
            command.Options.Add(Fresh);
        }
        if (output) command.Options.Add(Output);
    }

    public SearchRequest Read(ParseResult p) => ApplyProtocol(p, ReadGiven(p));

    private SearchRequest ReadGiven(ParseResult p) => new()
    {
        Space = p.GetValue(Space)!,
        Method = p.GetValue(Method),
        Optimizer = p.GetValue(Optimizer),
        Regularizers = p.GetValue(Regularizer) ?? [],
        Activation = p.GetValue(Activation),
        Schedule = p.GetValue(Schedule),
        Dataset = p.GetValue(Dataset)!,
        DataFolder = p.GetValue(Data),
        Epochs = p.GetValue(Epochs) ?? DefaultEpochs,
        TrainExamples = p.GetValue(TrainExamples) ?? DefaultExamples,
        ValidExamples = p.GetValue(ValidExamples) ?? DefaultExamples,
        BatchSize = p.GetValue(BatchSize),
        Channels = p.GetValue(Channels) ?? DefaultChannels,
        Cells = p.GetValue(Cells) ?? (p.GetValue(Space) == SpaceNames.ZoDartsPlusPlus ? DefaultVariedCells : DefaultCells),
        SwitchEpoch = p.GetValue(SwitchEpoch),
        ArchitectureLearningRate = p.GetValue(ArchLr),
        WeightLearningRate = p.GetValue(WeightLr),
        WarmupEpochs = p.GetValue(Warmup),
        ValidationBatches = p.GetValue(ValidationBatches),
        Device = p.GetValue(Device)!,
        Seed = p.GetValue(Seed),
        Threads = p.GetValue(Threads),
        Checkpoint = p.GetValue(Checkpoint),
        Fresh = p.GetResult(Fresh) is not null && p.GetValue(Fresh),
        Output = p.GetValue(Output),
        WeightSharpness = p.GetValue(WeightSharpness),
        WeightRho = p.GetValue(WeightRho),
        AlphaHessianEvery = p.GetValue(AlphaHessianEvery),
    };

    /// <summary>
    /// Fills the sizes the user did not give from the protocol (<c>--protocol</c>, or the space's default protocol,
    /// <see cref="SearchProtocols.DefaultFor"/>): channels, cells, images, batch, epochs, validation batches.
    /// <see cref="SearchJob.Resolve"/> then derives the warm-up and α learning rate per method (it knows the preset).
    /// </summary>
    private SearchRequest ApplyProtocol(ParseResult p, SearchRequest r)
    {
        string? name = p.GetValue(Protocol);
        if (name is not null && string.Equals(name, "none", StringComparison.OrdinalIgnoreCase)) return r;
        SearchProtocol? protocol;
        if (name is null) protocol = SearchProtocols.DefaultFor(r.Space);
        else if (!SearchProtocols.TryGet(name, out protocol))
            throw new CliInputException($"--protocol '{ErrorText.Echo(name)}' is invalid: expected one of {string.Join(", ", SearchProtocols.Names)} or none.");
        if (protocol is null) return r;
        if (!string.Equals(r.Space, protocol.Space, StringComparison.OrdinalIgnoreCase))
            throw new CliInputException($"--protocol {protocol.Name} is a {protocol.Space} protocol; --space {r.Space} needs --protocol none (or no --protocol).");
        bool Given(Option o) => p.GetResult(o) is { Implicit: false };
        var filled = r with
        {
            Protocol = protocol.Name,
            Channels = Given(Channels) ? r.Channels : protocol.Channels,
            Cells = Given(Cells) ? r.Cells : protocol.CellsPerStage,
            TrainExamples = Given(TrainExamples) ? r.TrainExamples : protocol.TrainExamples,
            ValidExamples = Given(ValidExamples) ? r.ValidExamples : protocol.ValidationExamples,
            Epochs = Given(Epochs) ? r.Epochs : protocol.Epochs,
            BatchSize = r.BatchSize ?? protocol.BatchSize,
            ValidationBatches = r.ValidationBatches ?? protocol.EpochValidationBatches,
        };
        return filled;
    }

    /// <summary>A default output folder: <c>results/&lt;kind&gt;-yyyyMMdd-HHmmss</c>.</summary>
    public static string DefaultOutput(string kind) =>
        Path.Combine("results", kind + "-" + DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
}
