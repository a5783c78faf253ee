using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json;
using NasFlatness.Evaluation;
using NasFlatness.Genotypes;
using NasFlatness.Landscape;
using NasFlatness.Optimizers;
using NasFlatness.Reproducibility;
using NasFlatness.Search;
using NasFlatness.SearchSpaces;
using NasFlatness.SearchSpaces.Darts;
using NasFlatness.SearchSpaces.Nb201;
using NasFlatness.SearchSpaces.ZoDartsPlusPlus;
using Spectre.Console;
using TorchSharp;

namespace NasFlatness.Cli;

/// <summary>A search request resolved through the registry and validated: nothing has been read or computed yet.</summary>
internal sealed class SearchPlan
{
    public required SearchRequest Request { get; init; }
    public required SearchComposition Composition { get; init; }
    public required MethodPreset? Preset { get; init; }
    public required SearchRunner Runner { get; init; }
    public required SearchOptions Options { get; init; }
    public required DataSource Data { get; init; }

    /// <summary>The resolved component names for the manifest.</summary>
    public Dictionary<string, string> CompositionNames() => new()
    {
        ["SearchSpace"] = Runner.SearchSpace.Name,
        ["Method"] = Preset?.Name ?? "",
        ["Optimizer"] = Runner.Optimizer.Name,
        ["Regularizers"] = string.Join(",", Runner.Regularizers.Select(r => r.Name)),
        ["Activation"] = Runner.Activation.Name,
        ["Schedule"] = Runner.Schedule.Name,
        ["Reference"] = Preset?.Reference ?? "",
        ["Protocol"] = Request.Protocol ?? "",
    };
}

/// <summary>The result of <see cref="SearchJob.Run"/>.</summary>
internal sealed record SearchOutcome(SearchResult Result, RunManifest Manifest, string Folder, double? TableAccuracy, int? Rank);

/// <summary>Resolves, validates and runs one search; writes manifest.json, alpha.png and epochs.jsonl.</summary>
internal static class SearchJob
{
    private static readonly Dictionary<string, string> Flags = new(StringComparer.Ordinal)
    {
        ["SearchSpace"] = "--space", ["Method"] = "--method", ["Optimizer"] = "--optimizer", ["Regularizers"] = "--regularizer",
        ["Activation"] = "--activation", ["Schedule"] = "--schedule", ["Epochs"] = "--epochs", ["BatchSize"] = "--batch-size",
        ["ArchitectureLearningRate"] = "--arch-lr", ["WeightLearningRate"] = "--weight-lr", ["WarmupEpochs"] = "--warmup",
        ["EpochValidationBatches"] = "--validation-batches", ["Device"] = "--device", ["Channels"] = "--channels",
        ["CellsPerStage"] = "--cells", ["Cells"] = "--cells", ["SwitchEpoch"] = "--switch-epoch", ["WeightSharpnessRho"] = "--weight-rho", ["WeightSharpness"] = "--weight-sharpness",
    };

    /// <summary>Rewrites a message that starts with an options field name to name the command-line flag.</summary>
    internal static string AsFlag(string message)
    {
        foreach (var (field, flag) in Flags)
        {
            if (message.StartsWith(field + " ", StringComparison.Ordinal)) return flag + message[field.Length..];
        }
        return message;
    }

