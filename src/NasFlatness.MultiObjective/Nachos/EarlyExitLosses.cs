using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.MultiObjective.Nachos;

/// <summary>
/// The NACHOS early-exit quantities and loss terms (docs/spec/secondary-methods.md §5.2), on a confidence matrix C of shape
/// [B, E] (column i is exit i's confidence; the last column is 1). All are differentiable in C and the logits unless
/// stated otherwise, and keep C's dtype (use float64 for exact oracles).
/// </summary>
public static class EarlyExitLosses
{
    /// <summary>Exit weights w<sub>i</sub> = c<sub>i</sub>·Π<sub>j&lt;i</sub>(1 − c<sub>j</sub>) (the probability that a sample leaves at exit i),
    /// shape [B, E]. With c<sub>last</sub> = 1 each row sums to 1. Example: c = [0.6, 0.5, 1] gives w = [0.6, 0.2, 0.2].</summary>
    public static Tensor ExitWeights(Tensor confidences)
    {
        CheckMatrix(confidences, nameof(confidences));
        long e = confidences.shape[1];
        if (e == 1) return confidences.alias();
        using var scope = torch.NewDisposeScope();
        var stay = (1 - confidences.narrow(1, 0, e - 1)).cumprod(1);
        var reach = torch.cat([torch.ones_like(confidences.narrow(1, 0, 1)), stay], 1);
        return (confidences * reach).MoveToOuterDisposeScope();
    }

