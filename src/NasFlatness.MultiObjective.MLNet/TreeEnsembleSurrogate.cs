using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.FastTree;

namespace NasFlatness.MultiObjective.MLNet;

/// <summary>Which ML.NET tree ensemble a <see cref="TreeEnsembleSurrogate"/> fits.</summary>
public enum TreeEnsembleKind
{
    /// <summary>Gradient-boosted regression trees (ML.NET FastTree, MART).</summary>
    BoostedTrees,

    /// <summary>A random forest of regression trees (ML.NET FastForest: bagging and feature subsampling).</summary>
    RandomForest,
}

/// <summary>Options of <see cref="TreeEnsembleSurrogate"/>.</summary>
public sealed class TreeEnsembleSurrogateOptions
{
    /// <summary>The ensemble.</summary>
    /// <value>Default <see cref="TreeEnsembleKind.BoostedTrees"/>.</value>
    public TreeEnsembleKind Kind { get; set; } = TreeEnsembleKind.BoostedTrees;

    /// <summary>Number of trees.</summary>
    /// <value>Default 100.</value>
    public int Trees { get; set; } = 100;

    /// <summary>Leaves per tree.</summary>
    /// <value>Default 8.</value>
    public int Leaves { get; set; } = 8;

    /// <summary>Fewest training candidates in a leaf (ML.NET's default of 10 is too many for an archive of a few dozen).</summary>
    /// <value>Default 2.</value>
    public int MinimumExamplesPerLeaf { get; set; } = 2;

    /// <summary>Shrinkage of the boosted trees (unused by the forest).</summary>
    /// <value>Default 0.1.</value>
    public double LearningRate { get; set; } = 0.1;

    /// <summary>Every problem, each naming the field; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        void Check(bool ok, string field, object value, string expected)
        {
            if (!ok) errors.Add(string.Create(CultureInfo.InvariantCulture, $"{field} = {value} is invalid: {expected}."));
        }
        Check(Enum.IsDefined(Kind), nameof(Kind), Kind, "must be BoostedTrees or RandomForest");
        Check(Trees >= 1, nameof(Trees), Trees, "must be at least 1");
        Check(Leaves >= 2, nameof(Leaves), Leaves, "must be at least 2");
        Check(MinimumExamplesPerLeaf >= 1, nameof(MinimumExamplesPerLeaf), MinimumExamplesPerLeaf, "must be at least 1");
        Check(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), LearningRate, "must be a positive finite number");
        return errors;
    }
}

/// <summary>
/// The built-in <see cref="IObjectiveSurrogate"/>: an ML.NET regression tree ensemble (FastTree boosting or FastForest) over
/// the candidate features, trained single-threaded with an <see cref="MLContext"/> seeded by the fit's seed, so a fit is
/// reproducible. Used in place of CNAS's adaptive choice among RBF / GP / MLP / CART models (docs/multi-objective.md).
/// </summary>
/// <remarks>Not thread-safe: a search fits and predicts from one thread.</remarks>
public sealed class TreeEnsembleSurrogate : IObjectiveSurrogate
{
    private readonly TreeEnsembleSurrogateOptions _options;
    private PredictionEngine<Row, Prediction>? _engine;
    private int _featureCount;

    /// <summary>Creates the surrogate.</summary>
    /// <param name="options">Options; null uses the defaults.</param>
    /// <exception cref="ArgumentException">Invalid options (the fields are named).</exception>
    public TreeEnsembleSurrogate(TreeEnsembleSurrogateOptions? options = null)
    {
        _options = new TreeEnsembleSurrogateOptions();
        if (options is not null)
        {
            _options.Kind = options.Kind;
            _options.Trees = options.Trees;
            _options.Leaves = options.Leaves;
            _options.MinimumExamplesPerLeaf = options.MinimumExamplesPerLeaf;
            _options.LearningRate = options.LearningRate;
        }
        var errors = _options.Validate();
        if (errors.Count > 0) throw new ArgumentException("Invalid tree-ensemble surrogate options: " + string.Join(" ", errors), nameof(options));
    }

    /// <inheritdoc />
    public string Name => string.Create(CultureInfo.InvariantCulture,
        $"{(_options.Kind == TreeEnsembleKind.BoostedTrees ? "fasttree" : "fastforest")}(trees={_options.Trees},leaves={_options.Leaves},min-leaf={_options.MinimumExamplesPerLeaf}{(_options.Kind == TreeEnsembleKind.BoostedTrees ? ",lr=" + _options.LearningRate.ToString("R", CultureInfo.InvariantCulture) : "")})");

    /// <inheritdoc />
    /// <exception cref="ArgumentException">No candidates, unequal feature lengths, or a non-finite target.</exception>
    public void Fit(IReadOnlyList<IReadOnlyList<double>> features, IReadOnlyList<double> targets, int seed)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(targets);
        if (features.Count == 0 || features.Count != targets.Count)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"The surrogate needs one target per feature vector and at least one of each; got {features.Count} and {targets.Count}."), nameof(targets));
        int n = features[0].Count;
        if (n == 0 || features.Any(f => f is null || f.Count != n))
            throw new ArgumentException("Every feature vector must have the same, non-zero length.", nameof(features));
        if (targets.Any(t => !double.IsFinite(t)))
            throw new ArgumentException("Every target must be finite.", nameof(targets));

        var context = new MLContext(seed);
        var schema = Schema(n);
        var rows = features.Select((f, i) => new Row { Features = [.. f.Select(v => (float)v)], Label = (float)targets[i] }).ToList();
        var data = context.Data.LoadFromEnumerable(rows, schema);
        ITransformer model = _options.Kind == TreeEnsembleKind.BoostedTrees
            ? context.Regression.Trainers.FastTree(new FastTreeRegressionTrainer.Options
            {
                NumberOfTrees = _options.Trees,
                NumberOfLeaves = _options.Leaves,
                MinimumExampleCountPerLeaf = _options.MinimumExamplesPerLeaf,
                LearningRate = _options.LearningRate,
                NumberOfThreads = 1,
                Seed = seed,
            }).Fit(data)
            : context.Regression.Trainers.FastForest(new FastForestRegressionTrainer.Options
            {
                NumberOfTrees = _options.Trees,
                NumberOfLeaves = _options.Leaves,
                MinimumExampleCountPerLeaf = _options.MinimumExamplesPerLeaf,
                NumberOfThreads = 1,
                Seed = seed,
            }).Fit(data);
        _engine?.Dispose();
        _engine = context.Model.CreatePredictionEngine<Row, Prediction>(model, inputSchemaDefinition: schema);
        _featureCount = n;
    }

    /// <inheritdoc />
    public double Predict(IReadOnlyList<double> features)
    {
        ArgumentNullException.ThrowIfNull(features);
        var engine = _engine ?? throw new InvalidOperationException("The surrogate has not been fitted; call Fit first.");
        if (features.Count != _featureCount)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"The surrogate was fitted on {_featureCount} features; got {features.Count}."), nameof(features));
        return engine.Predict(new Row { Features = [.. features.Select(v => (float)v)] }).Score;
    }

    private static SchemaDefinition Schema(int featureCount)
    {
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, featureCount);
        return schema;
    }

    private sealed class Row
    {
        public float[] Features { get; set; } = [];

        public float Label { get; set; }
    }

    private sealed class Prediction
    {
        public float Score { get; set; }
    }
}
