using NasFlatness.Optimizers;
using NasFlatness.Search;
using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.MethodEvidence;

/// <summary>
/// Mixing weights equal to the given tensor (no normalisation). Passed to <see cref="Supernet.Forward"/> so that the supernet
/// mixes with exactly the weights passed in, e.g. the one-hot of a derived genotype.
/// </summary>
internal sealed class IdentityActivation : IArchitectureActivation
{
    public static IdentityActivation Instance { get; } = new();

    public string Name => "identity";

    public Tensor Activate(Tensor logits) => logits.alias();
}

/// <summary>
/// The discretisation gap of the last epoch: the supernet's validation loss on a fixed set of validation batches (eval mode,
/// no augmentation) with its final α under the search's activation, and with the mixing weights replaced by the one-hot
/// discretisation <see cref="Supernet.DiscreteIndicator"/> of those weights (per edge the argmax operation, which is the
/// derived NAS-Bench-201 genotype), passed in with <see cref="IdentityActivation"/>. Both are reported as epoch metrics of the last epoch, so they are checkpointed with it.
/// </summary>
internal sealed class DiscretisationGapObserver : ISearchObserver, IEpochMetricsProvider, IDisposable
{
    public const string LossAlpha = "gap-loss-alpha", LossOneHot = "gap-loss-onehot", AccuracyAlpha = "gap-acc-alpha", AccuracyOneHot = "gap-acc-onehot";

    private readonly Batch[] _batches;
    private Supernet? _supernet;
    private IArchitectureActivation _activation = SoftmaxActivation.Instance;
    private int _totalEpochs = int.MaxValue;

    public DiscretisationGapObserver(ISearchDataset data, int batches, int batchSize)
    {
        int count = Math.Min(data.Count(SearchSplit.Validation), batches * batchSize);
        var indices = Enumerable.Range(0, count).ToArray();
        var list = new List<Batch>();
        for (int start = 0; start < count; start += batchSize)
        {
            int n = Math.Min(batchSize, count - start);
            var b = data.GetBatch(SearchSplit.Validation, indices.AsSpan(start, n), augment: false, new Random(0), torch.CPU);
            list.Add(new Batch(b.Images.DetachFromDisposeScope(), b.Labels.DetachFromDisposeScope()));
        }
        _batches = list.ToArray();
        Images = count;
    }

    public int Images { get; }

    public void OnEpochStarting(EpochStart epoch)
    {
        _supernet = epoch.Supernet;
        _activation = epoch.Activation;
        _totalEpochs = epoch.Clock.TotalEpochs;
    }

    public void AddEpochMetrics(int epoch, IDictionary<string, double> metrics)
    {
        if (epoch != _totalEpochs - 1 || _supernet is not { } net) return;
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        bool training = net.training;
        net.eval();
        try
        {
            var alpha = net.ArchitectureParameters().Select(p => (Tensor)p.detach()).ToArray();
            var oneHot = net.DiscreteIndicator(net.MixingWeights(alpha, _activation));
            var (la, aa) = Loss(net, alpha, _activation);
            var (lo, ao) = Loss(net, oneHot, IdentityActivation.Instance);
            metrics[LossAlpha] = la;
            metrics[AccuracyAlpha] = aa;
            metrics[LossOneHot] = lo;
            metrics[AccuracyOneHot] = ao;
        }
        finally
        {
            net.train(training);
        }
    }

    private (double Loss, double Accuracy) Loss(Supernet net, IReadOnlyList<Tensor> architecture, IArchitectureActivation activation)
    {
        double loss = 0;
        long correct = 0, seen = 0;
        foreach (var b in _batches)
        {
            using var scope = torch.NewDisposeScope();
            var logits = net.Forward(b.Images, architecture, activation);
            long n = b.Labels.shape[0];
            loss += nn.functional.cross_entropy(logits, b.Labels).item<float>() * n;
            correct += logits.argmax(1).eq(b.Labels).sum().item<long>();
            seen += n;
        }
        return (loss / seen, (double)correct / seen);
    }

    public void Dispose()
    {
        foreach (var b in _batches)
        {
            b.Images.Dispose();
            b.Labels.Dispose();
        }
    }
}

/// <summary>
/// ZO-DARTS++'s resource penalty weight λ_t = λ0/τ_t (λ0 = 15, secondary-methods.md §2.3.3) around
/// <see cref="ResourcePenaltyRegularizer"/> (which holds a constant λ): the inner term is built with λ = 1 and scaled by
/// λ0/τ of the current epoch, τ read from the sparsemax schedule of the search.
/// </summary>
internal sealed class TemperatureScaledResourcePenalty(ResourcePenaltyRegularizer inner, SparsemaxActivation schedule, double lambda0) : IFlatnessRegularizer
{
    public string Name => inner.Name;

    public RegularizerContribution Contribute(ArchitectureStep step) => new()
    {
        LossTerm = architecture => inner.LossTerm(architecture, step) is { } term ? term * (lambda0 / schedule.TemperatureAt(step.Clock.Epoch)) : null,
    };
}
