using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.Optimizers;

/// <summary>
/// Second-order DARTS (DARTS-V2, "unrolled", docs/spec/algorithms.md §3.3). With one virtual SGD step
/// <c>w' = w − η(μ·m + ∇w L_tr(w, α) + λ·w)</c>, the gradient is
/// <c>∇α L_val(w', α) − η · H v</c>, where <c>v = ∇w' L_val(w', α)</c> and the Hessian-vector product
/// <c>H v = ∇²_{α,w} L_tr · v</c> is estimated by central finite differences around w with step
/// <c>r = 0.01 / ‖v‖</c>. The weights and the BatchNorm statistics are restored exactly (from copies)
/// after every probe.
/// </summary>
public sealed class DartsSecondOrder : IArchitectureOptimizer
{
    /// <summary>Creates the optimizer.</summary>
    /// <param name="finiteDifferenceScale">Numerator of the finite-difference step <c>r = scale / ‖v‖</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">The scale is not positive.</exception>
    public DartsSecondOrder(double finiteDifferenceScale = 0.01)
    {
        if (!(finiteDifferenceScale > 0) || !double.IsFinite(finiteDifferenceScale))
            throw new ArgumentOutOfRangeException(nameof(finiteDifferenceScale), finiteDifferenceScale, "The finite-difference scale must be a positive number.");
        FiniteDifferenceScale = finiteDifferenceScale;
    }

    /// <summary>Numerator of the finite-difference step <c>r = scale / ‖v‖</c>.</summary>
    public double FiniteDifferenceScale { get; }

    /// <inheritdoc />
    public string Name => OptimizerName;

    /// <summary>The registry name, <c>darts-2nd</c>.</summary>
    public const string OptimizerName = "darts-2nd";

    /// <inheritdoc />
    public bool IsFirstOrder => false;

    /// <inheritdoc />
    public IReadOnlyList<Tensor> ComputeGradient(ArchitectureStep step, IReadOnlyList<Tensor> architecture)
    {
        ArgumentNullException.ThrowIfNull(step);
        var supernet = step.Supernet;
        var alphas = Gradients.RequiringGrad(architecture);
        var weights = supernet.WeightParameters().ToArray();
        var opt = step.WeightOptimizer;
        double eta = opt.LearningRate;

        using var scope = torch.NewDisposeScope();
        Tensor[] original;
        Tensor[] buffers;
        using (torch.no_grad())
        {
            original = weights.Select(w => w.detach().clone()).ToArray();
            buffers = supernet.buffers().Select(b => b.detach().clone()).ToArray();
        }

        // 1) Virtual step w' = w − η(μ·m + ∇w L_tr + λ·w).
        var frozen = alphas.Select(a => a.detach()).ToArray();
        var trainGrad = Gradients.Of(step.TrainLoss(frozen), weights);
        var momentum = opt.MomentumBuffers();
        using (torch.no_grad())
        {
            for (int i = 0; i < weights.Length; i++)
            {
                var direction = trainGrad[i] + opt.WeightDecay * original[i];
                if (i < momentum.Count && momentum[i] is { } m && opt.Momentum != 0)
                    direction = direction + opt.Momentum * m;
                weights[i].copy_(original[i] - eta * direction);
            }
        }

        // 2) dα = ∇α L_val(w', α) and v = ∇w' L_val(w', α). The unrolled pass must not move the live BN statistics.
        var valGrads = Gradients.Of(step.ValidationLoss(alphas), [.. alphas, .. weights]);
        var dAlpha = valGrads.Take(alphas.Count).ToArray();
        var v = valGrads.Skip(alphas.Count).ToArray();
        RestoreBuffers(supernet, buffers);

        // 3) Hessian-vector product by central differences around w.
        double norm = Math.Sqrt(v.Sum(t => t.square().sum().to(float64).item<double>()));
        double r = FiniteDifferenceScale / Math.Max(norm, 1e-12);
        var gPlus = ProbeTrainGradient(step, weights, original, v, r, alphas);
        var gMinus = ProbeTrainGradient(step, weights, original, v, -r, alphas);
        using (torch.no_grad())
        {
            for (int i = 0; i < weights.Length; i++) weights[i].copy_(original[i]);
        }

        // 4) G = dα − η·HVP.
        var result = new Tensor[alphas.Count];
        for (int i = 0; i < alphas.Count; i++)
        {
            var hvp = (gPlus[i] - gMinus[i]) / (2 * r);
            result[i] = (dAlpha[i] - eta * hvp).detach().MoveToOuterDisposeScope();
        }
        return result;
    }

    private static IReadOnlyList<Tensor> ProbeTrainGradient(ArchitectureStep step, Parameter[] weights, Tensor[] original, Tensor[] v, double r, IReadOnlyList<Tensor> alphas)
    {
        using (torch.no_grad())
        {
            for (int i = 0; i < weights.Length; i++) weights[i].copy_(original[i] + r * v[i]);
        }
        return Gradients.Of(step.TrainLoss(alphas), alphas);
    }

    private static void RestoreBuffers(Supernet supernet, Tensor[] saved)
    {
        using var _ = torch.no_grad();
        int i = 0;
        foreach (var b in supernet.buffers()) b.copy_(saved[i++]);
    }
}
