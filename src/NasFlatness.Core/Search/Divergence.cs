using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.Search;

/// <summary>
/// What diverged first, and which setting drives it. After an architecture step α is checked; when it is not finite,
/// the supernet's validation loss at the α before the step tells whether the weights went first (a non-finite loss:
/// <c>WeightLearningRate</c>) or α itself (<c>ArchitectureLearningRate</c>). At an epoch's end — each step's loss and
/// gradient norm were finite — the weights, the BatchNorm statistics, the epoch's mean training loss and the supernet's
/// validation loss/accuracy are checked, in that order, before the epoch is recorded or checkpointed, so the last good
/// checkpoint stays.
/// </summary>
internal static class Divergence
{
    /// <summary>The exception for a weight-driven quantity (training loss, weight-gradient norm, weights, validation metrics).</summary>
    public static SearchDivergedException WeightDriven(string quantity, double value, int epoch, int step) =>
        new(quantity, value, epoch, step, $"Lower {nameof(SearchOptions.WeightLearningRate)} and start over.", nameof(SearchOptions.WeightLearningRate));

    /// <summary>Detached copies of α (freed with the caller's dispose scope).</summary>
    public static Tensor[] Snapshot(IReadOnlyList<TorchSharp.Modules.Parameter> architecture) => architecture.Select(a => a.detach().clone()).ToArray();

    /// <summary>
    /// Throws when α is not finite after <paramref name="step"/>: blaming the weights when the supernet's validation loss at
    /// <paramref name="before"/> (α before the step) is already non-finite, else α.
    /// </summary>
    public static void RequireFiniteArchitecture(IReadOnlyList<TorchSharp.Modules.Parameter> architecture, IReadOnlyList<Tensor> before, ArchitectureStep step)
    {
        for (int i = 0; i < architecture.Count; i++)
        {
            if (FirstNonFinite(architecture[i]) is not double value) continue;
            double loss;
            using (torch.no_grad())
            using (var scope = torch.NewDisposeScope())
                loss = nn.functional.cross_entropy(step.Forward(step.Validation.Images, before), step.Validation.Labels).to(float64).item<double>();
            if (!double.IsFinite(loss))
                throw WeightDriven($"supernet's validation loss of the architecture step (α[{i}] became {value.ToString(System.Globalization.CultureInfo.InvariantCulture)} from it)",
                    loss, step.Clock.Epoch, step.Clock.Step);
            throw new SearchDivergedException($"architecture parameter α[{i}]", value, step.Clock.Epoch, step.Clock.Step,
                $"Lower {nameof(SearchOptions.ArchitectureLearningRate)} and start over.", nameof(SearchOptions.ArchitectureLearningRate));
        }
    }

    /// <summary>Throws <see cref="SearchDivergedException"/> when anything the epoch ends with is non-finite.</summary>
    /// <param name="supernet">The supernet after the epoch's last step.</param>
    /// <param name="trainLoss">The epoch's mean training loss.</param>
    /// <param name="validationLoss">The supernet's validation loss (NaN when not evaluated).</param>
    /// <param name="validationAccuracy">The supernet's validation accuracy (NaN when not evaluated).</param>
    /// <param name="evaluated">Whether the validation split was evaluated (then NaN is divergence).</param>
    /// <param name="epoch">Zero-based epoch.</param>
    /// <param name="stepsPerEpoch">Steps of the epoch (the exception names the last one).</param>
    public static void Check(Supernet supernet, double trainLoss, double validationLoss, double validationAccuracy, bool evaluated, int epoch, int stepsPerEpoch)
    {
        int last = stepsPerEpoch - 1;
        var architecture = supernet.ArchitectureParameters().Select(p => p.Handle).ToHashSet();
        foreach (var (name, p) in supernet.named_parameters())
        {
            if (architecture.Contains(p.Handle)) continue; // α is checked after every architecture step
            if (FirstNonFinite(p) is double bad) throw WeightDriven($"supernet weight '{name}' at the end of the epoch", bad, epoch, last);
        }
        foreach (var (name, b) in supernet.named_buffers())
        {
            if (!b.is_floating_point()) continue;
            if (FirstNonFinite(b) is double bad) throw WeightDriven($"supernet statistic '{name}' (a BatchNorm running value) at the end of the epoch", bad, epoch, last);
        }
        if (!double.IsFinite(trainLoss)) throw WeightDriven("mean training loss of the epoch", trainLoss, epoch, last);
        if (!evaluated) return;
        if (!double.IsFinite(validationLoss)) throw WeightDriven("supernet's validation loss at the end of the epoch", validationLoss, epoch, last);
        if (!double.IsFinite(validationAccuracy)) throw WeightDriven("supernet's validation accuracy at the end of the epoch", validationAccuracy, epoch, last);
    }

    private static double? FirstNonFinite(Tensor t)
    {
        using var scope = torch.NewDisposeScope();
        var flat = t.detach().flatten();
        if (torch.isfinite(flat).all().item<bool>()) return null;
        var index = torch.isfinite(flat).logical_not().nonzero()[0, 0].item<long>();
        return flat[index].to(float64).item<double>();
    }
}
