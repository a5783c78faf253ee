using System.Globalization;
using NasFlatness.SearchSpaces.ZoDartsPlusPlus;
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

    /// <summary>
    /// When set, λ follows the search's temperature: <c>λ_t = TemperatureScaledLambda / τ_t</c> with τ_t the temperature of the
    /// search's <see cref="SparsemaxActivation"/> at the step's epoch (τ = 1 under any other activation), replacing <see cref="Lambda"/>.
    /// ZO-DARTS++ uses 15.
    /// </summary>
    /// <value>Default null (constant <see cref="Lambda"/>).</value>
    public double? TemperatureScaledLambda { get; set; }

    /// <summary>
    /// When set, [L, U] is the budget of this size given by the searched supernet (<see cref="IParameterBudgetModel.ParameterBudget"/>),
    /// replacing <see cref="Lower"/> and <see cref="Upper"/>; the supernet must implement <see cref="IParameterBudgetModel"/>.
    /// </summary>
    /// <value>Default null (<see cref="Lower"/> and <see cref="Upper"/>).</value>
    public ParameterBudgetSize? Budget { get; set; }

    /// <summary>
    /// Whether the penalty waits until every architecture tensor of the supernet is active (<see cref="Supernet.IsArchitectureTensorActive"/>):
    /// in the ZO-DARTS++ space it then starts exactly at the space's switch epoch, whatever that is. Applies on top of <see cref="StartEpoch"/>.
    /// </summary>
    /// <value>Default false.</value>
    public bool WaitForAllArchitectureTensors { get; set; }

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
        if (TemperatureScaledLambda is double scaled) Check(double.IsFinite(scaled) && scaled >= 0, nameof(TemperatureScaledLambda), scaled, "must be a non-negative number");
        if (Budget is ParameterBudgetSize size) Check(Enum.IsDefined(size), nameof(Budget), size, "must be Small, Medium or Large");
        return errors;
    }

    /// <summary>Returns a copy.</summary>
    public ResourcePenaltyOptions Clone() => (ResourcePenaltyOptions)MemberwiseClone();
}

/// <summary>
/// A budget penalty on a differentiable expected resource: adds <c>λ·(relu(P − U) + relu(L − P)) / scale</c> to the validation loss,
/// <c>P = expectedCost(p)</c> under the mixing weights <see cref="ArchitectureStep.MixingWeights"/>; zero with zero gradient inside
/// [L, U]. λ is constant or <c>c/τ_t</c> (<see cref="ResourcePenaltyOptions.TemperatureScaledLambda"/>). Without an expected-cost
/// function it uses the supernet's <see cref="IParameterBudgetModel"/>, and <see cref="ResourcePenaltyOptions.Budget"/> takes [L, U]
/// from it. A loss term, so it composes with every optimizer (ZO-DARTS++: docs/methods-zo.md).
/// </summary>
public sealed class ResourcePenaltyRegularizer : IFlatnessRegularizer, ISearchComponentSettings
{
    /// <summary>The default name, <c>resource-penalty</c>.</summary>
    public const string RegularizerName = "resource-penalty";

    private readonly Func<IReadOnlyList<Tensor>, Tensor>? _expectedCost;
    private readonly ResourcePenaltyOptions _options;

    /// <summary>Creates the regularizer.</summary>
    /// <param name="expectedCost">The differentiable expected resource P of the mixing weights (one tensor per architecture tensor); returns a scalar.</param>
    /// <param name="options">Budget, λ, scale and start epoch.</param>
    /// <param name="name">The name (recorded in checkpoints); distinct names let two penalties (e.g. parameters and MACs) coexist.</param>
    /// <exception cref="ArgumentException">The options are invalid (the message names the field).</exception>
    public ResourcePenaltyRegularizer(Func<IReadOnlyList<Tensor>, Tensor> expectedCost, ResourcePenaltyOptions options, string name = RegularizerName)
        : this(expectedCost ?? throw new ArgumentNullException(nameof(expectedCost)), options, name, supernetModel: false)
    {
    }

    /// <summary>
    /// Creates the regularizer on the searched supernet's own parameter model: P = <see cref="IParameterBudgetModel.ExpectedParameters"/>
    /// of the mixing weights (the supernet must implement <see cref="IParameterBudgetModel"/>, e.g. the ZO-DARTS++ space's).
    /// </summary>
    /// <param name="options">Budget (or <see cref="ResourcePenaltyOptions.Budget"/>), λ, scale and start epoch.</param>
    /// <param name="name">The name (recorded in checkpoints).</param>
    /// <exception cref="ArgumentException">The options are invalid (the message names the field).</exception>
    public ResourcePenaltyRegularizer(ResourcePenaltyOptions options, string name = RegularizerName)
        : this(null, options, name, supernetModel: true)
    {
    }

