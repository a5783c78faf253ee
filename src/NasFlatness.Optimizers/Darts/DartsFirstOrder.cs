using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.Optimizers;

/// <summary>
/// First-order DARTS (DARTS-V1, docs/spec/algorithms.md §3.2): the architecture gradient is
/// <c>∇α L_val(w, α)</c> at the current weights — one forward/backward on the validation batch.
/// </summary>
public sealed class DartsFirstOrder : IArchitectureOptimizer
{
    /// <inheritdoc />
    public string Name => OptimizerName;

    /// <summary>The registry name, <c>darts-1st</c>.</summary>
    public const string OptimizerName = "darts-1st";

    /// <inheritdoc />
    public bool IsFirstOrder => true;

    /// <inheritdoc />
    public IReadOnlyList<Tensor> ComputeGradient(ArchitectureStep step, IReadOnlyList<Tensor> architecture)
    {
        ArgumentNullException.ThrowIfNull(step);
        var alphas = Gradients.RequiringGrad(architecture);
        using var loss = step.ValidationLoss(alphas);
        return Gradients.Of(loss, alphas);
    }
}
