using NasFlatness.Optimizers;
using NasFlatness.Search;
using NasFlatness.SearchSpaces.Darts;
using NasFlatness.SearchSpaces.Nb201;

namespace NasFlatness.Extensions.DependencyInjection;

/// <summary>
/// What <c>AddNasFlatness</c> registers: the search space, the architecture optimizer and the loop options.
/// Bind it from configuration (e.g. an <c>appsettings.json</c> section <c>"NasFlatness"</c>); it is validated at start.
/// </summary>
public sealed class NasFlatnessOptions
{
    /// <summary>The search space: <c>nas-bench-201</c> or <c>darts</c>.</summary>
    /// <value>Default <c>nas-bench-201</c>.</value>
    public string SearchSpace { get; set; } = Nb201SearchSpace.SpaceName;

    /// <summary>The architecture optimizer: <c>darts-1st</c> or <c>darts-2nd</c>.</summary>
    /// <value>Default <c>darts-1st</c>.</value>
    public string Optimizer { get; set; } = "darts-1st";

    /// <summary>
    /// A method preset (one of <see cref="NasFlatness.Optimizers.MethodPresets.Names"/>, e.g. <c>beta-darts+a2m</c>). When set, it
    /// chooses the architecture optimizer (<see cref="Optimizer"/> is ignored), the flatness regularizers, the
    /// supernet variant (partial channels) and the search settings its paper or code used (batch size, learning
    /// rates, warm-up, selection rule), on top of <see cref="Search"/>.
    /// </summary>
    /// <value>Default null (plain <see cref="Optimizer"/>, no regularizers).</value>
    public string? Method { get; set; }

    /// <summary>Shape of NAS-Bench-201 networks (used when <see cref="SearchSpace"/> is <c>nas-bench-201</c>).</summary>
    public Nb201Options Nb201 { get; set; } = new();

    /// <summary>DARTS-space options (used when <see cref="SearchSpace"/> is <c>darts</c>).</summary>
    public DartsSpaceOptions Darts { get; set; } = new();

    /// <summary>Options of the bilevel search loop.</summary>
    public SearchOptions Search { get; set; } = new();

    /// <summary>Names accepted by <see cref="SearchSpace"/>.</summary>
    public static IReadOnlyList<string> SearchSpaceNames { get; } = [Nb201SearchSpace.SpaceName, DartsSearchSpace.SpaceName];

    /// <summary>Names accepted by <see cref="Optimizer"/>.</summary>
    public static IReadOnlyList<string> OptimizerNames { get; } = ["darts-1st", "darts-2nd"];
}
