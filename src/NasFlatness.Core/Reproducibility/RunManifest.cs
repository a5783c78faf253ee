using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using NasFlatness.Search;

namespace NasFlatness.Reproducibility;

/// <summary>
/// What a run (a search, an evaluation or a comparison) needs to be understood and repeated: the environment it ran in
/// (<see cref="RunEnvironment"/>), the command and every resolved option, the data it read
/// (<see cref="DatasetFingerprint"/>), the benchmark table version, the α history and genotype per epoch, and the final
/// losses. The <c>nasflatness</c> tool writes one as <c>manifest.json</c> beside every result and <c>reproduce</c> re-runs it;
/// code can do the same with <see cref="Write(string)"/>, <see cref="Read(string)"/> and <see cref="FromSearch"/>.
/// </summary>
/// <example>
/// <code>
/// var manifest = RunManifest.FromSearch(result, runner.Options, composition, RunEnvironment.Capture(runner.Options.Device));
/// manifest.Dataset = DatasetFingerprint.FromFiles("cifar10", files, new Dictionary&lt;string, int&gt; { ["train"] = 25_000, ["valid"] = 25_000 });
/// manifest.Write("results/manifest.json");
/// </code>
/// </example>
public sealed class RunManifest
{
    /// <summary>The manifest format version this library writes.</summary>
    public const int CurrentSchemaVersion = 1;

    /// <summary>The usual file name of a manifest.</summary>
    public const string FileName = "manifest.json";

    /// <summary>The format version of this manifest.</summary>
    /// <value>Default <see cref="CurrentSchemaVersion"/>.</value>
    public int SchemaVersion { get; set; } = CurrentSchemaVersion;

    /// <summary>What ran: <c>search</c>, <c>evaluation</c> or <c>comparison</c>.</summary>
    /// <value>Default <c>search</c>.</value>
    public string Kind { get; set; } = "search";

    /// <summary>When the run finished (UTC).</summary>
    /// <value>Default the time the manifest was created.</value>
    public DateTimeOffset CreatedUtc { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>The command line (tool arguments) that produced the run, if it came from the command-line tool.</summary>
    /// <value>Default empty.</value>
    public IReadOnlyList<string> Command { get; set; } = [];

    /// <summary>The machine and software the run used.</summary>
    /// <value>Default an empty environment.</value>
    public RunEnvironment Environment { get; set; } = new();

    /// <summary>The seed of the run.</summary>
    /// <value>Default 0.</value>
    public int Seed { get; set; }

    /// <summary>The components by registry name, after presets: <c>SearchSpace</c>, <c>Method</c>, <c>Optimizer</c>,
    /// <c>Regularizers</c>, <c>Activation</c>, <c>Schedule</c>, and <c>Reference</c> (the paper a preset reproduces).</summary>
    /// <value>Default empty.</value>
    public Dictionary<string, string> Composition { get; set; } = [];

    /// <summary>The search loop options after the preset was applied (what the runner really used), or null for runs without a search.</summary>
    /// <value>Default null.</value>
    public SearchOptions? SearchOptions { get; set; }

    /// <summary>Every other resolved setting (space shape, data budget, evaluation options), as invariant text.</summary>
    /// <value>Default empty.</value>
    public Dictionary<string, string> Settings { get; set; } = [];

    /// <summary>The data the run read, or null.</summary>
    /// <value>Default null.</value>
    public DatasetFingerprint? Dataset { get; set; }

    /// <summary>The version (SHA-256 of the embedded resource) of the benchmark table used to score genotypes, or null.</summary>
    /// <value>Default null.</value>
    public string? TableVersion { get; set; }

    /// <summary>What every epoch of the search recorded (α, max mixing weight per edge, genotype, losses).</summary>
    /// <value>Default empty.</value>
    public List<EpochManifest> Epochs { get; set; } = [];

    /// <summary>The outcome: the selected genotype and the final losses.</summary>
    /// <value>Default an empty outcome.</value>
    public RunOutcome Outcome { get; set; } = new();

    /// <summary>For a comparison: the manifests of its runs, relative to this manifest's folder.</summary>
    /// <value>Default empty.</value>
    public List<string> Runs { get; set; } = [];

    /// <summary>The JSON options the manifest is written and read with (indented, enums as text, NaN allowed).</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>Builds the manifest of a finished search: options, composition, per-epoch α history and genotypes, outcome.</summary>
    /// <param name="result">The search result.</param>
    /// <param name="options">The options the runner used (<c>runner.Options</c>, i.e. after the preset).</param>
    /// <param name="composition">The resolved component names (see <see cref="Composition"/>).</param>
    /// <param name="environment">The environment, usually <see cref="RunEnvironment.Capture"/>.</param>
    /// <param name="activation">Turns one architecture tensor's rows of logits into mixing weights (for the max weight per edge); null uses softmax.</param>
    public static RunManifest FromSearch(SearchResult result, SearchOptions options, IReadOnlyDictionary<string, string> composition,
        RunEnvironment environment, Func<double[], double[]>? activation = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(composition);
        ArgumentNullException.ThrowIfNull(environment);
        activation ??= Softmax;
        var last = result.Epochs.Count > 0 ? result.Epochs[^1] : null;
        return new RunManifest
        {
            Kind = "search",
            Environment = environment,
            Seed = options.Seed,
            Composition = new Dictionary<string, string>(composition),
            SearchOptions = options.Clone(),
            Epochs = [.. result.Epochs.Select(e => EpochManifest.From(e, activation))],
            Outcome = new RunOutcome
            {
                Genotype = result.Genotype.ToString(),
                SpaceName = result.Genotype.SpaceName,
                SelectedEpoch = result.SelectedEpoch,
                TrainLoss = last?.TrainLoss ?? double.NaN,
                ValidationLoss = last?.ValidationLoss ?? double.NaN,
                Seconds = result.Duration.TotalSeconds,
            },
        };
    }

    /// <summary>Softmax of one row (numerically stable), the default activation of <see cref="FromSearch"/>.</summary>
    internal static double[] Softmax(double[] logits)
    {
        ArgumentNullException.ThrowIfNull(logits);
        if (logits.Length == 0) return [];
        double max = logits.Max();
        var e = logits.Select(v => Math.Exp(v - max)).ToArray();
        double sum = e.Sum();
        return [.. e.Select(v => v / sum)];
    }

    /// <summary>Writes the manifest as indented JSON to <paramref name="path"/> atomically and durably (<see cref="AtomicFile"/>).</summary>
    public void Write(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        AtomicFile.WriteAllText(path, ToJson());
    }

    /// <summary>The manifest as indented JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Reads a manifest written by <see cref="Write"/>.</summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a manifest, or of a newer format version.</exception>
    public static RunManifest Read(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"The manifest '{path}' does not exist.", path);
        RunManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<RunManifest>(File.ReadAllText(path), JsonOptions);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"'{path}' is not a NasFlatness run manifest: {ex.Message}", ex);
        }
        if (manifest is null) throw new InvalidDataException($"'{path}' is not a NasFlatness run manifest (it is empty).");
        if (manifest.SchemaVersion > CurrentSchemaVersion)
            throw new InvalidDataException($"'{path}' has manifest format {manifest.SchemaVersion}; this library reads up to {CurrentSchemaVersion}. Update NasFlatness.");
        return manifest;
    }
}