    /// <summary>Expected MACs of a batch, mean<sub>b</sub> Σ<sub>i</sub> w<sub>bi</sub>·cost<sub>i</sub> (scalar): weights [0.6, 0.2, 0.2] and costs [10, 20, 40] give 18.</summary>
    /// <param name="exitWeights">Exit weights [B, E] (from <see cref="ExitWeights"/>).</param>
    /// <param name="exitCosts">Cumulative cost of each exit (backbone up to the exit plus the exit classifier), one per column.</param>
    public static Tensor ExpectedCost(Tensor exitWeights, IReadOnlyList<double> exitCosts)
    {
        CheckMatrix(exitWeights, nameof(exitWeights));
        CheckCosts(exitWeights, exitCosts);
        using var scope = torch.NewDisposeScope();
        var costs = torch.tensor(exitCosts.ToArray(), dtype: exitWeights.dtype, device: exitWeights.device);
        return (exitWeights * costs).sum(1).mean().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// NACHOS's MAC regulariser: when the last exit costs more than <paramref name="macLimit"/>,
    /// max(0, E[MACs] − m<sub>max</sub>) / |cost<sub>last</sub> − m<sub>max</sub>|, else 0. Weights [0.6, 0.2, 0.2], costs [10, 20, 40] and a limit 15 give 0.12.
    /// </summary>
    /// <param name="exitWeights">Exit weights [B, E].</param>
    /// <param name="exitCosts">Cumulative exit costs.</param>
    /// <param name="macLimit">m<sub>max</sub>, in the units of the costs.</param>
    /// <param name="codeCompatible">True returns the value as a detached number (no gradient, no effect on training;
    /// docs/nachos.md); false (the default) keeps it differentiable.</param>
    public static Tensor MacPenalty(Tensor exitWeights, IReadOnlyList<double> exitCosts, double macLimit, bool codeCompatible = false)
    {
        CheckMatrix(exitWeights, nameof(exitWeights));
        CheckCosts(exitWeights, exitCosts);
        double last = exitCosts[^1];
        if (!(last > macLimit)) return torch.zeros([], dtype: exitWeights.dtype, device: exitWeights.device);
        using var scope = torch.NewDisposeScope();
        var expected = ExpectedCost(exitWeights, exitCosts);
        var violation = (expected - macLimit).clamp_min(0) / Math.Abs(last - macLimit);
        if (codeCompatible)
            return torch.tensor(violation.to(ScalarType.Float64).item<double>(), dtype: exitWeights.dtype, device: exitWeights.device).MoveToOuterDisposeScope();
        return violation.MoveToOuterDisposeScope();
    }

    /// <summary>Σ<sub>i</sub> mean<sub>b</sub>(w<sub>bi</sub>·CE(logits<sub>i</sub>[b], y<sub>b</sub>)).</summary>
    public static Tensor ClassificationLoss(IReadOnlyList<Tensor> logits, Tensor labels, Tensor exitWeights)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(labels);
        CheckMatrix(exitWeights, nameof(exitWeights));
        if (logits.Count != exitWeights.shape[1])
            throw new ArgumentException($"There are {logits.Count} logit tensors but {exitWeights.shape[1]} exit weights per sample.", nameof(logits));
        using var scope = torch.NewDisposeScope();
        Tensor? total = null;
        for (int i = 0; i < logits.Count; i++)
        {
            var ce = nn.functional.cross_entropy(logits[i], labels, reduction: nn.Reduction.None);
            var term = (exitWeights.select(1, i) * ce).mean();
            total = total is null ? term : total + term;
        }
        return total!.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The class-balanced weights of the prior: for a column of 0/1 targets with n ones and z zeros out of t, ones get
    /// t/(2n) and zeros t/(2z) (0 when that count is 0). Correctness [1, 1, 1, 0] gives 0.667 for the ones and 2 for the zero.
    /// </summary>
    /// <param name="targets">Targets [B, E'] (1 = the exit is correct), floating point.</param>
    public static Tensor PriorWeights(Tensor targets)
    {
        CheckMatrix(targets, nameof(targets));
        using var scope = torch.NewDisposeScope();
        double total = targets.shape[0];
        var ones = targets.sum(0, keepdim: true);
        var zeros = total - ones;
        var w1 = torch.where(ones > 0, total / (2 * ones.clamp_min(1)), torch.zeros_like(ones));
        var w0 = torch.where(zeros > 0, total / (2 * zeros.clamp_min(1)), torch.zeros_like(zeros));
        return (w1 * targets + w0 * (1 - targets)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The prior on the confidences: the class-balanced BCE between clamp(c<sub>i</sub>, 1e-4, 1 − 1e-4) and "exit i's argmax
    /// is correct", averaged over the batch and every exit but the last (0 for a single exit). Targets and weights carry no gradient.
    /// </summary>
    public static Tensor PriorLoss(Tensor confidences, IReadOnlyList<Tensor> logits, Tensor labels)
    {
        CheckMatrix(confidences, nameof(confidences));
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(labels);
        long e = confidences.shape[1];
        if (e <= 1) return torch.zeros([], dtype: confidences.dtype, device: confidences.device);
        using var scope = torch.NewDisposeScope();
        Tensor targets, weights;
        using (torch.no_grad())
        {
            targets = torch.stack(logits.Take((int)e - 1).Select(l => l.argmax(1).eq(labels)).ToArray(), 1).to(confidences.dtype);
            weights = PriorWeights(targets);
        }
        var c = confidences.narrow(1, 0, e - 1).clamp(1e-4, 1 - 1e-4);
        return nn.functional.binary_cross_entropy(c, targets, weights, reduction: nn.Reduction.Mean).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The "support" regulariser: mean<sub>b</sub> mean<sub>i</sub> (c<sub>bi</sub> − centroid[y<sub>b</sub>, i])², pulling each sample's
    /// confidence vector towards its class centroid measured on the support set.
    /// </summary>
    /// <param name="confidences">Confidences [B, E].</param>
    /// <param name="labels">Labels [B].</param>
    /// <param name="centroids">Per-class centroids [classes, E] (no gradient needed).</param>
    public static Tensor SupportLoss(Tensor confidences, Tensor labels, Tensor centroids)
    {
        CheckMatrix(confidences, nameof(confidences));
        CheckMatrix(centroids, nameof(centroids));
        using var scope = torch.NewDisposeScope();
        var target = centroids.index_select(0, labels).to(confidences.dtype);
        return (confidences - target).square().mean().MoveToOuterDisposeScope();
    }

    /// <summary>Cumulative exit weights W<sub>i</sub> = Σ<sub>k≤i</sub> w<sub>k</sub> of one sample's confidences (c = [0.6, 0.5, 1] gives [0.6, 0.8, 1.0]).</summary>
    public static double[] CumulativeExitWeights(ReadOnlySpan<double> confidences)
    {
        var result = new double[confidences.Length];
        double reach = 1, sum = 0;
        for (int i = 0; i < confidences.Length; i++)
        {
            double c = i == confidences.Length - 1 ? 1.0 : confidences[i];
            sum += c * reach;
            reach *= 1 - c;
            result[i] = sum;
        }
        return result;
    }

    private static void CheckMatrix(Tensor t, string name)
    {
        ArgumentNullException.ThrowIfNull(t, name);
        if (t.dim() != 2 || t.shape[1] < 1) throw new ArgumentException($"{name} must have shape [B, E] with E ≥ 1, got [{string.Join(", ", t.shape)}].", name);
    }

    private static void CheckCosts(Tensor weights, IReadOnlyList<double> costs)
    {
        ArgumentNullException.ThrowIfNull(costs);
        if (costs.Count != weights.shape[1])
            throw new ArgumentException($"There are {costs.Count} exit costs but {weights.shape[1]} exits.", nameof(costs));
    }
}
