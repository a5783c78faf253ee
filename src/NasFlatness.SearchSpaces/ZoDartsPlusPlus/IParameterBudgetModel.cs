using static TorchSharp.torch;

namespace NasFlatness.SearchSpaces.ZoDartsPlusPlus;

/// <summary>The three parameter budgets of ZO-DARTS++ (<c>--size 1|2|3</c>).</summary>
public enum ParameterBudgetSize
{
    /// <summary>[0, 20th percentile] of the parameter counts of sampled architectures.</summary>
    Small,

    /// <summary>[40th, 60th percentile].</summary>
    Medium,

    /// <summary>[80th percentile, largest].</summary>
    Large,
}

/// <summary>
/// A supernet that knows the parameter count of the networks it stands for: a differentiable expected count under the mixing
/// weights (for resource penalties) and parameter budgets [L, U]. The ZO-DARTS++ space's supernet implements it, so a penalty
/// created by name needs neither the space nor the dataset.
/// </summary>
public interface IParameterBudgetModel
{
    /// <summary>The expected trainable parameters of the evaluation network when each row of the mixing weights is an independent distribution.</summary>
    /// <param name="mixingWeights">The mixing weights, one tensor per architecture tensor (as <see cref="Supernet.MixingWeights"/> returns them).</param>
    /// <returns>A scalar tensor, differentiable in the mixing weights.</returns>
    Tensor ExpectedParameters(IReadOnlyList<Tensor> mixingWeights);

    /// <summary>The budget [L, U] of <paramref name="size"/> in parameters.</summary>
    (double Lower, double Upper) ParameterBudget(ParameterBudgetSize size);
}
