using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.Optimizers;

/// <summary>Options of <see cref="ResourcePenaltyRegularizer"/>: the budget [L, U], the weight λ and when the penalty starts.</summary>
public sealed class ResourcePenaltyOptions
{
    /// <summary>Lower end L of the budget (e.g. parameters).</summary>
    /// <value>Default 0.</value>
    public double Lower { get; set; }

    /// <summary>Upper end U of the budget.</summary>
    /// <value>Default +∞ (no upper bound).</value>
    public double Upper { get; set; } = double.PositiveInfinity;

    /// <summary>The penalty weight λ (constant).</summary>
    /// <value>Default 1.</value>
    public double Lambda { get; set; } = 1.0;

    /// <summary>The divisor that brings the resource to the loss's scale.</summary>
    /// <value>Default 1e6 (ZO-DARTS++: parameters in millions).</value>
    public double Scale { get; set; } = 1e6;

    /// <summary>First zero-based epoch with the penalty (ZO-DARTS++ switches it on at epoch 20).</summary>
    /// <value>Default 0.</value>
    public int StartEpoch { get; set; }

    /// <summary>Every problem with the options, each naming the field; empty when they are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        void Check(bool ok, string field, object value, string expected)
        {
            if (!ok) errors.Add(string.Create(CultureInfo.InvariantCulture, $"{field} = {value} is invalid: {expected}."));
        }
        Check(double.IsFinite(Lower) && Lower >= 0, nameof(Lower), Lower, "must be a non-negative number");
        Check(!double.IsNaN(Upper) && Upper >= Lower, nameof(Upper), Upper, $"must be at least {nameof(Lower)}");
        Check(double.IsFinite(Lambda) && Lambda >= 0, nameof(Lambda), Lambda, "must be a non-negative number");
        Check(double.IsFinite(Scale) && Scale > 0, nameof(Scale), Scale, "must be a positive number");
        Check(StartEpoch >= 0, nameof(StartEpoch), StartEpoch, "must be non-negative");
        return errors;
    }

    /// <summary>Returns a copy.</summary>
    public ResourcePenaltyOptions Clone() => (ResourcePenaltyOptions)MemberwiseClone();
}

/// <summary>
/// A budget penalty on a differentiable expected resource (ZO-DARTS++, docs/spec/secondary-methods.md §2.3.3): adds
/// <c>λ·(relu(P − U) + relu(L − P)) / scale</c> to the validation loss, where <c>P = expectedCost(p)</c> is the expected resource
/// (e.g. parameters) under the mixing weights <c>p = </c><see cref="ArchitectureStep.MixingWeights"/>(α), so the search's
/// activation (softmax, sparsemax) is respected. Inside [L, U] the term and its gradient are zero; outside, the α-gradient is
/// <c>±λ/scale · ∂P/∂p</c> times the activation's Jacobian. For NAS-Bench-201 pass the parameter count of
/// <c>Nb201ResourceModel</c>: <c>p =&gt; model.ExpectedParameters(p[0])</c>.
/// </summary>
/// <remarks>
/// λ is constant (ZO-DARTS++'s λ = 15/τ_t is not reproduced). A loss-shaping regularizer, so it composes with every optimizer:
/// with ZO-DARTS its gradient enters <c>a</c> and is projected on z like the cross-entropy's.
/// </remarks>
public sealed class ResourcePenaltyRegularizer : IFlatnessRegularizer
{
    /// <summary>The default name, <c>resource-penalty</c>.</summary>
    public const string RegularizerName = "resource-penalty";

    private readonly Func<IReadOnlyList<Tensor>, Tensor> _expectedCost;
    private readonly ResourcePenaltyOptions _options;

    /// <summary>Creates the regularizer.</summary>
    /// <param name="expectedCost">The differentiable expected resource P of the mixing weights (one tensor per architecture tensor); returns a scalar.</param>
    /// <param name="options">Budget, λ, scale and start epoch.</param>
    /// <param name="name">The name (recorded in checkpoints); distinct names let two penalties (e.g. parameters and MACs) coexist.</param>
    /// <exception cref="ArgumentException">The options are invalid (the message names the field).</exception>
    public ResourcePenaltyRegularizer(Func<IReadOnlyList<Tensor>, Tensor> expectedCost, ResourcePenaltyOptions options, string name = RegularizerName)
    {
        ArgumentNullException.ThrowIfNull(expectedCost);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var errors = options.Validate();
        if (errors.Count > 0) throw new ArgumentException("Invalid resource penalty options: " + string.Join(" ", errors), nameof(options));
        _expectedCost = expectedCost;
        _options = options.Clone();
        Name = name;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>The options (a copy).</summary>
    public ResourcePenaltyOptions Options => _options.Clone();

    /// <summary>The expected resource P at <paramref name="architecture"/> under the step's activation.</summary>
    public Tensor ExpectedCost(IReadOnlyList<Tensor> architecture, ArchitectureStep step)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(step);
        return _expectedCost(step.MixingWeights(architecture));
    }

    /// <inheritdoc />
    public Tensor? LossTerm(IReadOnlyList<Tensor> architecture, ArchitectureStep step)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(step);
        if (step.Epoch < _options.StartEpoch || _options.Lambda == 0) return null;
        var p = ExpectedCost(architecture, step);
        var over = double.IsPositiveInfinity(_options.Upper) ? torch.zeros_like(p) : nn.functional.relu(p - _options.Upper);
        var under = nn.functional.relu(_options.Lower - p);
        return (over + under) * (_options.Lambda / _options.Scale);
    }
}