    /// <summary>Checks every name and value (registry names first) and builds the runner; reads no data.</summary>
    /// <exception cref="CliInputException">Every problem, one per sentence.</exception>
    public static SearchPlan Resolve(SearchRequest r)
    {
        var errors = new List<string>();
        var nb201 = new Nb201Options { Channels = r.Channels, CellsPerStage = r.Cells };
        var darts = new DartsSpaceOptions { Channels = r.Channels, Cells = r.Cells };
        var varied = new ZoDartsPlusPlusOptions
        {
            Channels = r.Channels, CellsPerStage = r.Cells, DerivationSeed = r.Seed,
            // The code switches at epoch 20 of 50; scaled to this run so that the mixtures and the budget penalty act in a short search.
            SwitchEpoch = r.SwitchEpoch ?? (int)Math.Round(new ZoDartsPlusPlusOptions().SwitchEpoch * (double)r.Epochs / SearchProtocol.PaperEpochs, MidpointRounding.AwayFromZero),
        };
        var registry = new NasFlatnessRegistry().AddBuiltInSearchSpaces(nb201, darts, varied).AddBuiltInMethods();
        var composition = new SearchComposition
        {
            SearchSpace = r.Space, Method = r.Method, Optimizer = r.Optimizer, Regularizers = r.Regularizers, Activation = r.Activation, Schedule = r.Schedule,
        };
        errors.AddRange(registry.Validate(composition).Select(AsFlag));
        if (errors.Count > 0) throw new CliInputException(string.Join(" ", errors));
        var preset = r.Method is null ? null : registry.Presets.Get(r.Method);

        errors.AddRange((r.Space switch
        {
            DartsSearchSpace.SpaceName => darts.Validate(),
            ZoDartsPlusPlusSearchSpace.SpaceName => varied.Validate(),
            _ => nb201.Validate(),
        }).Select(AsFlag));
        if (r.SwitchEpoch is not null && r.Space != ZoDartsPlusPlusSearchSpace.SpaceName)
            errors.Add($"--switch-epoch applies only to --space {ZoDartsPlusPlusSearchSpace.SpaceName} (the ZO-DARTS++ space), not to {r.Space}.");
        else if (r.SwitchEpoch is int switchEpoch && switchEpoch >= r.Epochs && r.Epochs >= 1)
            errors.Add($"--switch-epoch {switchEpoch} is invalid: the search has {r.Epochs} epochs (0 … {r.Epochs - 1}), so the kernel and depth mixtures would never be searched.");
        var options = new SearchOptions
        {
            Epochs = r.Epochs, Seed = r.Seed, Device = r.Device, CheckpointDirectory = r.Checkpoint, ResumeFromCheckpoint = !r.Fresh, EpochValidationBatches = r.ValidationBatches,
        };
        if (preset is not null) options = preset.Apply(options);
        // An explicit value wins over the preset's (docs/cli.md).
        if (r.BatchSize is int b) options.BatchSize = b;
        if (r.ArchitectureLearningRate is double alr) options.ArchitectureLearningRate = alr;
        if (r.WeightLearningRate is double wlr)
        {
            options.WeightLearningRate = wlr;
            options.WeightLearningRateMin = Math.Min(options.WeightLearningRateMin, wlr);
        }
        if (r.WarmupEpochs is int w) options.WarmupEpochs = w;
        // The sharpness-aware weight step (docs/flatnas.md): none, sam or asam, and its ρ.
        if (r.WeightSharpness is { } sharpness)
        {
            if (Enum.TryParse<SharpnessAwareness>(sharpness, ignoreCase: true, out var mode) && Enum.IsDefined(mode) && !int.TryParse(sharpness, out _)) options.WeightSharpness = mode;
            else errors.Add($"--weight-sharpness '{sharpness}' is invalid: expected none, sam or asam.");
        }
        if (r.WeightRho is double rho) options.WeightSharpnessRho = rho;
        if (r.Protocol is { } protocolName && options.Epochs >= 1 && r.TrainExamples >= 1 && options.BatchSize >= 1)
            DeriveFromProtocol(SearchProtocols.Get(protocolName), preset, r, options);
        var optionErrors = options.Validate();
        bool epochsInvalid = options.Epochs < 1;
        errors.AddRange(optionErrors.Where(e => !(epochsInvalid && e.StartsWith(nameof(SearchOptions.WarmupEpochs), StringComparison.Ordinal))).Select(AsFlag));
        if (r.TrainExamples < 1) errors.Add($"--train-examples {r.TrainExamples} is invalid: must be at least 1.");
        if (r.ValidExamples < 1) errors.Add($"--valid-examples {r.ValidExamples} is invalid: must be at least 1.");
        if (r.Threads is < 1) errors.Add($"--threads {r.Threads} is invalid: must be at least 1.");
        if (r.AlphaHessianEvery is < 1) errors.Add($"--alpha-hessian-every {r.AlphaHessianEvery} is invalid: must be at least 1 (leave it out to not measure).");
        if (errors.Count > 0) throw new CliInputException(string.Join(" ", errors));
        if (r.Device.StartsWith("cuda", StringComparison.Ordinal) && !torch.cuda.is_available())
            throw new CliInputException($"--device {r.Device}: CUDA is not available on this machine (this tool ships the CPU backend; use --device cpu, or run from a build that references TorchSharp-cuda-linux).");
        SearchRunner baseRunner;
        try
        {
            baseRunner = registry.CreateRunner(composition, options);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            var message = ex is ArgumentException { ParamName: { } name } a ? a.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal) : ex.Message;
            throw new CliInputException(AsFlag(message));
        }
        // Components that refuse each other (unit-clamp with β-decay, …) are named now, before any data is read.
        if (baseRunner.CompositionProblems() is { Count: > 0 } problems) throw new CliInputException(string.Join(" ", problems));
        // The data folder last: a composition that cannot run is named before the data is even looked for.
        var data = DataSource.Resolve(r.Dataset, r.DataFolder);
        // A size that cannot fit is refused before the supernet is built (CIFAR-10's image shape is known without reading it;
        // other data is checked in Run once loaded).
        if (data.Kind == "cifar10") RequireMemory(baseRunner.SearchSpace, DatasetInfo.Cifar10, options);
        return new SearchPlan { Request = r, Composition = composition, Preset = preset, Runner = baseRunner, Options = options, Data = data };
    }

    /// <summary>Refuses a search that cannot fit in the available memory, naming the flags that size it (<see cref="SupernetMemory"/>).</summary>
    private static void RequireMemory(ISearchSpace space, DatasetInfo dataset, SearchOptions options)
    {
        if (SpaceShape.Of(space) is not { } shape) return;
        SupernetMemory.Require(space, dataset, options.BatchSize, options.Device,
            string.Create(CultureInfo.InvariantCulture, $"--channels {shape.Channels} (with --cells {shape.Cells}, --batch-size {options.BatchSize})"));
    }

    /// <summary>
    /// The protocol's rule for what the user did not give: warm-up = the paper's scaled by epochs / 50, and α-lr = paper α-lr ×
    /// paper α steps / α steps of this run (the method preset's paper settings, or the DARTS defaults without a preset), so
    /// α may travel as far as in the paper (docs/protocol.md).
    /// </summary>
    private static void DeriveFromProtocol(SearchProtocol protocol, MethodPreset? preset, SearchRequest r, SearchOptions options)
    {
        var paper = preset?.Apply(new SearchOptions()) ?? new SearchOptions();
        var effective = protocol with { Epochs = options.Epochs, TrainExamples = r.TrainExamples, BatchSize = options.BatchSize };
        if (r.WarmupEpochs is null) options.WarmupEpochs = effective.WarmupEpochs(paper);
        // No α step (warm-up ≥ epochs) is left for the options' validation to report.
        if (r.ArchitectureLearningRate is null && effective.ArchitectureSteps(paper, options.WarmupEpochs) > 0)
            options.ArchitectureLearningRate = effective.ArchitectureLearningRate(paper, options.WarmupEpochs);
    }

    /// <summary>Runs the plan: reads the data, searches with progress, writes the results into <paramref name="folder"/>.</summary>
    public static SearchOutcome Run(SearchPlan plan, IReadOnlyList<string> command, string folder, CliOutput o, CancellationToken cancellationToken, string? label = null)
    {
        var r = plan.Request;
        using var planRunner = plan.Runner; // owns what the registry created (e.g. ZO-DARTS's shadow network)
        if (r.Threads is int threads) torch.set_num_threads(threads);
        var observer = new EdgeWeightObserver(plan.Runner.SearchSpace.Name);
        using var hessian = r.AlphaHessianEvery is int every ? new ArchitectureHessianObserver { EveryEpochs = every } : null;
        var runner = new SearchRunner(plan.Runner.SearchSpace, plan.Runner.Optimizer, plan.Runner.Regularizers, plan.Options, new WarningLogger<SearchRunner>(o))
        {
            Activation = plan.Runner.Activation,
            Schedule = plan.Runner.Schedule,
            Observers = hessian is null ? [observer] : [observer, hessian],
        };
        var opts = runner.Options;
        // The output folder is checked like the checkpoint folder, before the data is read: a full disk is found now, not after the search.
        OutputFolder.Prepare(folder, ResultBytes(opts.Epochs));
        var shape = SpaceShape.Of(runner.SearchSpace) ?? new SpaceShape(r.Channels, r.Cells, null, "");
        string method = plan.Preset?.Name ?? string.Join("+", new[] { runner.Optimizer.Name }.Concat(runner.Regularizers.Select(x => x.Name)));
        o.Line($"[bold]{Markup.Escape(label ?? "search")}[/] {Markup.Escape(runner.SearchSpace.Name)} with [green]{Markup.Escape(method)}[/] on {Markup.Escape(plan.Data.Name)}: " +
               Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                   $"C={shape.Channels}, cells={shape.Cells}{(shape.SwitchEpoch is int se ? $", switch at epoch {se + 1}" : "")}, batch {opts.BatchSize}, {opts.Epochs} epochs, α-lr {opts.ArchitectureLearningRate:G3}, w-lr {opts.WeightLearningRate:G3}, warm-up {opts.WarmupEpochs}, {r.TrainExamples:N0}+{r.ValidExamples:N0} images, seed {opts.Seed}, device {opts.Device}")));
        if (r.Protocol is { } protocolName) o.Line($"  protocol [italic]{Markup.Escape(protocolName)}[/] filled the sizes not given and derived the α-lr (docs/protocol.md; --protocol none for the paper's values)");
        if (plan.Preset?.Reference is { } reference) o.Line($"  preset reproduces: [italic]{Markup.Escape(reference)}[/]");
        o.Event("start", new { folder, space = runner.SearchSpace.Name, method, protocol = r.Protocol, dataset = plan.Data.Name, options = opts, reference = plan.Preset?.Reference });
        if (ArchitectureUpdates(runner, r.TrainExamples) is 0)
            o.Warning($"no α update will happen: {opts.Epochs} epochs with {opts.WarmupEpochs} of warm-up, {StepsPerEpoch(opts, r.TrainExamples)} steps per epoch and the schedule {runner.Schedule.Name}; " +
                      "raise --epochs or --train-examples, or lower --batch-size or --warmup.");

        var (data, fingerprint) = plan.Data.LoadSearch(r.TrainExamples, r.ValidExamples, opts.Device);
        using var _ = data;
        if (plan.Data.Kind != "cifar10") RequireMemory(runner.SearchSpace, data.Info, opts);
        // Table figures describe CIFAR-10 cells of this space only: a search on other data gets none (they would say nothing about it).
        Nb201Table? table = runner.SearchSpace.Name == Nb201SearchSpace.SpaceName && plan.Data.Kind == "cifar10" ? Nb201Table.Embedded : null;
        var epochsFile = Path.Combine(folder, "epochs.jsonl");
        File.Delete(epochsFile);
        Func<double[], double[]> activate = row => Activate(runner.Activation, row);

        var lineOptions = new JsonSerializerOptions { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };
        object Payload(EpochRecord e, EpochManifest entry, double? acc, double? secondsLeft) => new
        {
            epoch = e.Epoch + 1, epochs = opts.Epochs, trainLoss = e.TrainLoss, trainAccuracy = e.TrainAccuracy, validationLoss = e.ValidationLoss,
            validationAccuracy = e.ValidationAccuracy, meanMaxWeight = e.MeanMaxWeight, maxWeightPerEdge = observer.For(entry),
            genotype = e.Genotype.ToString(), nb201Cifar10 = acc, seconds = e.Duration.TotalSeconds, secondsLeft,
            alphaHessianMaxEigenvalue = e.Metrics.TryGetValue(ArchitectureHessianObserver.MetricName, out double l) ? l : (double?)null,
        };
        int epochLines = 0;
        bool appendFailed = false;

        void OnEpoch(EpochRecord e, TimeSpan left)
        {
            var entry = EpochManifest.From(e, activate);
            double? acc = table is null ? null : table.Get(e.Genotype).Cifar10TestAccuracy;
            var payload = Payload(e, entry, acc, left.TotalSeconds);
            // The epoch's line must not cost the epoch its checkpoint (the runner reports an epoch before writing it): a failed append
            // is one warning, later epochs are not appended (no line after a cut one), and the whole file is written at the end.
            if (!appendFailed)
            {
                try
                {
                    OutputFolder.Append(epochsFile, JsonSerializer.Serialize(payload, lineOptions) + "\n");
                    epochLines++;
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    appendFailed = true;
                    o.Warning($"epoch {e.Epoch + 1} could not be added to '{epochsFile}' ({ex.Message}); the search goes on (a --checkpoint is still written) and the file is written whole at the end.");
                }
            }
            o.Event("epoch", payload);
            o.Text(string.Create(CultureInfo.InvariantCulture,
                $"epoch {e.Epoch + 1,3}/{opts.Epochs}  train {e.TrainLoss:F4} ({e.TrainAccuracy:P1})  valid {e.ValidationLoss:F4} ({e.ValidationAccuracy:P1})  " +
                $"max p per edge [{string.Join(" ", observer.For(entry).Select(v => v.ToString("F3", CultureInfo.InvariantCulture)))}] mean {e.MeanMaxWeight:F3}  " +
                $"{LambdaText(e)}" +
                $"{e.Duration.TotalSeconds:F1} s, ~{left.TotalSeconds:F0} s left  {e.Genotype}{(acc is double a ? $"  (NB201 C10 {a:F2} %)" : "")}"));
        }

        SearchResult result;
        var clock = new TimeLeft();
        if (o.Interactive)
        {
            result = null!;
            o.Console.Progress().AutoClear(true).HideCompleted(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn())
                .Start(ctx =>
                {
                    var main = ctx.AddTask("starting", maxValue: opts.Epochs);
                    ProgressTask[]? edges = null;
                    observer.Changed = weights =>
                    {
                        var labels = observer.EdgeLabels(weights.Length);
                        edges ??= [.. labels.Select(l => ctx.AddTask($"  α max p  {l}", maxValue: 1.0))];
                        for (int i = 0; i < edges.Length && i < weights.Length; i++)
                        {
                            edges[i].Value = weights[i];
                            edges[i].Description = string.Create(CultureInfo.InvariantCulture, $"  α max p  {labels[i],-9} {weights[i]:F3}");
                        }
                    };
                    result = runner.Run(data, new SyncProgress<SearchProgress>(p =>
                    {
                        var left = clock.Update(p);
                        main.Value = p.Epoch + (double)p.Step / Math.Max(1, p.StepsPerEpoch);
                        main.Description = string.Create(CultureInfo.InvariantCulture, $"epoch {p.Epoch + 1}/{p.TotalEpochs}  loss {p.TrainLoss:F3}  ~{Format(left)} left");
                        if (p.CompletedEpoch is { } e) OnEpoch(e, left);
                    }), cancellationToken);
                });
        }
        else
        {
            result = runner.Run(data, new SyncProgress<SearchProgress>(p =>
            {
                var left = clock.Update(p);
                if (p.CompletedEpoch is { } e) OnEpoch(e, left);
            }), cancellationToken);
        }

        var manifest = RunManifest.FromSearch(result, opts, plan.CompositionNames(), RunEnvironment.Capture(opts.Device), activate);
        manifest.Command = [.. command];
        manifest.Dataset = fingerprint;
        manifest.Settings = new Dictionary<string, string>
        {
            ["Dataset"] = plan.Data.Name,
            ["Channels"] = shape.Channels.ToString(CultureInfo.InvariantCulture),
            ["Cells"] = shape.Cells.ToString(CultureInfo.InvariantCulture),
            ["TrainExamples"] = r.TrainExamples.ToString(CultureInfo.InvariantCulture),
            ["ValidExamples"] = r.ValidExamples.ToString(CultureInfo.InvariantCulture),
            ["SearchSpaceOptions"] = shape.OptionsJson,
            ["SupernetWeights"] = observer.SupernetWeights.ToString(CultureInfo.InvariantCulture),
        };
        double? tableAccuracy = null;
        int? rank = null;
        Nb201CellQuality? quality = null;
        if (table is not null)
        {
            manifest.TableVersion = TableVersion();
            var record = table.Get(result.Genotype);
            tableAccuracy = record.Cifar10TestAccuracy;
            rank = Rank(table, record.Cifar10TestAccuracy);
            manifest.Outcome.Metrics[OutcomeMetrics.Nb201Cifar10TestAccuracy] = record.Cifar10TestAccuracy;
            manifest.Outcome.Metrics[OutcomeMetrics.Nb201Cifar100TestAccuracy] = record.Cifar100TestAccuracy;
            manifest.Outcome.Metrics[OutcomeMetrics.Nb201ImageNet16TestAccuracy] = record.ImageNet16TestAccuracy;
            manifest.Outcome.Metrics[OutcomeMetrics.Nb201Cifar10Rank] = rank.Value;
            quality = Nb201CellQualityMeter.Embedded.Measure(result.GetGenotype<Nb201Genotype>());
            manifest.Outcome.Metrics[OutcomeMetrics.Nb201Cifar10Radius1Mean] = quality.Radius1.NeighborMean;
            manifest.Outcome.Metrics[OutcomeMetrics.Nb201Cifar10Radius1Min] = quality.Radius1.NeighborMin;
            manifest.Outcome.Metrics[OutcomeMetrics.Nb201Cifar10Radius1Gap] = quality.Radius1.Gap;
            manifest.Outcome.Metrics[OutcomeMetrics.Nb201Cifar10Radius2Mean] = quality.Radius2.NeighborMean;
            manifest.Outcome.Metrics[OutcomeMetrics.Nb201Cifar10Radius2Min] = quality.Radius2.NeighborMin;
            manifest.Outcome.Metrics[OutcomeMetrics.Nb201Cifar10Radius2Gap] = quality.Radius2.Gap;
        }
        // The search's result first (the manifest holds the genotype, every epoch and α), then what can be made again from it: a file
        // that fails after the manifest is a warning, and the command still succeeds with the results there.
        var manifestPath = Path.Combine(folder, RunManifest.FileName);
        try
        {
            manifest.Write(manifestPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"the search finished (genotype {result.Genotype}, epoch {result.SelectedEpoch + 1}), but its manifest '{manifestPath}' could not be written: {ex.Message}", ex);
        }
        if (epochLines != result.Epochs.Count || appendFailed)
        {
            // Resumed from a checkpoint (the epochs run before are in the result's history) or an append failed: the file lists every epoch.
            TryWrite(o, epochsFile, () => OutputFolder.WriteText(epochsFile, string.Concat(result.Epochs.Select(e =>
                JsonSerializer.Serialize(Payload(e, EpochManifest.From(e, activate), table?.Get(e.Genotype).Cifar10TestAccuracy, null), lineOptions) + "\n"))));
        }
        var initial = observer.Initial;
        var series = new List<double[]>();
        if (initial is not null) series.Add(initial);
        series.AddRange(manifest.Epochs.Select(observer.For));
        string? png = Path.Combine(folder, "alpha.png");
        if (!TryWrite(o, png, () => AlphaPlot.Save(png, $"{method} on {runner.SearchSpace.Name}: max mixing weight per edge", series, initial is not null, observer.EdgeLabels(series.FirstOrDefault()?.Length ?? 0))))
            png = null;
        ReportFiles.TryWriteRun(folder, o, activate);

        o.Event("result", new
        {
            genotype = result.Genotype.ToString(), selectedEpoch = result.SelectedEpoch + 1, selection = result.Selection,
            trainLoss = manifest.Outcome.TrainLoss, validationLoss = manifest.Outcome.ValidationLoss, nb201Cifar10 = tableAccuracy, nb201Rank = rank,
            nb201Size = table is null ? (int?)null : Nb201Table.ArchitectureCount, manifest = manifestPath, plot = png, seconds = result.Duration.TotalSeconds,
            neighbourhood = quality is null ? null : new
            {
                radius1 = new { mean = quality.Radius1.NeighborMean, min = quality.Radius1.NeighborMin, gap = quality.Radius1.Gap },
                radius2 = new { mean = quality.Radius2.NeighborMean, min = quality.Radius2.NeighborMin, gap = quality.Radius2.Gap },
            },
            alphaHessianMaxEigenvalue = ComparisonRow.LastMeasuredHessianEigenvalue(manifest.Epochs),
            // How far α moved: the largest mixing weight of every edge when the search (or its resumption) started, and at the end.
            initialMaxWeightPerEdge = initial,
            finalMaxWeightPerEdge = manifest.Epochs.Count > 0 ? observer.For(manifest.Epochs[^1]) : null,
        });
        o.Text("");
        o.Line($"[bold]genotype[/] (epoch {result.SelectedEpoch + 1}, {result.Selection}, {result.Duration.TotalSeconds:F0} s): {Markup.Escape(result.Genotype.ToString())}");
        if (tableAccuracy is double t)
            o.Line(string.Create(CultureInfo.InvariantCulture,
                $"[bold]NAS-Bench-201[/] CIFAR-10 test accuracy {t:F2} %, rank {rank:N0} of {Nb201Table.ArchitectureCount:N0} cells (top {100.0 * rank!.Value / Nb201Table.ArchitectureCount:F1} %)"));
        if (quality is not null)
            o.Line(string.Create(CultureInfo.InvariantCulture,
                $"[bold]neighbourhood[/] (CIFAR-10, cells 1 / 2 edits away): mean {quality.Radius1.NeighborMean:F2} / {quality.Radius2.NeighborMean:F2} %, min {quality.Radius1.NeighborMin:F2} / {quality.Radius2.NeighborMin:F2} %, gap {quality.Radius1.Gap:F2} / {quality.Radius2.Gap:F2} points"));
        o.Text($"manifest: {manifestPath}");
        if (png is not null) o.Text($"α plot:   {png}");
        return new SearchOutcome(result, manifest, folder, tableAccuracy, rank);
    }

    /// <summary>
    /// About what a search of <paramref name="epochs"/> epochs writes into its output folder, measured (docs/reliability.md): the
    /// manifest, epochs.jsonl, report.html and alpha.png grow by ~40 kB an epoch on the DARTS space (28 edges); at one epoch the
    /// five files take ~0.33 MB. With a margin for larger spaces.
    /// </summary>
    internal static long ResultBytes(int epochs) => 1_000_000 + 64_000L * Math.Max(1, epochs);

    /// <summary>Writes a file made from the already written results; a failure is one warning (the results are complete) and false.</summary>
    private static bool TryWrite(CliOutput o, string path, Action write)
    {
        try
        {
            write();
            return true;
        }
        catch (Exception ex) when (!CliApp.IsCancellation(ex) && ex is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
        {
            o.Warning($"'{path}' was not written ({ex.GetType().Name}: {ex.Message}); the search's results are complete in '{Path.Combine(Path.GetDirectoryName(path) ?? "", RunManifest.FileName)}'.");
            return false;
        }
    }

    private static int StepsPerEpoch(SearchOptions options, int trainExamples) => (trainExamples + options.BatchSize - 1) / options.BatchSize;

    /// <summary>α updates the run will make under an every-step or every-k-steps schedule; null for a schedule that decides as it goes.</summary>
    private static long? ArchitectureUpdates(SearchRunner runner, int trainExamples)
    {
        var o = runner.Options;
        int steps = StepsPerEpoch(o, trainExamples), searched = Math.Max(0, o.Epochs - o.WarmupEpochs);
        return runner.Schedule switch
        {
            EveryStepSchedule => (long)steps * searched,
            EveryKStepsSchedule k => (long)(steps / k.K) * searched,
            _ => null,
        };
    }

    /// <summary>"λmax(∇²α) v  " when the epoch measured the dominant eigenvalue of the α Hessian, else empty.</summary>
    private static string LambdaText(EpochRecord e) =>
        e.Metrics.TryGetValue(ArchitectureHessianObserver.MetricName, out double lambda) ? string.Create(CultureInfo.InvariantCulture, $"λmax(∇²α) {lambda:G4}  ") : "";

    /// <summary>1 + the number of NB201 cells with a strictly higher CIFAR-10 test accuracy.</summary>
    public static int Rank(Nb201Table table, double accuracy) => 1 + table.Records.Count(x => x.Cifar10TestAccuracy > accuracy);

    /// <summary>SHA-256 of the NB201 table embedded in NasFlatness.Landscape.</summary>
    public static string TableVersion()
    {
        var assembly = typeof(Nb201Table).Assembly;
        using var stream = assembly.GetManifestResourceStream("NasFlatness.Landscape.Data.nb201.csv.gz");
        var version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+')[0] ?? "";
        return stream is null ? "unknown" : $"NAS-Bench-201 (NasFlatness.Landscape {version}) sha256:{Convert.ToHexStringLower(SHA256.HashData(stream))}";
    }

    private static double[] Activate(IArchitectureActivation activation, double[] row)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var t = torch.tensor(row, torch.float64).unsqueeze(0);
        return activation.Activate(t).squeeze(0).to(torch.float64).data<double>().ToArray();
    }

    internal static string Format(TimeSpan t) => t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : t.ToString(@"m\:ss", CultureInfo.InvariantCulture);

    private sealed class TimeLeft
    {
        private double? _start;

        public TimeSpan Update(SearchProgress p)
        {
            double done = (p.Epoch + (double)p.Step / Math.Max(1, p.StepsPerEpoch)) / Math.Max(1, p.TotalEpochs);
            _start ??= Math.Max(0, done - 1.0 / Math.Max(1, p.StepsPerEpoch * p.TotalEpochs));
            double progressed = done - _start.Value;
            return progressed <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(p.Elapsed.TotalSeconds * (1 - done) / progressed);
        }
    }
}

