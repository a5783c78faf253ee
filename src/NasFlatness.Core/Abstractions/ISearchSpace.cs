using NasFlatness.Genotypes;
using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness;

/// <summary>
/// What can be searched: the candidate operations and cell wiring of a space. A search space builds a
/// <see cref="Supernet"/> (all operations mixed by architecture weights α) and a discrete network from a
/// <see cref="Genotype"/>, parses the community's genotype format, and enumerates the single-operation
/// neighbours of a genotype.
/// </summary>
public interface ISearchSpace
{
    /// <summary>Short name of the space, e.g. <c>nas-bench-201</c>.</summary>
    string Name { get; }

    /// <summary>Names of the candidate operations, in the column order of α.</summary>
    IReadOnlyList<string> OperationNames { get; }

    /// <summary>Throws a clear <see cref="ArgumentException"/> if networks of this space cannot be built for <paramref name="dataset"/>.</summary>
    void Validate(DatasetInfo dataset);

    /// <summary>Builds a supernet for <paramref name="dataset"/> with freshly initialised weights and α.</summary>
    Supernet CreateSupernet(DatasetInfo dataset);

    /// <summary>Builds the discrete network of <paramref name="genotype"/> for <paramref name="dataset"/>.</summary>
    nn.Module<Tensor, Tensor> CreateNetwork(Genotype genotype, DatasetInfo dataset);

    /// <summary>Parses a genotype in the space's community text format.</summary>
    /// <exception cref="GenotypeFormatException">The text is malformed; the message names the problem.</exception>
    Genotype Parse(string text);

    /// <summary>All genotypes that differ from <paramref name="genotype"/> in exactly one operation.</summary>
    IEnumerable<Genotype> Neighbors(Genotype genotype);
}
