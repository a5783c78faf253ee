using static TorchSharp.torch;

namespace NasFlatness.Optimizers;

/// <summary>
/// A differentiable representation of an architecture's neighbourhood for NA-DARTS: maps the architecture tensors to the
/// architecture tensors of sampled neighbours, differentiably, so the neighbourhood loss can be back-propagated to α.
/// </summary>
public interface INeighborhoodRepresentation
{
    /// <summary>A short name for logs.</summary>
    string Name { get; }

    /// <summary>Returns <paramref name="count"/> neighbours of <paramref name="architecture"/>, each a list of tensors shaped like
    /// the input and differentiable with respect to it.</summary>
    /// <param name="architecture">The current architecture tensors (requiring grad).</param>
    /// <param name="count">How many neighbours to sample.</param>
    /// <param name="random">The source of randomness (seeded by the caller).</param>
    IReadOnlyList<IReadOnlyList<Tensor>> Neighbors(IReadOnlyList<Tensor> architecture, int count, Random random);
}