/// <summary>One epoch of a search in a <see cref="RunManifest"/>.</summary>
public sealed class EpochManifest
{
    /// <summary>Zero-based epoch.</summary>
    public int Epoch { get; set; }

    /// <summary>The genotype derived at the end of the epoch.</summary>
    public string Genotype { get; set; } = "";

    /// <summary>Every architecture tensor at the end of the epoch, as rows (edges) of logits.</summary>
    public IReadOnlyList<double[][]> Alpha { get; set; } = [];

    /// <summary>The largest mixing weight of each edge (rows of every architecture tensor, in order).</summary>
    public double[] MaxWeightPerEdge { get; set; } = [];

    /// <summary>Mean of <see cref="MaxWeightPerEdge"/> under the search's activation, as the runner measured it.</summary>
    public double MeanMaxWeight { get; set; }

    /// <summary>Mean training cross-entropy of the epoch.</summary>
    public double TrainLoss { get; set; }

    /// <summary>Training accuracy (0..1).</summary>
    public double TrainAccuracy { get; set; }

    /// <summary>Supernet validation cross-entropy at the end of the epoch (NaN when not evaluated).</summary>
    public double ValidationLoss { get; set; }

    /// <summary>Supernet validation accuracy (0..1; NaN when not evaluated).</summary>
    public double ValidationAccuracy { get; set; }

    /// <summary>Architecture updates in the epoch.</summary>
    public int ArchitectureUpdates { get; set; }

    /// <summary>Wall time of the epoch's steps in seconds.</summary>
    public double Seconds { get; set; }

    /// <summary>
    /// The epoch's named measurements (<see cref="EpochRecord.Metrics"/>, e.g. the dominant eigenvalue of ∇²_α L_val under
    /// <see cref="ArchitectureHessianObserver.MetricName"/>); empty when no component measured anything.
    /// </summary>
    public Dictionary<string, double> Metrics { get; set; } = [];

    /// <summary>The manifest entry of <paramref name="record"/>; <paramref name="activation"/> turns a row of logits into weights.</summary>
    public static EpochManifest From(EpochRecord record, Func<double[], double[]> activation)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(activation);
        return new EpochManifest
        {
            Epoch = record.Epoch,
            Genotype = record.Genotype.ToString(),
            Alpha = record.Architecture,
            MaxWeightPerEdge = [.. record.Architecture.SelectMany(t => t).Select(row => activation(row).DefaultIfEmpty(double.NaN).Max())],
            MeanMaxWeight = record.MeanMaxWeight,
            TrainLoss = record.TrainLoss,
            TrainAccuracy = record.TrainAccuracy,
            ValidationLoss = record.ValidationLoss,
            ValidationAccuracy = record.ValidationAccuracy,
            ArchitectureUpdates = record.ArchitectureUpdates,
            Seconds = record.Duration.TotalSeconds,
            Metrics = new Dictionary<string, double>(record.Metrics),
        };
    }
}

/// <summary>The outcome of a run in a <see cref="RunManifest"/>.</summary>
public sealed class RunOutcome
{
    /// <summary>The selected (or evaluated) genotype in its space's text format; empty for a comparison.</summary>
    public string Genotype { get; set; } = "";

    /// <summary>The search space of <see cref="Genotype"/>.</summary>
    public string SpaceName { get; set; } = "";

    /// <summary>The epoch whose genotype was selected (searches).</summary>
    public int SelectedEpoch { get; set; }

    /// <summary>Final training loss (last epoch).</summary>
    public double TrainLoss { get; set; } = double.NaN;

    /// <summary>Final validation loss (search: supernet on the validation split; evaluation: test loss).</summary>
    public double ValidationLoss { get; set; } = double.NaN;

    /// <summary>Wall time in seconds.</summary>
    public double Seconds { get; set; }

    /// <summary>Further numbers: table accuracy and rank, test accuracy, parameter count, …</summary>
    public Dictionary<string, double> Metrics { get; set; } = [];
}

