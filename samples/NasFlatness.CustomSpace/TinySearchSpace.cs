using NasFlatness.Genotypes;
using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.CustomSpace;

/// <summary>
/// A user-defined search space, written only against the public API: a stem, <see cref="TinySearchSpaceOptions.Cells"/>
/// cells of 3 nodes whose 3 edges each choose one of 3 operations, and a classifier head. One α of shape [3, 3] is shared
/// by all cells.
/// </summary>
public sealed class TinySearchSpace : ISearchSpace
{
    /// <summary>The space's name (also the genotypes' <see cref="Genotype.SpaceName"/>).</summary>
    public const string SpaceName = "tiny";

    private readonly TinySearchSpaceOptions _options;

    /// <summary>Creates the space.</summary>
    public TinySearchSpace(TinySearchSpaceOptions? options = null)
    {
        _options = options ?? new TinySearchSpaceOptions();
        if (_options.Channels < 1 || _options.Cells < 1)
            throw new ArgumentException($"Channels = {_options.Channels} and Cells = {_options.Cells} must both be at least 1.", nameof(options));
    }

    /// <inheritdoc />
    public string Name => SpaceName;

    /// <inheritdoc />
    public IReadOnlyList<string> OperationNames => TinyGenotype.OperationNames;

    /// <inheritdoc />
    public void Validate(DatasetInfo dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (dataset.ClassCount < 2) throw new ArgumentException($"The dataset has {dataset.ClassCount} classes; a classifier needs at least 2.", nameof(dataset));
        if (dataset.Height < 3 || dataset.Width < 3) throw new ArgumentException($"The tiny space needs images of at least 3×3; got {dataset.Height}×{dataset.Width}.", nameof(dataset));
    }

    /// <inheritdoc />
    public Supernet CreateSupernet(DatasetInfo dataset)
    {
        Validate(dataset);
        return new TinySupernet(_options, dataset);
    }

    /// <inheritdoc />
    public nn.Module<Tensor, Tensor> CreateNetwork(Genotype genotype, DatasetInfo dataset)
    {
        Validate(dataset);
        return new TinyNetwork(AsTiny(genotype), _options, dataset);
    }

    /// <inheritdoc />
    public Genotype Parse(string text) => TinyGenotype.Parse(text);

    /// <inheritdoc />
    public IEnumerable<Genotype> Neighbors(Genotype genotype)
    {
        var g = AsTiny(genotype);
        for (int e = 0; e < TinyGenotype.EdgeCount; e++)
        {
            for (int o = 0; o < TinyGenotype.OperationNames.Count; o++)
            {
                if (o == g.Operations[e]) continue;
                var ops = g.Operations.ToArray();
                ops[e] = o;
                yield return new TinyGenotype(ops);
            }
        }
    }

    private static TinyGenotype AsTiny(Genotype genotype) =>
        genotype as TinyGenotype ?? throw new ArgumentException($"The tiny space takes tiny genotypes, got one of '{genotype?.SpaceName}'.", nameof(genotype));
}

/// <summary>Shape of the tiny space's networks.</summary>
public sealed class TinySearchSpaceOptions
{
    /// <summary>Channels of every cell.</summary>
    /// <value>Default 8.</value>
    public int Channels { get; set; } = 8;

    /// <summary>Number of cells.</summary>
    /// <value>Default 2.</value>
    public int Cells { get; set; } = 2;
}
