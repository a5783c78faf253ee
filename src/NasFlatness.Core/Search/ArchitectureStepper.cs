using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.Advanced;

/// <summary>Composes the optimizer and the regularizers into one gradient function and applies the architecture update.</summary>
public static class ArchitectureStepper
{
    /// <summary>
    /// The composed architecture gradient of <paramref name="step"/>: each regularizer is asked once for its
    /// <see cref="IFlatnessRegularizer.Contribute">contribution</see>; the optimizer's gradient of the validation objective
    /// (with every loss term) is wrapped by each gradient wrapper in order.
    /// </summary>
    public static ArchitectureGradientFunction Compose(ArchitectureStep step, IArchitectureOptimizer optimizer, IReadOnlyList<IFlatnessRegularizer> regularizers) =>
        Regularize(step, optimizer, regularizers).Gradient;

    /// <summary>
    /// One architecture update: computes the composed gradient at the supernet's current α (on detached copies, so α itself
    /// is never perturbed), stores it as α's gradient and steps <paramref name="architectureOptimizer"/>.
    /// </summary>
    /// <returns>The step with the regularizers' loss terms, as the optimizer saw it (for the observers).</returns>
    public static ArchitectureStep Step(ArchitectureStep step, IArchitectureOptimizer optimizer, IReadOnlyList<IFlatnessRegularizer> regularizers,
        IReadOnlyList<Parameter> architecture, OptimizerHelper architectureOptimizer)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(architectureOptimizer);
        var (regularized, composed) = Regularize(step, optimizer, regularizers);
        var gradient = composed(regularized.CurrentArchitecture());
        if (gradient.Count != architecture.Count)
            throw new InvalidOperationException($"The architecture gradient has {gradient.Count} tensors but the supernet has {architecture.Count} architecture tensors.");
        for (int i = 0; i < architecture.Count; i++)
        {
            if (!gradient[i].shape.SequenceEqual(architecture[i].shape))
                throw new InvalidOperationException($"Architecture gradient {i} has shape [{string.Join(", ", gradient[i].shape)}] but α has [{string.Join(", ", architecture[i].shape)}].");
        }
        // Store G in α.grad through autograd (backward of α itself with gradient G accumulates exactly G
        // into the zeroed .grad), then let Adam apply it.
        architectureOptimizer.zero_grad();
        for (int i = 0; i < architecture.Count; i++)
        {
            if (!step.Supernet.IsArchitectureTensorActive(i)) continue; // not searched now: no gradient kept (the optimizer does not hold it either)
            architecture[i].backward([gradient[i].detach().to(architecture[i].dtype)]);
        }
        architectureOptimizer.step();
        return regularized;
    }

    private static (ArchitectureStep Step, ArchitectureGradientFunction Gradient) Regularize(
        ArchitectureStep step, IArchitectureOptimizer optimizer, IReadOnlyList<IFlatnessRegularizer> regularizers)
    {
        ArgumentNullException.ThrowIfNull(step);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(regularizers);
        var contributions = new RegularizerContribution[regularizers.Count];
        for (int i = 0; i < contributions.Length; i++)
            contributions[i] = regularizers[i].Contribute(step)
                ?? throw new InvalidOperationException($"Regularizer '{regularizers[i].Name}' returned no contribution (use {nameof(RegularizerContribution)}.{nameof(RegularizerContribution.None)}).");
        var regularized = step.WithLossTerms(contributions.Where(c => c.LossTerm is not null).Select(c => c.LossTerm!));
        ArchitectureGradientFunction gradient = a => optimizer.ComputeGradient(regularized, a);
        foreach (var wrapper in contributions.Select(c => c.Gradient).OfType<ArchitectureGradientWrapper>())
        {
            var inner = gradient;
            gradient = a => wrapper(a, inner);
        }
        return (regularized, gradient);
    }
}
