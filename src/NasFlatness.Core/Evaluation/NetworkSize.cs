using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using NasFlatness.Advanced;

namespace NasFlatness.Evaluation;

/// <summary>Size of a network: parameters (with and without the auxiliary head) and multiply-accumulates of one inference.</summary>
/// <param name="Parameters">Trainable parameters, auxiliary head included.</param>
/// <param name="AuxiliaryParameters">Trainable parameters of the auxiliary head (0 without one).</param>
/// <param name="MultiplyAccumulates">Multiply-accumulates of one example's inference (convolutions and linear layers; auxiliary head not run).</param>
/// <param name="InputShape">The input shape measured, e.g. [1, 3, 32, 32].</param>
/// <param name="UncountedLayers">
/// Convolution and linear layers whose forward hook never fired: layers not used in inference (e.g. the auxiliary
/// head) or invoked with <c>forward</c> instead of <c>call</c>, which bypasses TorchSharp's hooks; their MACs are not counted.
/// </param>
public sealed record NetworkSizeReport(long Parameters, long AuxiliaryParameters, long MultiplyAccumulates, IReadOnlyList<long> InputShape, int UncountedLayers = 0)
{
    /// <summary>Trainable parameters without the auxiliary head (what the DARTS-family papers report).</summary>
    public long ParametersWithoutAuxiliary => Parameters - AuxiliaryParameters;

    /// <inheritdoc />
    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"{ParametersWithoutAuxiliary / 1e6:F3} M parameters ({Parameters / 1e6:F3} M with auxiliary head), {MultiplyAccumulates / 1e6:F1} M MACs at [{string.Join(", ", InputShape)}]");
}

/// <summary>
/// Measures parameter counts and multiply-accumulates (MACs) of any <c>nn.Module</c>. MACs are counted with
/// forward hooks on every <see cref="Conv2d"/> (output elements × in-channels/groups × kernel area) and
/// <see cref="Linear"/> (output elements × in-features) during one inference in eval mode; BatchNorm,
/// pooling, activations and additions are not counted (the convention of the DARTS-family papers'
/// "multiply-adds"). The result is per example. TorchSharp runs hooks only when a layer is invoked with
/// <c>call</c> (PyTorch's <c>__call__</c>), not <c>forward</c>; the DARTS networks do that for every layer, and
/// <see cref="NetworkSizeReport.UncountedLayers"/> tells how many layers of other networks were not seen.
/// </summary>
public static class NetworkSize
{
    /// <summary>Trainable parameters of <paramref name="module"/>; with <paramref name="excludeAuxiliary"/> those of an <see cref="IEvaluationNetwork"/>'s auxiliary head are left out.</summary>
    public static long CountParameters(nn.Module module, bool excludeAuxiliary = false)
    {
        ArgumentNullException.ThrowIfNull(module);
        long total = module.parameters().Where(p => p.requires_grad).Sum(p => p.numel());
        if (excludeAuxiliary && module is IEvaluationNetwork network)
            total -= network.AuxiliaryParameters().Where(p => p.requires_grad).Sum(p => p.numel());
        return total;
    }

    /// <summary>Measures <paramref name="module"/> on one input of shape <paramref name="inputShape"/> (e.g. [1, 3, 32, 32]; batch 1 recommended).</summary>
    /// <param name="module">The network; its training mode is restored afterwards.</param>
    /// <param name="inputShape">Input shape including the batch dimension.</param>
    /// <param name="device">Device of the module (default CPU).</param>
    public static NetworkSizeReport Measure(nn.Module<Tensor, Tensor> module, long[] inputShape, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(inputShape);
        if (inputShape.Length < 2 || inputShape.Any(d => d < 1))
            throw new ArgumentException($"The input shape must have a batch dimension and positive sizes, got [{string.Join(", ", inputShape)}].", nameof(inputShape));
        TorchRuntime.EnsureCorrectCpuKernels(module);
        long parameters = CountParameters(module);
        long auxiliary = module is IEvaluationNetwork n ? n.AuxiliaryParameters().Where(p => p.requires_grad).Sum(p => p.numel()) : 0;

        long macs = 0;
        long batch = inputShape[0];
        var removers = new List<Action>();
        var seen = new HashSet<nn.Module>(ReferenceEqualityComparer.Instance);
        int layers = 0;
        foreach (var m in module.modules())
        {
            switch (m)
            {
                case Conv2d conv:
                    layers++;
                    var convHook = conv.register_forward_hook((_, _, output) =>
                    {
                        seen.Add(conv);
                        var w = conv.weight!.shape;
                        macs += output.numel() / batch * w[1] * w[2] * w[3];
                        return null!; // keep the output
                    });
                    removers.Add(convHook.remove);
                    break;
                case Linear linear:
                    layers++;
                    var linearHook = linear.register_forward_hook((_, _, output) =>
                    {
                        seen.Add(linear);
                        macs += output.numel() / batch * linear.weight!.shape[1];
                        return null!; // keep the output
                    });
                    removers.Add(linearHook.remove);
                    break;
            }
        }
        bool wasTraining = module.training;
        try
        {
            module.eval();
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            var input = torch.zeros(inputShape, device: device ?? torch.CPU);
            module.call(input);
        }
        finally
        {
            foreach (var remove in removers) remove();
            module.train(wasTraining);
        }
        return new NetworkSizeReport(parameters, auxiliary, macs, inputShape, layers - seen.Count);
    }
}
