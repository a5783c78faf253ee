using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.Optimizers;

/// <summary>
/// β-DARTS (beta-decay) regularisation: adds <c>λ_t · Σ_blocks mean_e logsumexp_o(α_{e,o})</c> to the validation loss, so it
/// composes with any optimizer (and sits inside all four A²M passes); its gradient with respect to an edge's logits is
/// <c>λ_t · softmax(α_e) / E</c>. Only operation-mixture tensors (two-dimensional) are regularised; λ follows the epoch.
/// Departures from the β-DARTS and A²M code: docs/methods.md.
/// </summary>
public sealed class BetaDecayRegularizer : IFlatnessRegularizer, ISearchComponentSettings
{
    /// <summary>Creates the regularizer.</summary>
    /// <param name="schedule">The λ schedule; defaults to <see cref="BetaDecaySchedule.Default"/> (<c>λ_t = 0.5·t</c>).</param>
    public BetaDecayRegularizer(BetaDecaySchedule? schedule = null)
    {
        Schedule = schedule ?? BetaDecaySchedule.Default;
    }

    /// <summary>The λ schedule.</summary>
    public BetaDecaySchedule Schedule { get; }

    /// <summary>The settings a resumed search must share (<see cref="ISearchComponentSettings"/>): the λ schedule.</summary>
    public IReadOnlyDictionary<string, string> Settings => SearchComponentSettings.Of(("lambda-slope-per-epoch", Schedule.SlopePerEpoch), ("lambda-start", Schedule.Start));

    /// <inheritdoc />
    public string Name => RegularizerName;

    /// <summary>The registry name, <c>beta-decay</c>.</summary>
    public const string RegularizerName = "beta-decay";

    /// <summary>The unweighted regulariser of one α block: <c>mean over rows of logsumexp(row)</c>.</summary>
    /// <param name="alpha">Logits, one row per edge.</param>
    public static Tensor Loss(Tensor alpha)
    {
        ArgumentNullException.ThrowIfNull(alpha);
        return alpha.logsumexp(-1).mean();
    }

    /// <summary>Its contribution to a step: the loss term <see cref="LossTerm"/> at the step.</summary>
    public RegularizerContribution Contribute(ArchitectureStep step) => new() { LossTerm = a => LossTerm(a, step) };

    /// <summary>The term added to the architecture loss at <paramref name="architecture"/> on <paramref name="step"/>, or null for none.</summary>
    public Tensor? LossTerm(IReadOnlyList<Tensor> architecture, ArchitectureStep step)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(step);
        double lambda = Schedule.At(step.Clock.Epoch);
        if (lambda == 0) return null;
        Tensor? sum = null;
        foreach (var a in architecture)
        {
            if (a.dim() != 2) continue;
            var term = Loss(a);
            sum = sum is null ? term : sum + term;
        }
        return sum is null ? null : sum * lambda;
    }
}