/// <summary>Records the largest mixing weight of every edge: at the start and after every α step (for the live bars).</summary>
internal sealed class EdgeWeightObserver(string spaceName) : ISearchObserver
{
    /// <summary>Max weight per edge when the search (or its resumption) started.</summary>
    public double[]? Initial { get; private set; }

    /// <summary>Called with the new max weights after each α step (only when set).</summary>
    public Action<double[]>? Changed { get; set; }

    /// <summary>Elements of the supernet's weight parameters (α and β excluded), counted when the search starts.</summary>
    public long SupernetWeights { get; private set; }

    public void OnEpochStarting(EpochStart epoch)
    {
        _supernet = epoch.Supernet;
        _activation = epoch.Activation;
        if (Initial is null)
        {
            SupernetWeights = epoch.Supernet.WeightParameters().Sum(w => w.numel());
            Initial = Measure(epoch.Supernet, _activation);
            Changed?.Invoke(Initial);
        }
    }

    public void OnArchitectureStepped(ArchitectureStep step)
    {
        _supernet = step.Supernet;
        _activation = step.Activation;
        if (Changed is { } changed) changed(Measure(step.Supernet, _activation));
    }

    /// <summary>Max weight per edge at the end of each epoch this process ran, by zero-based epoch.</summary>
    public Dictionary<int, double[]> PerEpoch { get; } = [];

