using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.Optimizers;

/// <summary>Options of <see cref="NaDartsOptimizer"/> (reconstruction defaults, spec §8.3 [R]).</summary>
public sealed class NaDartsOptions
{
    /// <summary>Neighbours sampled per architecture step (K).</summary>
    /// <value>Default 4.</value>
    public int NeighborCount { get; set; } = 4;

    /// <summary>Whether the current architecture's own loss is part of the average (<c>1/(K+1)·[L(α) + Σ_k L(α^(k))]</c>).</summary>
    /// <value>Default true.</value>
    public bool IncludeCenter { get; set; } = true;

    /// <summary>Seed mixed with the step's <see cref="SearchClock.GlobalStep"/> to sample neighbours reproducibly.</summary>
    /// <value>Default 0.</value>
    public int Seed { get; set; }

    /// <summary>Returns a copy.</summary>
    public NaDartsOptions Clone() => (NaDartsOptions)MemberwiseClone();

    /// <summary>Lists what is wrong with these options (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (NeighborCount < 1)
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(NeighborCount)} = {NeighborCount} is invalid: must be at least 1."));
        return errors;
    }
}

/// <summary>
/// NA-DARTS (neighbourhood-aware DARTS), first order: the architecture gradient of the mean validation loss over the current
/// architecture and K sampled neighbours, <c>G = ∇_α 1/(K+1)·[L_val(w, α) + Σ_k L_val(w, N_k(α))]</c>, where the neighbours
/// <c>N_k</c> come from an <see cref="INeighborhoodRepresentation"/> (default <see cref="LogitSwapNeighborhood"/>, our
/// reconstruction — the paper's exact construction was not available). Neighbours are drawn from a generator seeded by
/// <see cref="NaDartsOptions.Seed"/> and the step's global index, so a search is reproducible. Costs K+1 validation passes.
/// </summary>
public sealed class NaDartsOptimizer : IArchitectureOptimizer
{
    private readonly NaDartsOptions _options;

    /// <summary>Creates the optimizer.</summary>
    /// <param name="options">Options; defaults as documented on <see cref="NaDartsOptions"/>.</param>
    /// <param name="neighborhood">The differentiable neighbourhood; defaults to <see cref="LogitSwapNeighborhood"/> with radius 1.</param>
    public NaDartsOptimizer(NaDartsOptions? options = null, INeighborhoodRepresentation? neighborhood = null)
    {
        _options = (options ?? new NaDartsOptions()).Clone();
        var errors = _options.Validate();
        if (errors.Count > 0) throw new ArgumentException("Invalid NA-DARTS options: " + string.Join(" ", errors), nameof(options));
        Neighborhood = neighborhood ?? new LogitSwapNeighborhood();
    }

    /// <summary>The options (a copy).</summary>
    public NaDartsOptions Options => _options.Clone();

    /// <summary>The differentiable neighbourhood representation.</summary>
    public INeighborhoodRepresentation Neighborhood { get; }

    /// <inheritdoc />
    public string Name => OptimizerName;

    /// <summary>The registry name, <c>na-darts</c>.</summary>
    public const string OptimizerName = "na-darts";

    /// <inheritdoc />
    public bool IsFirstOrder => true;

    /// <summary>The generator used for a step: seeded from <see cref="NaDartsOptions.Seed"/> and the global step index.</summary>
    /// <param name="seed">The options' seed.</param>
    /// <param name="globalStep">The step's global index.</param>
    internal static Random StepRandom(int seed, long globalStep) =>
        new(unchecked((int)((seed * 1_000_003L + globalStep) * 2_654_435_761L >> 7)));

    /// <inheritdoc />
    public IReadOnlyList<Tensor> ComputeGradient(ArchitectureStep step, IReadOnlyList<Tensor> architecture)
    {
        ArgumentNullException.ThrowIfNull(step);
        using var scope = torch.NewDisposeScope();
        var alphas = Gradients.RequiringGrad(architecture);
        var random = StepRandom(_options.Seed, step.Clock.GlobalStep);
        int terms = _options.NeighborCount + (_options.IncludeCenter ? 1 : 0);
        Tensor[]? sum = null;
        // Each neighbour's pass runs in its own dispose scope; only the running sum leaves it.
        void Accumulate(IReadOnlyList<Tensor> point) => sum = Gradients.InOwnScope(() =>
        {
            var g = Gradients.Of(step.ValidationLoss(point) / terms, alphas);
            return sum is null ? g : sum.Zip(g, (a, b) => a + b).ToArray();
        });
        if (_options.IncludeCenter) Accumulate(alphas);
        // Sample all neighbours from the current α, then evaluate them one at a time (one graph alive at once).
        var neighbors = Neighborhood.Neighbors(alphas, _options.NeighborCount, random);
        foreach (var n in neighbors) Accumulate(n);
        foreach (var g in sum!) g.MoveToOuterDisposeScope();
        return sum;
    }
}
