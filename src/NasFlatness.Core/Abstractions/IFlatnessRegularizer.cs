using static TorchSharp.torch;

namespace NasFlatness;

/// <summary>
/// Biases the architecture objective, or its gradient, towards flat regions of the architecture landscape.
/// A regularizer may do either or both of:
/// <list type="bullet">
/// <item><description>shape the loss: <see cref="LossTerm"/> returns a term added to the validation loss
/// wherever the objective is evaluated (β-DARTS);</description></item>
/// <item><description>own the gradient: <see cref="Gradient"/> wraps the gradient function of the optimizer
/// (and of earlier regularizers), e.g. evaluating it at perturbed α (A²M).</description></item>
/// </list>
/// The runner composes them in order: all loss terms enter the objective first; then each regularizer's
/// <see cref="Gradient"/> wraps the previous gradient function, so a later regularizer wraps an earlier one.
/// A regularizer sees the search's steps through the <see cref="ISearchObserver"/> hooks (e.g. ADMM updates its
/// targets in <see cref="ISearchObserver.OnArchitectureStepped"/>) and keeps state across a resume by implementing
/// <see cref="IStatefulSearchComponent"/>. Use <see cref="ArchitectureStep.MixingWeights"/> for p, so the search's
/// activation is respected.
/// </summary>
public interface IFlatnessRegularizer : ISearchObserver
{
    /// <summary>Short name, e.g. <c>beta-decay</c>.</summary>
    string Name { get; }

    /// <summary>True when <see cref="Gradient"/> needs a first-order optimizer (its gradient is evaluated at perturbed α).</summary>
    bool RequiresFirstOrderOptimizer => false;

    /// <summary>A term added to the architecture loss at <paramref name="architecture"/>, or null for none.</summary>
    Tensor? LossTerm(IReadOnlyList<Tensor> architecture, ArchitectureStep step) => null;

    /// <summary>The architecture gradient at <paramref name="architecture"/>, given the gradient function it wraps.</summary>
    IReadOnlyList<Tensor> Gradient(ArchitectureStep step, IReadOnlyList<Tensor> architecture, ArchitectureGradientFunction inner) =>
        inner(architecture);
}
