using static TorchSharp.torch;

namespace NasFlatness;

/// <summary>
/// Biases the architecture objective, or its gradient, towards flat regions of the architecture landscape. The runner asks
/// each regularizer once per architecture step (<see cref="Contribute"/>) for its contribution: a loss term added to the
/// validation objective wherever it is evaluated (β-DARTS), a wrapper around the gradient function (A²M), or both.
/// All loss terms enter the objective first; then each wrapper wraps the previous gradient function, in order.
/// A regularizer sees the steps through the <see cref="ISearchObserver"/> hooks. Use <see cref="ArchitectureStep.MixingWeights"/>
/// for p, so the search's activation is respected.
/// </summary>
public interface IFlatnessRegularizer : ISearchObserver
{
    /// <summary>Short name, e.g. <c>beta-decay</c>.</summary>
    string Name { get; }

    /// <summary>True when the gradient wrapper needs a first-order optimizer (its gradient is evaluated at perturbed α).</summary>
    bool RequiresFirstOrderOptimizer => false;

    /// <summary>This regularizer's contribution to <paramref name="step"/>; called once per architecture step, before any gradient.</summary>
    RegularizerContribution Contribute(ArchitectureStep step);
}

/// <summary>A term added to the architecture loss at <paramref name="architecture"/>, or null for none.</summary>
/// <param name="architecture">The logits at which the objective is evaluated.</param>
public delegate Tensor? ArchitectureLossTerm(IReadOnlyList<Tensor> architecture);

/// <summary>The architecture gradient at <paramref name="architecture"/>, given the gradient function it wraps.</summary>
/// <param name="architecture">The logits at which the gradient is taken.</param>
/// <param name="inner">The optimizer's gradient function, already wrapped by the earlier regularizers.</param>
public delegate IReadOnlyList<Tensor> ArchitectureGradientWrapper(IReadOnlyList<Tensor> architecture, ArchitectureGradientFunction inner);

/// <summary>What one regularizer contributes to one architecture step: a loss term, a gradient wrapper, both or neither.</summary>
public sealed record RegularizerContribution
{
    /// <summary>No contribution on this step.</summary>
    public static RegularizerContribution None { get; } = new();

    /// <summary>Added to the validation loss wherever the step's objective is evaluated; null for none.</summary>
    public ArchitectureLossTerm? LossTerm { get; init; }

    /// <summary>Wraps the step's gradient function; null for none.</summary>
    public ArchitectureGradientWrapper? Gradient { get; init; }
}
