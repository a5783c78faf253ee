using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.Advanced;

/// <summary>Composes the optimizer and the regularizers into one gradient function and applies the architecture update.</summary>
public static class ArchitectureStepper
{
    /// <summary>
    /// The composed architecture gradient of <paramref name="step"/>: the optimizer's gradient of the
    /// validation objective (which already includes every regularizer's loss term), wrapped by each
    /// regularizer's <see cref="IFlatnessRegularizer.Gradient"/> in order.
    /// </summary>
    public static ArchitectureGradientFunction Compose(ArchitectureStep step, IArchitectureOptimizer optimizer, IReadOnlyList<IFlatnessRegularizer> regularizers)
    {
        ArgumentNullException.ThrowIfNull(step);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(regularizers);
        ArchitectureGradientFunction gradient = a => optimizer.ComputeGradient(step, a);
        foreach (var regularizer in regularizers)
        {
            var inner = gradient;
            gradient = a => regularizer.Gradient(step, a, inner);
        }
        return gradient;
    }

    /// <summary>
    /// One architecture update: computes the composed gradient at the supernet's current α (on detached
    /// copies, so α itself is never perturbed), stores it as α's gradient and steps <paramref name="architectureOptimizer"/>.
    /// </summary>
    public static void Step(ArchitectureStep step, IArchitectureOptimizer optimizer, IReadOnlyList<IFlatnessRegularizer> regularizers,
        IReadOnlyList<Parameter> architecture, OptimizerHelper architectureOptimizer)
    {
        ArgumentNullException.ThrowIfNull(architectureOptimizer);
        var gradient = Compose(step, optimizer, regularizers)(step.CurrentArchitecture());
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
    }
}
