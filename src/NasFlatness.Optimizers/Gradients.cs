using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.Optimizers;

/// <summary>Small autograd helpers shared by the optimizers and regularizers.</summary>
internal static class Gradients
{
    /// <summary>Gradients of a scalar <paramref name="loss"/> w.r.t. <paramref name="inputs"/> (never accumulated into <c>.grad</c>), detached.</summary>
    public static Tensor[] Of(Tensor loss, IReadOnlyList<Tensor> inputs)
    {
        var grads = torch.autograd.grad([loss], [.. inputs], allow_unused: true);
        var result = new Tensor[inputs.Count];
        for (int i = 0; i < result.Length; i++)
            result[i] = grads[i] is { } g && !g.IsInvalid ? g.detach() : torch.zeros_like(inputs[i]);
        return result;
    }

    /// <summary>The tensors themselves when they already require gradients, else detached leaf copies that do.</summary>
    /// <summary>
    /// Runs one gradient evaluation in its own dispose scope and moves only its result out: whatever the pass
    /// leaves behind (activations held by tensor handles, the loss) is freed before the next pass starts, so
    /// multi-pass methods (A²M, NA-DARTS) do not stack their passes' memory.
    /// </summary>
    public static Tensor[] InOwnScope(Func<IReadOnlyList<Tensor>> pass)
    {
        using var scope = torch.NewDisposeScope();
        var result = pass().ToArray();
        foreach (var t in result) t.MoveToOuterDisposeScope();
        return result;
    }

    public static IReadOnlyList<Tensor> RequiringGrad(IReadOnlyList<Tensor> architecture)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        var result = new Tensor[architecture.Count];
        for (int i = 0; i < result.Length; i++)
            result[i] = architecture[i].requires_grad ? architecture[i] : architecture[i].detach().clone().requires_grad_(true);
        return result;
    }
}