    private ResourcePenaltyRegularizer(Func<IReadOnlyList<Tensor>, Tensor>? expectedCost, ResourcePenaltyOptions options, string name, bool supernetModel)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        _ = supernetModel;
        var errors = options.Validate();
        if (errors.Count > 0) throw new ArgumentException("Invalid resource penalty options: " + string.Join(" ", errors), nameof(options));
        _expectedCost = expectedCost;
        _options = options.Clone();
        Name = name;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>The settings a resumed search must share (<see cref="ISearchComponentSettings"/>): the budget, λ, scale and start.</summary>
    public IReadOnlyDictionary<string, string> Settings => SearchComponentSettings.Of(("lower", _options.Lower), ("upper", _options.Upper), ("lambda", _options.Lambda), ("scale", _options.Scale),
        ("temperature-scaled-lambda", _options.TemperatureScaledLambda), ("budget", _options.Budget), ("wait-for-all-architecture-tensors", _options.WaitForAllArchitectureTensors),
        ("start-epoch", _options.StartEpoch));

    /// <summary>λ at <paramref name="step"/>: constant, or <see cref="ResourcePenaltyOptions.TemperatureScaledLambda"/>/τ_t.</summary>
    public double LambdaAt(ArchitectureStep step)
    {
        ArgumentNullException.ThrowIfNull(step);
        if (_options.TemperatureScaledLambda is not double scaled) return _options.Lambda;
        double tau = step.Activation is SparsemaxActivation sparsemax ? sparsemax.TemperatureAt(step.Clock.Epoch) : 1.0;
        return scaled / tau;
    }

    /// <summary>The budget [L, U] used at <paramref name="step"/> (the options', or the supernet's of <see cref="ResourcePenaltyOptions.Budget"/>).</summary>
    public (double Lower, double Upper) BudgetAt(ArchitectureStep step)
    {
        ArgumentNullException.ThrowIfNull(step);
        return _options.Budget is ParameterBudgetSize size ? Model(step).ParameterBudget(size) : (_options.Lower, _options.Upper);
    }

    private static bool AllActive(Supernet supernet)
    {
        int count = supernet.ArchitectureParameters().Count;
        for (int i = 0; i < count; i++) if (!supernet.IsArchitectureTensorActive(i)) return false;
        return true;
    }

    private IParameterBudgetModel Model(ArchitectureStep step) =>
        step.Supernet as IParameterBudgetModel
        ?? throw new InvalidOperationException(
            $"The resource penalty '{Name}' takes its expected parameter count or budget from the supernet, but {step.Supernet.GetType().Name} does not implement {nameof(IParameterBudgetModel)} (the 'nas-bench-201-varied' space's does). Pass an expected-cost function and [Lower, Upper] instead.");

    /// <summary>The options (a copy).</summary>
    public ResourcePenaltyOptions Options => _options.Clone();

    /// <summary>The expected resource P at <paramref name="architecture"/> under the step's activation.</summary>
    public Tensor ExpectedCost(IReadOnlyList<Tensor> architecture, ArchitectureStep step)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(step);
        var p = step.MixingWeights(architecture);
        return _expectedCost is null ? Model(step).ExpectedParameters(p) : _expectedCost(p);
    }

    /// <summary>Its contribution to a step: the loss term <see cref="LossTerm"/> at the step.</summary>
    public RegularizerContribution Contribute(ArchitectureStep step) => new() { LossTerm = a => LossTerm(a, step) };

    /// <summary>The term added to the architecture loss at <paramref name="architecture"/> on <paramref name="step"/>, or null for none.</summary>
    public Tensor? LossTerm(IReadOnlyList<Tensor> architecture, ArchitectureStep step)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(step);
        double lambda = LambdaAt(step);
        if (step.Clock.Epoch < _options.StartEpoch || lambda == 0) return null;
        if (_options.WaitForAllArchitectureTensors && !AllActive(step.Supernet)) return null;
        var (lower, upper) = BudgetAt(step);
        var p = ExpectedCost(architecture, step);
        var over = double.IsPositiveInfinity(upper) ? torch.zeros_like(p) : nn.functional.relu(p - upper);
        var under = nn.functional.relu(lower - p);
        return (over + under) * (lambda / _options.Scale);
    }
}
