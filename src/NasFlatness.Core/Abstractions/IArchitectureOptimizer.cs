using static TorchSharp.torch;

namespace NasFlatness;

/// <summary>
/// How α is updated from validation data in the bilevel loop: computes the architecture gradient that
/// the runner's Adam optimizer then applies. Implementations never modify α or the weights permanently.
/// An optimizer sees the search's steps through the <see cref="ISearchObserver"/> hooks (e.g. a zeroth-order
/// optimizer's shadow network takes its weight step in <see cref="ISearchObserver.OnWeightStep"/>) and keeps state
/// across a resume by implementing <see cref="IStatefulSearchComponent"/>.
/// </summary>
public interface IArchitectureOptimizer : ISearchObserver
{
    /// <summary>Short name, e.g. <c>darts-1st</c>.</summary>
    string Name { get; }

    /// <summary>
    /// True when the gradient is that of the validation objective at fixed weights (first order), so that
    /// gradient-owning regularizers such as A²M may evaluate it at perturbed α.
    /// </summary>
    bool IsFirstOrder { get; }

    /// <summary>
    /// The architecture gradient of this step at <paramref name="architecture"/> (tensors that require
    /// gradients, with the shapes of the supernet's α). The result has one tensor per architecture tensor,
    /// detached from any graph.
    /// </summary>
    IReadOnlyList<Tensor> ComputeGradient(ArchitectureStep step, IReadOnlyList<Tensor> architecture);
}
