using System.Globalization;
using NasFlatness.Genotypes;
using NasFlatness.Search;

namespace NasFlatness.Optimizers;

/// <summary>
/// A named, reproducible search protocol: the supernet size, data, batch and epoch budget a comparison of method presets
/// runs at, plus the rule that turns each preset's paper settings into this budget. The architecture learning rate is
/// derived, not tuned: lr_protocol = lr_paper × (α steps of the paper run) / (α steps of the protocol run), so that the
/// product α-lr × number of α steps — the largest distance Adam can move α — equals the paper's (docs/protocol.md).
/// </summary>
public sealed record SearchProtocol
{
    /// <summary>Training images of the papers' NAS-Bench-201 search (half of the CIFAR-10 training set).</summary>
    public const int PaperTrainExamples = 25_000;

    /// <summary>Search epochs of the papers' NAS-Bench-201 search.</summary>
    public const int PaperEpochs = 50;

    /// <summary>Batch size of a preset that does not set one (DARTS' 64).</summary>
    public const int PaperDefaultBatchSize = 64;

    /// <summary>β-decay slope of the β-DARTS code (λ_t = 0.5·t over 50 epochs).</summary>
    public const double PaperBetaDecaySlope = 0.5;

    /// <summary>Protocol name (e.g. <c>cpu-nb201</c>).</summary>
    public required string Name { get; init; }

    /// <summary>Registry name of the search space the protocol is sized for.</summary>
    /// <value>Default <c>nas-bench-201</c>.</value>
    public string Space { get; init; } = SpaceNames.Nb201;

    /// <summary>One-line description.</summary>
    public required string Description { get; init; }

    /// <summary>Initial channels C of the supernet (paper 16).</summary>
    public required int Channels { get; init; }

    /// <summary>Cells: per stage N in NAS-Bench-201 (paper 5), in total in the DARTS space (paper 8).</summary>
    public required int CellsPerStage { get; init; }

    /// <summary>Weight-training images (paper 25,000).</summary>
    public required int TrainExamples { get; init; }

    /// <summary>Architecture (validation) images (paper 25,000).</summary>
    public required int ValidationExamples { get; init; }

    /// <summary>Batch size for every method (paper 64; PC-DARTS 256).</summary>
    public required int BatchSize { get; init; }

    /// <summary>Search epochs (paper 50).</summary>
    public required int Epochs { get; init; }

    /// <summary>Batches of the end-of-epoch supernet validation (selection by validation loss uses it).</summary>
    public required int EpochValidationBatches { get; init; }

    /// <summary>Steps per epoch: ⌈TrainExamples / BatchSize⌉.</summary>
    public int StepsPerEpoch => (TrainExamples + BatchSize - 1) / BatchSize;

    /// <summary>Warm-up epochs of <paramref name="preset"/> under this protocol: the paper's, scaled by Epochs / 50 and rounded.</summary>
    /// <param name="preset">The method preset.</param>
    public int WarmupEpochs(MethodPreset preset)
    {
        ArgumentNullException.ThrowIfNull(preset);
        return WarmupEpochs(preset.Apply(new SearchOptions()));
    }

    /// <summary>Warm-up epochs under this protocol of a run whose paper settings are <paramref name="paper"/> (its warm-up scaled by Epochs / 50, rounded).</summary>
    /// <param name="paper">The paper's settings (a preset applied to <c>new SearchOptions()</c>, or the DARTS defaults of <see cref="SearchOptions"/>).</param>
    public int WarmupEpochs(SearchOptions paper)
    {
        ArgumentNullException.ThrowIfNull(paper);
        return (int)Math.Round(paper.WarmupEpochs * (double)Epochs / PaperEpochs, MidpointRounding.AwayFromZero);
    }

    /// <summary>α updates of the preset's paper run: ⌈25,000 / paper batch⌉ × (50 − paper warm-up), one per step.</summary>
    /// <param name="preset">The method preset.</param>
    public static long PaperArchitectureSteps(MethodPreset preset)
    {
        ArgumentNullException.ThrowIfNull(preset);
        return PaperArchitectureSteps(preset.Apply(new SearchOptions()));
    }

    /// <summary>α updates of a paper run with the settings <paramref name="paper"/>: ⌈25,000 / batch⌉ × (50 − warm-up).</summary>
    /// <param name="paper">The paper's settings.</param>
    public static long PaperArchitectureSteps(SearchOptions paper)
    {
        ArgumentNullException.ThrowIfNull(paper);
        long steps = (PaperTrainExamples + paper.BatchSize - 1) / paper.BatchSize;
        return steps * (PaperEpochs - paper.WarmupEpochs);
    }

    /// <summary>α updates of the preset's run under this protocol: StepsPerEpoch × (Epochs − <see cref="WarmupEpochs(MethodPreset)"/>).</summary>
    /// <param name="preset">The method preset.</param>
    public long ArchitectureSteps(MethodPreset preset) => (long)StepsPerEpoch * (Epochs - WarmupEpochs(preset));

