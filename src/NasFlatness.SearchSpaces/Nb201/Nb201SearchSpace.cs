using NasFlatness.Genotypes;
using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.SearchSpaces.Nb201;

/// <summary>
/// The NAS-Bench-201 cell search space (docs/spec/algorithms.md §1.1): five operations
/// (<c>none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3</c>), a 4-node cell with 6 edges,
/// one shared α of shape [6, 5]; genotypes are the benchmark's arch strings.
/// </summary>
public sealed class Nb201SearchSpace : ISearchSpace
{
    private readonly Nb201Options _options;

    /// <summary>Creates the space; null options use the benchmark's shape (C = 16, N = 5).</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public Nb201SearchSpace(Nb201Options? options = null)
    {
        _options = (options ?? new Nb201Options()).Clone();
        var errors = _options.Validate();
        if (errors.Count > 0) throw new ArgumentException("Invalid NAS-Bench-201 options: " + string.Join(" ", errors), nameof(options));
    }

    /// <summary>The space's name.</summary>
    public const string SpaceName = SpaceNames.Nb201;

    /// <inheritdoc />
    public string Name => SpaceName;

    /// <summary>The network shape (a copy).</summary>
    public Nb201Options Options => _options.Clone();

    /// <inheritdoc />
    public IReadOnlyList<string> OperationNames => Nb201Genotype.OperationNames;

    /// <inheritdoc />
    public void Validate(DatasetInfo dataset) => ValidateDataset(dataset, "NAS-Bench-201 networks");

    /// <summary>The dataset checks of every space with the NAS-Bench-201 macro skeleton (<paramref name="networks"/> names them in messages).</summary>
    internal static void ValidateDataset(DatasetInfo dataset, string networks)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (dataset.Channels < 1)
            throw new ArgumentException($"The dataset has {dataset.Channels} image channels; at least 1 is needed.", nameof(dataset));
        if (dataset.ClassCount < 2)
            throw new ArgumentException($"The dataset has {dataset.ClassCount} classes; a classifier needs at least 2.", nameof(dataset));
        if (dataset.Height < 4 || dataset.Width < 4 || dataset.Height % 4 != 0 || dataset.Width % 4 != 0)
            throw new ArgumentException(
                $"{networks} halve the image twice, so height and width must be multiples of 4 (at least 4); the dataset's images are {dataset.Height}×{dataset.Width}.",
                nameof(dataset));
    }

    /// <inheritdoc />
    public Supernet CreateSupernet(DatasetInfo dataset)
    {
        Validate(dataset);
        return _options.PartialChannels ? new Nb201PartialChannelSupernet(_options, dataset) : new Nb201Supernet(_options, dataset);
    }

    /// <inheritdoc />
    public nn.Module<Tensor, Tensor> CreateNetwork(Genotype genotype, DatasetInfo dataset)
    {
        Validate(dataset);
        return new Nb201Network(AsNb201(genotype), _options, dataset);
    }

    /// <inheritdoc />
    public Genotype Parse(string text) => Nb201Genotype.Parse(text);

    /// <inheritdoc />
    public IEnumerable<Genotype> Neighbors(Genotype genotype) => AsNb201(genotype).Neighbors();

    /// <summary>
    /// Derives the genotype from α of shape [6, 5]: on every edge the operation with the largest logit,
    /// <c>none</c> included (ties go to the lower operation index).
    /// </summary>
    public static Nb201Genotype Derive(Tensor alpha)
    {
        ArgumentNullException.ThrowIfNull(alpha);
        if (alpha.dim() != 2 || alpha.shape[0] != Nb201Genotype.EdgeCount || alpha.shape[1] != Nb201Genotype.OperationCount)
            throw new ArgumentException($"α must have shape [6, 5], got [{string.Join(", ", alpha.shape)}].", nameof(alpha));
        using var cpu = alpha.detach().to(float64).cpu().contiguous();
        var values = cpu.data<double>().ToArray();
        var ops = new int[Nb201Genotype.EdgeCount];
        for (int e = 0; e < ops.Length; e++)
        {
            int best = 0;
            for (int o = 1; o < Nb201Genotype.OperationCount; o++)
                if (values[e * Nb201Genotype.OperationCount + o] > values[e * Nb201Genotype.OperationCount + best]) best = o;
            ops[e] = best;
        }
        return new Nb201Genotype(ops);
    }

    private static Nb201Genotype AsNb201(Genotype genotype)
    {
        ArgumentNullException.ThrowIfNull(genotype);
        return genotype as Nb201Genotype
            ?? throw new ArgumentException($"The NAS-Bench-201 space takes NAS-Bench-201 genotypes, got a '{genotype.SpaceName}' genotype.", nameof(genotype));
    }
}
