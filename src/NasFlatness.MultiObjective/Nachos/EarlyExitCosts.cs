using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using NasFlatness.Advanced;

namespace NasFlatness.MultiObjective.Nachos;

/// <summary>Measured cost of an early-exit network, per example.</summary>
/// <param name="SegmentMultiplyAccumulates">MACs of each backbone segment.</param>
/// <param name="ExitMultiplyAccumulates">MACs of each exit classifier alone.</param>
/// <param name="CumulativeMultiplyAccumulates">Cost of leaving at each exit: the segments up to it plus its classifier.</param>
/// <param name="UncountedLayers">Convolution and linear layers whose hooks never fired (0 when every layer is invoked with <c>call</c>).</param>
public sealed record EarlyExitCostReport(IReadOnlyList<long> SegmentMultiplyAccumulates, IReadOnlyList<long> ExitMultiplyAccumulates,
    IReadOnlyList<long> CumulativeMultiplyAccumulates, int UncountedLayers);

/// <summary>
/// Per-exit MACs of an <see cref="IEarlyExitNetwork"/> counted with forward hooks exactly as <see cref="NetworkSize"/> does
/// (convolutions: output elements × in-channels/groups × kernel area; linear layers: output elements × in-features; BatchNorm,
/// pooling, activations and additions are free). Segments and exit classifiers are run one at a time, so each count is
/// attributed to its part.
/// </summary>
public static class EarlyExitCosts
{
    /// <summary>Measures <paramref name="network"/> on one input of shape <paramref name="inputShape"/> (e.g. [1, 3, 32, 32]) in evaluation mode; modes are restored.</summary>
    public static EarlyExitCostReport Measure<TNetwork>(TNetwork network, long[] inputShape, Device? device = null)
        where TNetwork : nn.Module, IEarlyExitNetwork
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(inputShape);
        if (inputShape.Length < 2 || inputShape.Any(d => d < 1))
            throw new ArgumentException($"The input shape must have a batch dimension and positive sizes, got [{string.Join(", ", inputShape)}].", nameof(inputShape));
        TorchRuntime.EnsureCorrectCpuKernels(network);
        int exits = network.ExitCount;
        var segments = new long[exits];
        var heads = new long[exits];
        bool wasTraining = network.training;
        using var counter = new MacCounter(network, inputShape[0]);
        try
        {
            network.eval();
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            var x = torch.zeros(inputShape, device: device ?? torch.CPU);
            for (int i = 0; i < exits; i++)
            {
                long before = counter.Total;
                x = network.ForwardSegment(i, x);
                segments[i] = counter.Total - before;
                before = counter.Total;
                network.ForwardExit(i, x);
                heads[i] = counter.Total - before;
            }
        }
        finally
        {
            network.train(wasTraining);
        }
        var cumulative = new long[exits];
        long backbone = 0;
        for (int i = 0; i < exits; i++)
        {
            backbone += segments[i];
            cumulative[i] = backbone + heads[i];
        }
        return new EarlyExitCostReport(segments, heads, cumulative, counter.Uncounted);
    }

    /// <summary>Forward hooks on every convolution and linear layer of a module that add up its MACs per example.</summary>
    private sealed class MacCounter : IDisposable
    {
        private readonly List<Action> _removers = [];
        private readonly HashSet<nn.Module> _seen = new(ReferenceEqualityComparer.Instance);
        private readonly int _layers;

        public MacCounter(nn.Module module, long batch)
        {
            foreach (var m in module.modules())
            {
                switch (m)
                {
                    case Conv2d conv:
                        _layers++;
                        var convHook = conv.register_forward_hook((_, _, output) =>
                        {
                            _seen.Add(conv);
                            var w = conv.weight!.shape;
                            Total += output.numel() / batch * w[1] * w[2] * w[3];
                            return null!;
                        });
                        _removers.Add(convHook.remove);
                        break;
                    case Linear linear:
                        _layers++;
                        var linearHook = linear.register_forward_hook((_, _, output) =>
                        {
                            _seen.Add(linear);
                            Total += output.numel() / batch * linear.weight!.shape[1];
                            return null!;
                        });
                        _removers.Add(linearHook.remove);
                        break;
                }
            }
        }

        public long Total { get; private set; }

        public int Uncounted => _layers - _seen.Count;

        public void Dispose()
        {
            foreach (var remove in _removers) remove();
        }
    }
}