    public void OnEpochCompleted(EpochRecord record)
    {
        if (_supernet is { } supernet) PerEpoch[record.Epoch] = Measure(supernet, _activation);
    }

    /// <summary>The epoch's max weight per edge: this observer's measurement, or for an epoch run before a resume the manifest's.</summary>
    public double[] For(EpochManifest epoch) => PerEpoch.TryGetValue(epoch.Epoch, out var w) ? w : epoch.MaxWeightPerEdge;

    private Supernet? _supernet;
    private IArchitectureActivation _activation = SoftmaxActivation.Instance;

    private static double[] Measure(Supernet supernet, IArchitectureActivation activation)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var weights = supernet.MixingWeights(supernet.ArchitectureParameters(), activation);
        // Operation mixtures only: PC-DARTS's edge-normalisation vectors β are 1-D. Tensors not searched yet (ZO-DARTS++ before its
        // switch) are kept, at their initial weights, so that every epoch has the same edges.
        return [.. weights.Where(w => w.dim() == 2)
            .SelectMany(w => w.detach().max(1).values.to(torch.float64).cpu().data<double>().ToArray())];
    }

    /// <summary>Edge names: <c>1←0</c> … for NAS-Bench-201, <c>normal k</c>/<c>reduce k</c> for DARTS.</summary>
    public IReadOnlyList<string> EdgeLabels(int count)
    {
        if (spaceName == Nb201SearchSpace.SpaceName && count == Nb201Genotype.Edges.Length)
            return [.. Nb201Genotype.Edges.Select(e => $"{e.To}←{e.From}")];
        if (spaceName == DartsSearchSpace.SpaceName && count % 2 == 0)
            return [.. Enumerable.Range(0, count).Select(i => i < count / 2 ? $"normal {i}" : $"reduce {i - count / 2}")];
        return [.. Enumerable.Range(0, count).Select(i => $"edge {i}")];
    }
}

/// <summary>The size of a built-in search space as built (channels, cells, ZO-DARTS++ switch epoch) and its options as JSON, for headers and manifests.</summary>
internal sealed record SpaceShape(int Channels, int Cells, int? SwitchEpoch, string OptionsJson)
{
    /// <summary>The shape of a built-in space; null for another space.</summary>
    public static SpaceShape? Of(ISearchSpace space) => space switch
    {
        Nb201SearchSpace s => new(s.Options.Channels, s.Options.CellsPerStage, null, Json(s.Options)),
        DartsSearchSpace s => new(s.Options.Channels, s.Options.Cells, null, Json(s.Options)),
        ZoDartsPlusPlusSearchSpace s => new(s.Options.Channels, s.Options.CellsPerStage, s.Options.SwitchEpoch, Json(s.Options)),
        _ => null,
    };

    private static string Json<T>(T options) => JsonSerializer.Serialize(options, RunManifest.JsonOptions).ReplaceLineEndings(" ");
}

/// <summary>Synchronous progress: reports run on the working thread, in order.</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
