using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.Optimizers;

/// <summary>
/// A²M (Architecture-Aware Minimization): replaces the architecture gradient by the gradient of
/// <c>ℓ(α + ρ·∇ℓ(α))</c>, from four evaluations of the wrapped gradient function:
/// <c>g = ∇ℓ(α)</c>, <c>α̃ = α + ρ·g</c> (raw, unnormalised), <c>g̃ = ∇ℓ(α̃)</c>,
/// <c>G = g̃ + ρ·(∇ℓ(α̃ + ε·g̃) − ∇ℓ(α̃ − ε·g̃)) / (2ε)</c>.
/// </summary>
/// <remarks>
/// Every pass works on detached copies of α (α is never written); all four see the same validation batch and every loss
/// term (<see cref="ArchitectureStep.ValidationLoss"/>). All architecture tensors are perturbed jointly. Needs a
/// first-order host optimizer. Provenance: docs/methods.md.
/// </remarks>
public sealed partial class A2MRegularizer : IFlatnessRegularizer, ISearchComponentSettings
{
    private readonly ILogger _logger;

    /// <summary>Creates the regularizer.</summary>
    /// <param name="options">Hyper-parameters; defaults to <see cref="A2MOptions.ForNb201"/>.</param>
    /// <param name="logger">Receives ‖g‖ and ‖g̃‖ per step at Debug level; none by default.</param>
    public A2MRegularizer(A2MOptions? options = null, ILogger? logger = null)
    {
        var o = (options ?? A2MOptions.ForNb201()).Clone();
        var errors = o.Validate();
        if (errors.Count > 0) throw new ArgumentException("Invalid A²M options: " + string.Join(" ", errors), nameof(options));
        Rho = o.Rho;
        FiniteDifferenceStep = o.FiniteDifferenceStep;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Perturbation radius ρ.</summary>
    public double Rho { get; }

    /// <summary>Absolute finite-difference step ε.</summary>
    public double FiniteDifferenceStep { get; }

    /// <summary>The settings a resumed search must share (<see cref="ISearchComponentSettings"/>): ρ and ε.</summary>
    public IReadOnlyDictionary<string, string> Settings => SearchComponentSettings.Of(("rho", Rho), ("epsilon", FiniteDifferenceStep));

    /// <summary>‖g‖ (gradient at α) of the last step; NaN before the first.</summary>
    public double LastGradientNorm { get; private set; } = double.NaN;

    /// <summary>‖g̃‖ (gradient at the perturbed α̃) of the last step; NaN before the first.</summary>
    public double LastPerturbedGradientNorm { get; private set; } = double.NaN;

    /// <inheritdoc />
    public string Name => RegularizerName;

    /// <summary>The registry name, <c>a2m</c>.</summary>
    public const string RegularizerName = "a2m";

    /// <inheritdoc />
    public bool RequiresFirstOrderOptimizer => true;

    /// <summary>Its contribution to a step: the gradient wrapper <see cref="Gradient"/> at the step.</summary>
    public RegularizerContribution Contribute(ArchitectureStep step) => new() { Gradient = (a, inner) => Gradient(step, a, inner) };

    /// <summary>The A²M gradient G at <paramref name="architecture"/>, from four evaluations of <paramref name="inner"/>.</summary>
    public IReadOnlyList<Tensor> Gradient(ArchitectureStep step, IReadOnlyList<Tensor> architecture, ArchitectureGradientFunction inner)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(inner);
        using var scope = torch.NewDisposeScope();
        Tensor[] a0;
        using (torch.no_grad()) a0 = architecture.Select(a => a.detach().clone()).ToArray();

        var g = Pass(inner, a0);                                              // pass 1
        var tilde = Combine(a0, g, Rho);                                      // α̃ = α + ρ g
        var gTilde = Pass(inner, tilde);                                      // pass 2
        var gPlus = Pass(inner, Combine(tilde, gTilde, FiniteDifferenceStep));   // pass 3
        var gMinus = Pass(inner, Combine(tilde, gTilde, -FiniteDifferenceStep)); // pass 4

        var result = new Tensor[a0.Length];
        using (torch.no_grad())
        {
            for (int i = 0; i < result.Length; i++)
            {
                var hvp = (gPlus[i] - gMinus[i]) / (2 * FiniteDifferenceStep);
                result[i] = (gTilde[i] + Rho * hvp).detach();
            }
            LastGradientNorm = Norm(g);
            LastPerturbedGradientNorm = Norm(gTilde);
        }
        LogNorms(_logger, step?.Clock.GlobalStep ?? -1, LastGradientNorm, LastPerturbedGradientNorm);
        foreach (var r in result) r.MoveToOuterDisposeScope();
        return result;
    }

    private static Tensor[] Pass(ArchitectureGradientFunction inner, IReadOnlyList<Tensor> point) =>
        Gradients.InOwnScope(() => Detached(inner(Fresh(point))));

    private static Tensor[] Fresh(IReadOnlyList<Tensor> point) =>
        point.Select(t => t.detach().clone().requires_grad_(true)).ToArray();

    private static Tensor[] Detached(IReadOnlyList<Tensor> gradient) => gradient.Select(t => t.detach()).ToArray();

    private static Tensor[] Combine(IReadOnlyList<Tensor> point, IReadOnlyList<Tensor> direction, double scale)
    {
        if (point.Count != direction.Count)
            throw new InvalidOperationException($"The wrapped gradient function returned {direction.Count} tensors for {point.Count} architecture tensors.");
        using var _ = torch.no_grad();
        return point.Select((p, i) => (p + scale * direction[i].to(p.dtype)).detach()).ToArray();
    }

    private static double Norm(IReadOnlyList<Tensor> tensors) =>
        Math.Sqrt(tensors.Sum(t => t.to(float64).square().sum().item<double>()));

    [LoggerMessage(EventId = 101, Level = LogLevel.Debug, Message = "A²M step {Step}: ‖g‖ = {GradientNorm:G4}, ‖g̃‖ = {PerturbedGradientNorm:G4}")]
    private static partial void LogNorms(ILogger logger, long step, double gradientNorm, double perturbedGradientNorm);
}