    /// <summary>α updates under this protocol of a run whose paper settings are <paramref name="paper"/>.</summary>
    /// <param name="paper">The paper's settings.</param>
    /// <param name="warmupEpochs">The run's warm-up when it is not the protocol's scaled one (e.g. given by the user); null: <see cref="WarmupEpochs(SearchOptions)"/>.</param>
    public long ArchitectureSteps(SearchOptions paper, int? warmupEpochs = null) => (long)StepsPerEpoch * (Epochs - (warmupEpochs ?? WarmupEpochs(paper)));

    /// <summary>The derived α learning rate: paper α-lr × <see cref="PaperArchitectureSteps(MethodPreset)"/> / <see cref="ArchitectureSteps(MethodPreset)"/>.</summary>
    /// <param name="preset">The method preset.</param>
    public double ArchitectureLearningRate(MethodPreset preset)
    {
        ArgumentNullException.ThrowIfNull(preset);
        return ArchitectureLearningRate(preset.Apply(new SearchOptions()), what: $"preset '{preset.Name}'");
    }

    /// <summary>
    /// The derived α learning rate of a run whose paper settings are <paramref name="paper"/> (e.g. the DARTS defaults of
    /// <see cref="SearchOptions"/> for a composition without a preset): paper α-lr × paper α steps / α steps here.
    /// </summary>
    /// <param name="paper">The paper's settings (α-lr, batch, warm-up).</param>
    /// <param name="warmupEpochs">The run's warm-up when it is not the protocol's scaled one (e.g. given by the user); null: <see cref="WarmupEpochs(SearchOptions)"/>.</param>
    /// <param name="what">How to name the run in the error (e.g. <c>preset 'darts'</c>).</param>
    /// <exception cref="InvalidOperationException">The protocol leaves no architecture step.</exception>
    public double ArchitectureLearningRate(SearchOptions paper, int? warmupEpochs = null, string what = "the search")
    {
        ArgumentNullException.ThrowIfNull(paper);
        long steps = ArchitectureSteps(paper, warmupEpochs);
        if (steps <= 0)
            throw new InvalidOperationException($"Protocol '{Name}' leaves {what} no architecture step (warm-up {warmupEpochs ?? WarmupEpochs(paper)} of {Epochs} epochs).");
        return paper.ArchitectureLearningRate * PaperArchitectureSteps(paper) / steps;
    }

    /// <summary>β-decay slope under this protocol: the code's 0.5 per epoch × 50 / Epochs, so λ reaches at each fraction of the search the value it has at that fraction of a 50-epoch run.</summary>
    public double BetaDecaySlope => PaperBetaDecaySlope * PaperEpochs / Epochs;

    /// <summary>
    /// The search options of <paramref name="preset"/> under this protocol: the preset's settings (weight lr, selection rule, …)
    /// with the protocol's epochs and batch size, the scaled warm-up and the derived α learning rate.
    /// </summary>
    /// <param name="preset">The method preset.</param>
    /// <param name="seed">The search seed.</param>
    public SearchOptions CreateOptions(MethodPreset preset, int seed)
    {
        ArgumentNullException.ThrowIfNull(preset);
        var options = preset.Apply(new SearchOptions { Epochs = Epochs, Seed = seed, EpochValidationBatches = EpochValidationBatches });
        options.BatchSize = BatchSize;
        options.WarmupEpochs = WarmupEpochs(preset);
        options.ArchitectureLearningRate = ArchitectureLearningRate(preset);
        return options;
    }

    /// <summary>Problems of the settings, each naming the field; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        void Positive(string field, int value)
        {
            if (value <= 0) errors.Add(string.Create(CultureInfo.InvariantCulture, $"{field} = {value} is invalid: must be positive."));
        }
        Positive(nameof(Channels), Channels);
        Positive(nameof(CellsPerStage), CellsPerStage);
        Positive(nameof(TrainExamples), TrainExamples);
        Positive(nameof(ValidationExamples), ValidationExamples);
        Positive(nameof(BatchSize), BatchSize);
        Positive(nameof(Epochs), Epochs);
        Positive(nameof(EpochValidationBatches), EpochValidationBatches);
        return errors;
    }
}

/// <summary>The named search protocols (docs/protocol.md).</summary>
public static class SearchProtocols
{
    /// <summary>
    /// <c>cpu-nb201</c>: NAS-Bench-201 on CIFAR-10 sized for 2 CPU cores — C = 8, N = 1, 2,500 + 2,500 images, batch 64 for
    /// every method (40 steps per epoch), 40 epochs (1,600 α steps for DARTS), end-of-epoch validation on 16 batches; α-lr
    /// derived per preset (DARTS: 3e-4 × 19,550 / 1,600 ≈ 3.67e-3), warm-up scaled by 40/50, β-decay slope 0.5·50/40.
    /// The image count is the one setting fixed by the time budget (docs/protocol.md).
    /// </summary>
    public static SearchProtocol CpuNb201 { get; } = new()
    {
        Name = "cpu-nb201",
        Description = "NAS-Bench-201 / CIFAR-10 on CPU: C = 8, N = 1, 2,500 + 2,500 images, batch 64, 40 epochs, α-lr × steps as in the paper.",
        Channels = 8,
        CellsPerStage = 1,
        TrainExamples = 2_500,
        ValidationExamples = 2_500,
        BatchSize = 64,
        Epochs = 40,
        EpochValidationBatches = 16,
    };

