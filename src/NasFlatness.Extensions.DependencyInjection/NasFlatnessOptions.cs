using NasFlatness.Search;
using NasFlatness.SearchSpaces.Darts;
using NasFlatness.SearchSpaces.Nb201;
using NasFlatness.SearchSpaces.ZoDartsPlusPlus;

namespace NasFlatness.Extensions.DependencyInjection;

/// <summary>
/// What <c>AddNasFlatness</c> composes, by registry names (see <see cref="NasFlatnessRegistry"/>): the search space, the
/// method preset or architecture optimizer, extra regularizers, the activation and the update schedule, and the loop
/// options. Bind it from configuration (e.g. an <c>appsettings.json</c> section <c>"NasFlatness"</c>); it is validated
/// at start against the registry, so a user's own components registered with
/// <see cref="Microsoft.Extensions.DependencyInjection.NasFlatnessBuilderExtensions.AddSearchSpace{T}(Microsoft.Extensions.DependencyInjection.INasFlatnessBuilder, string)"/> and friends are selectable by name like the built-ins.
/// </summary>
public sealed class NasFlatnessOptions
{
    /// <summary>The search space: <c>nas-bench-201</c>, <c>darts</c> or a registered name.</summary>
    /// <value>Default <c>nas-bench-201</c>.</value>
    public string SearchSpace { get; set; } = Nb201SearchSpace.SpaceName;

    /// <summary>
    /// The architecture optimizer: <c>darts-1st</c>, <c>darts-2nd</c>, <c>na-darts</c> or a registered name. With a
    /// <see cref="Method"/>, leave it unset (or set the preset's own optimizer): another optimizer is an error at start.
    /// </summary>
    /// <value>Default null: the preset's optimizer, or <c>darts-1st</c>.</value>
    public string? Optimizer { get; set; }

    /// <summary>
    /// A method preset (e.g. <c>beta-darts+a2m</c>, or a registered preset). It chooses the architecture optimizer, the
    /// flatness regularizers, the supernet variant (partial channels) and the search settings its paper or code used
    /// (batch size, learning rates, warm-up, selection rule), on top of <see cref="Search"/>.
    /// </summary>
    /// <value>Default null (plain <see cref="Optimizer"/>).</value>
    public string? Method { get; set; }

    /// <summary>Regularizers added after the preset's (registry names, e.g. <c>a2m</c>, <c>beta-decay</c>).</summary>
    /// <value>Default none.</value>
    public List<string> Regularizers { get; set; } = [];

    /// <summary>The activation turning α into mixing weights: <c>softmax</c> or a registered name.</summary>
    /// <value>Default null: the preset's, or <c>softmax</c>.</value>
    public string? Activation { get; set; }

    /// <summary>The architecture-update schedule: <c>every-step</c> or a registered name.</summary>
    /// <value>Default null: the preset's, or <c>every-step</c>.</value>
    public string? Schedule { get; set; }

    /// <summary>Shape of NAS-Bench-201 networks (used when <see cref="SearchSpace"/> is <c>nas-bench-201</c>).</summary>
    public Nb201Options Nb201 { get; set; } = new();

    /// <summary>DARTS-space options (used when <see cref="SearchSpace"/> is <c>darts</c>).</summary>
    public DartsSpaceOptions Darts { get; set; } = new();

    /// <summary>Options of the ZO-DARTS++ space (used when <see cref="SearchSpace"/> is <c>nas-bench-201-varied</c>).</summary>
    public ZoDartsPlusPlusOptions ZoDartsPlusPlus { get; set; } = new();

    /// <summary>Options of the bilevel search loop.</summary>
    public SearchOptions Search { get; set; } = new();

    /// <summary>The composition these options name.</summary>
    public SearchComposition ToComposition() => new()
    {
        SearchSpace = SearchSpace,
        Method = Method,
        Optimizer = Optimizer,
        Regularizers = Regularizers.ToArray(),
        Activation = Activation,
        Schedule = Schedule,
    };
}