    /// <summary>
    /// <c>quick-nb201</c>: the command-line tool's default for NAS-Bench-201 — a first search of about two minutes on 2 cores in
    /// which α visibly moves (it does not decide: mean max p ≈ 0.37). C = 8, N = 1, 1,280 + 1,280 images, batch 64 (20 steps per epoch), 16 epochs (320 α steps for
    /// DARTS), end-of-epoch validation on 2 batches; α-lr derived as in <see cref="CpuNb201"/> (DARTS: 3e-4 × 19,550 / 320 ≈ 1.83e-2).
    /// Measured (docs/protocol.md): DARTS' mean max softmax(α) 0.200 → 0.38–0.44 (seed 0, two kernel choices), the genotype unchanged over the last 7–8 epochs.
    /// </summary>
    public static SearchProtocol QuickNb201 { get; } = new()
    {
        Name = "quick-nb201",
        Description = "First search on CPU, about 2 minutes: C = 8, N = 1, 1,280 + 1,280 images, batch 64, 16 epochs, α-lr × steps as in the paper.",
        Channels = 8,
        CellsPerStage = 1,
        TrainExamples = 1_280,
        ValidationExamples = 1_280,
        BatchSize = 64,
        Epochs = 16,
        EpochValidationBatches = 2,
    };

    /// <summary>
    /// <c>quick-darts</c>: the command-line tool's default for the DARTS space, derived the way <see cref="QuickNb201"/> is — the
    /// smallest first search in which α visibly moves: C = 8, 5 cells (reductions at cells 1 and 3), 640 + 640 images, batch 64
    /// (10 steps per epoch), 10 epochs (100 α steps for DARTS), end-of-epoch validation on 2 batches; α-lr = paper α-lr × paper α
    /// steps / α steps (DARTS: 3e-4 × 19,550 / 100 ≈ 5.87e-2), so α may travel as far as in the DARTS paper's 50-epoch search.
    /// Measured (docs/protocol.md): DARTS' mean max softmax(α) 0.125 → 0.327, about 100 s per epoch on 2 busy cores.
    /// </summary>
    public static SearchProtocol QuickDarts { get; } = new()
    {
        Name = "quick-darts",
        Space = SpaceNames.Darts,
        Description = "First DARTS-space search on CPU, about 15 minutes: C = 8, 5 cells, 640 + 640 images, batch 64, 10 epochs, α-lr × steps as in the paper.",
        Channels = 8,
        CellsPerStage = 5,
        TrainExamples = 640,
        ValidationExamples = 640,
        BatchSize = 64,
        Epochs = 10,
        EpochValidationBatches = 2,
    };

    /// <summary>Every protocol.</summary>
    public static IReadOnlyList<SearchProtocol> All { get; } = [CpuNb201, QuickNb201, QuickDarts];

    /// <summary>The protocol the command-line tool uses for <paramref name="space"/> when none is named: <c>quick-nb201</c> for
    /// <c>nas-bench-201</c>, <c>quick-darts</c> for <c>darts</c>, null for other spaces.</summary>
    public static SearchProtocol? DefaultFor(string space) =>
        All.FirstOrDefault(p => p.Name.StartsWith("quick-", StringComparison.Ordinal) && string.Equals(p.Space, space, StringComparison.OrdinalIgnoreCase));

    /// <summary>The protocol names.</summary>
    public static IReadOnlyList<string> Names { get; } = All.Select(p => p.Name).ToArray();

    /// <summary>The protocol named <paramref name="name"/> (case-insensitive).</summary>
    /// <param name="name">A protocol name (see <see cref="Names"/>).</param>
    /// <exception cref="ArgumentException">No protocol has that name (the message lists the names).</exception>
    public static SearchProtocol Get(string name) =>
        TryGet(name, out var protocol) ? protocol! : throw new ArgumentException($"Unknown search protocol '{name}'; known: {string.Join(", ", Names)}.", nameof(name));

    /// <summary>Finds the protocol named <paramref name="name"/> (case-insensitive).</summary>
    /// <param name="name">A protocol name.</param>
    /// <param name="protocol">The protocol, or null when none has that name.</param>
    /// <returns>Whether a protocol has that name.</returns>
    public static bool TryGet(string? name, out SearchProtocol? protocol)
    {
        protocol = All.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
        return protocol is not null;
    }
}
