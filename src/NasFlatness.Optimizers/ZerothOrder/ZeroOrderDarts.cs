using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.Optimizers;

/// <summary>
/// ZO-DARTS: the architecture gradient is the zeroth-order estimate <c>Ĝ = (aᵀz + Δᵀb)·z</c> of the hypergradient through a
/// round of weight steps, from a shadow supernet trained along α + μz (<see cref="OnWeightStep"/>). Not first order. Use it with
/// <see cref="EveryKStepsSchedule"/>(R); a resumed search is bit-identical (nothing to checkpoint). Dispose it to free the shadow.
/// Estimator, round order and the official code's variant (<see cref="ZeroOrderDartsOptions.CodeCompatible"/>): docs/methods-zo.md.
/// </summary>
public sealed class ZeroOrderDarts : IArchitectureOptimizer, IDisposable
{
    /// <summary>The registry name, <c>zo-darts</c>.</summary>
    public const string OptimizerName = "zo-darts";

    private readonly ZeroOrderDartsOptions _options;
    private Supernet? _source;
    private Supernet? _shadow;
    private Parameter[] _sourceParameters = [];
    private Parameter[] _shadowParameters = [];
    private Tensor[] _sourceBuffers = [];
    private Tensor[] _shadowBuffers = [];
    private Tensor[] _direction = [];
    private Tensor?[] _momentum = [];
    private double _mu;
    private double _momentumFactor;
    private double _weightDecay;
    private double _roundLearningRate;
    private bool _roundOpen;

    /// <summary>Creates the optimizer.</summary>
    /// <param name="options">Options; null uses the defaults.</param>
    /// <exception cref="ArgumentException">The options are invalid (the message names the field).</exception>
    public ZeroOrderDarts(ZeroOrderDartsOptions? options = null)
    {
        _options = (options ?? new ZeroOrderDartsOptions()).Clone();
        var errors = _options.Validate();
        if (errors.Count > 0) throw new ArgumentException("Invalid ZO-DARTS options: " + string.Join(" ", errors), nameof(options));
    }

    /// <summary>The options (a copy).</summary>
    public ZeroOrderDartsOptions Options => _options.Clone();

    /// <inheritdoc />
    public string Name => OptimizerName;

    /// <inheritdoc />
    public bool IsFirstOrder => false;

    /// <summary>μ of the current round (0 before the first round).</summary>
    public double PerturbationSize => _mu;

    /// <summary>Weight steps the shadow has taken in the current round.</summary>
    public int RoundSteps { get; private set; }

    /// <summary>The shadow network (tests).</summary>
    internal Supernet? Shadow => _shadow;

    private bool _disposed;

    /// <summary>Replaces the random directions (tests): given the global step of the round start and α, returns z (unit norm expected).</summary>
    internal Func<long, IReadOnlyList<Tensor>, IReadOnlyList<Tensor>>? DirectionOverride { get; set; }

    /// <inheritdoc />
    public void OnEpochStarting(EpochStart epoch)
    {
        ArgumentNullException.ThrowIfNull(epoch);
        StartRound(epoch.Supernet, epoch.WeightOptimizer, epoch.Clock.GlobalStep, epoch.WeightLearningRate);
    }

    /// <inheritdoc />
    public void OnArchitectureStepped(ArchitectureStep step)
    {
        ArgumentNullException.ThrowIfNull(step);
        StartRound(step.Supernet, step.WeightOptimizer, step.Clock.GlobalStep, step.WeightOptimizer.LearningRate);
    }

    /// <inheritdoc />
    public void OnWeightStep(WeightStep step)
    {
        ArgumentNullException.ThrowIfNull(step);
        if (!_roundOpen || _shadow is null || !ReferenceEquals(step.Supernet, _source)) return;
        using var scope = torch.NewDisposeScope();
        _shadow.train();
        var trained = _options.CodeCompatible
            ? [.. _shadow.WeightParameters(), .. _shadow.ArchitectureParameters()]
            : _shadow.WeightParameters().ToArray();
        var logits = _options.CodeCompatible
            ? _shadow.Forward(step.Train.Images, _shadow.ArchitectureParameters(), step.Activation)
            : _shadow.ForwardFixedArchitecture(step.Train.Images, step.Activation);
        var loss = nn.functional.cross_entropy(logits, step.Train.Labels);
        var grads = Gradients.Of(loss, trained);
        ClipByGlobalNorm(grads, _options.GradientClip);
        double lr = _options.CodeCompatible ? _roundLearningRate : step.WeightLearningRate;
        SgdStep(trained, grads, _momentum, lr, _momentumFactor, _weightDecay);
        RoundSteps++;
    }

    /// <inheritdoc />
    public IReadOnlyList<Tensor> ComputeGradient(ArchitectureStep step, IReadOnlyList<Tensor> architecture)
    {
        ArgumentNullException.ThrowIfNull(step);
        ArgumentNullException.ThrowIfNull(architecture);
        if (!_roundOpen || _shadow is null)
            throw new InvalidOperationException(
                "ZO-DARTS has no open round: its shadow network starts in OnEpochStarting and after every architecture step. Run it through the SearchRunner (or call those hooks, then OnWeightStep after each weight step).");
        if (!ReferenceEquals(step.Supernet, _source))
            throw new InvalidOperationException("The architecture step's supernet is not the one whose round ZO-DARTS has open.");
        using var scope = torch.NewDisposeScope();
        var alphas = Gradients.RequiringGrad(architecture);
        var weights = step.Supernet.WeightParameters().ToArray();
        var grads = Gradients.Of(step.ValidationLoss(alphas), [.. alphas, .. weights]);
        var a = grads.Take(alphas.Count).ToArray();
        var b = grads.Skip(alphas.Count).ToArray();
        var result = Estimate(a, b, weights, _shadow.WeightParameters().ToArray(), _mu, _direction);
        foreach (var t in result) t.MoveToOuterDisposeScope();
        return result;
    }

    /// <summary>
    /// The estimator's core: <c>Ĝ = (aᵀz + Δᵀb)·z</c> with <c>Δ = (w⁺ − w)/μ</c>, the inner products over all tensors together,
    /// in float64. Returns one tensor per entry of <paramref name="a"/> (its dtype).
    /// </summary>
    /// <param name="a">∇α L_val(w, α), one tensor per architecture tensor.</param>
    /// <param name="b">∇w L_val(w, α), one tensor per weight tensor.</param>
    /// <param name="weights">The main network's weights w after the round.</param>
    /// <param name="shadowWeights">The shadow's weights w⁺ after the round (trained at α + μz).</param>
    /// <param name="mu">μ.</param>
    /// <param name="direction">z, shaped like <paramref name="a"/>.</param>
    internal static Tensor[] Estimate(IReadOnlyList<Tensor> a, IReadOnlyList<Tensor> b, IReadOnlyList<Tensor> weights,
        IReadOnlyList<Tensor> shadowWeights, double mu, IReadOnlyList<Tensor> direction)
    {
        if (a.Count != direction.Count) throw new ArgumentException($"z has {direction.Count} tensors but α has {a.Count}.", nameof(direction));
        if (b.Count != weights.Count || weights.Count != shadowWeights.Count)
            throw new ArgumentException($"The weight gradients ({b.Count}), the weights ({weights.Count}) and the shadow's weights ({shadowWeights.Count}) do not match.", nameof(shadowWeights));
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor projection = torch.zeros([], dtype: float64);
        for (int i = 0; i < a.Count; i++)
            projection = projection + (a[i].detach().to(float64) * direction[i].to(float64)).sum().cpu();
        Tensor trained = torch.zeros([], dtype: float64);
        for (int j = 0; j < b.Count; j++)
            trained = trained + ((shadowWeights[j].detach().to(float64) - weights[j].detach().to(float64)) * b[j].detach().to(float64)).sum().cpu();
        double s = (projection + trained / mu).item<double>();
        var result = new Tensor[a.Count];
        for (int i = 0; i < a.Count; i++)
            result[i] = (direction[i].to(float64) * s).to(a[i].dtype).to(a[i].device).MoveToOuterDisposeScope();
        return result;
    }

    /// <summary>
    /// One SGD step as torch's SGD takes it (dampening 0, no Nesterov): <c>d = g + λ·p</c>; with momentum μ the buffer becomes
    /// <c>d</c> on its first use and <c>μ·buf + d</c> after; <c>p ← p − η·buf</c>. Buffers are created in place in
    /// <paramref name="momentum"/> (outside any dispose scope).
    /// </summary>
    internal static void SgdStep(IReadOnlyList<Tensor> parameters, IReadOnlyList<Tensor> grads, Tensor?[] momentum, double learningRate, double momentumFactor, double weightDecay)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            var d = weightDecay != 0 ? grads[i].add(p, weightDecay) : grads[i];
            if (momentumFactor != 0)
            {
                if (momentum[i] is { } buffer) buffer.mul_(momentumFactor).add_(d);
                else momentum[i] = d.detach().clone().DetachFromDisposeScope();
                d = momentum[i]!;
            }
            p.add_(d, -learningRate);
        }
    }

    /// <summary>Scales the gradients as <c>clip_grad_norm_</c> does: by <c>min(1, max / (‖g‖ + 1e-6))</c> with ‖g‖ the global L2 norm.</summary>
    internal static void ClipByGlobalNorm(IReadOnlyList<Tensor> grads, double maxNorm)
    {
        if (grads.Count == 0) return;
        using var scope = torch.NewDisposeScope();
        var norms = torch.stack(grads.Select(g => g.norm()).ToArray());
        double total = norms.norm().to(float64).item<double>();
        double coefficient = maxNorm / (total + 1e-6);
        if (coefficient < 1)
            foreach (var g in grads) g.mul_(coefficient);
    }

    /// <summary>The unit direction of the round starting at <paramref name="globalStep"/>: N(0, I) from a generator seeded with (seed, step), normalised.</summary>
    internal static Tensor[] RandomDirection(int seed, long globalStep, IReadOnlyList<Tensor> like)
    {
        using var scope = torch.NewDisposeScope();
        long total = like.Sum(t => t.numel());
        using var generator = new torch.Generator(MixSeed(seed, globalStep));
        var v = torch.randn([total], dtype: float64, generator: generator);
        v = v / v.norm();
        var result = new Tensor[like.Count];
        long offset = 0;
        for (int i = 0; i < like.Count; i++)
        {
            long n = like[i].numel();
            result[i] = v.narrow(0, offset, n).reshape(like[i].shape).to(like[i].dtype).to(like[i].device).MoveToOuterDisposeScope();
            offset += n;
        }
        return result;
    }

    private static ulong MixSeed(int seed, long step)
    {
        // SplitMix64 of (seed, step): neighbouring steps get unrelated generator seeds.
        ulong x = unchecked((ulong)(uint)seed * 0x9E3779B97F4A7C15UL + (ulong)step + 0x632BE59BD9B4E019UL);
        x = unchecked((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL);
        x = unchecked((x ^ (x >> 27)) * 0x94D049BB133111EBUL);
        return x ^ (x >> 31);
    }

    private void StartRound(Supernet supernet, WeightOptimizerState? state, long globalStep, double learningRate)
    {
        ArgumentNullException.ThrowIfNull(supernet);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (state is null)
            throw new InvalidOperationException("ZO-DARTS needs the weight optimizer's state at the start of a round (EpochStart.WeightOptimizer); the SearchRunner provides it.");
        EnsureShadow(supernet);
        foreach (var t in _direction) t.Dispose();
        foreach (var t in _momentum) t?.Dispose();

        using var scope = torch.NewDisposeScope();
        var alphas = supernet.ArchitectureParameters();
        // Only the active architecture tensors are perturbed (ZO-DARTS++ activates its kernel and depth mixtures at its switch
        // epoch: z spans α alone before it and α, α_mix, α_exit after); μ is taken over them too.
        var activeIndices = Enumerable.Range(0, alphas.Count).Where(supernet.IsArchitectureTensorActive).ToArray();
        var active = activeIndices.Select(i => (Tensor)alphas[i]).ToArray();
        double norm;
        using (torch.no_grad())
            norm = Math.Sqrt(active.Sum(a => a.detach().to(float64).square().sum().item<double>()));
        _mu = _options.PerturbationScale * (norm > 0 ? norm : 1.0);
        var direction = DirectionOverride?.Invoke(globalStep, active) ?? RandomDirection(_options.Seed, globalStep, active);
        if (direction.Count != active.Length) throw new InvalidOperationException($"The direction has {direction.Count} tensors but α has {active.Length} active tensors.");
        _direction = alphas.Select(a => torch.zeros_like(a).DetachFromDisposeScope()).ToArray();
        using (torch.no_grad())
            for (int j = 0; j < activeIndices.Length; j++) _direction[activeIndices[j]].copy_(direction[j].detach());

        var shadowAlphas = _shadow!.ArchitectureParameters();
        using (torch.no_grad())
        {
            for (int i = 0; i < _sourceParameters.Length; i++) _shadowParameters[i].copy_(_sourceParameters[i]);
            for (int i = 0; i < _sourceBuffers.Length; i++) _shadowBuffers[i].copy_(_sourceBuffers[i]);
            for (int i = 0; i < shadowAlphas.Count; i++) shadowAlphas[i].add_(_direction[i], _mu);
        }

        int trainedCount = _shadow.WeightParameters().Count() + (_options.CodeCompatible ? shadowAlphas.Count : 0);
        _momentum = new Tensor?[trainedCount];
        if (!_options.CodeCompatible)
        {
            var buffers = state.MomentumBuffers();
            for (int i = 0; i < buffers.Count && i < _momentum.Length; i++)
                _momentum[i] = buffers[i]?.detach().clone().DetachFromDisposeScope();
        }
        _momentumFactor = state.Momentum;
        _weightDecay = state.WeightDecay;
        _roundLearningRate = learningRate;
        RoundSteps = 0;
        _roundOpen = true;
    }

    private void EnsureShadow(Supernet supernet)
    {
        if (ReferenceEquals(supernet, _source) && _shadow is not null) return;
        if (!_options.AllowRunningStatistics && TracksRunningStatistics(supernet))
            throw new InvalidOperationException(
                "ZO-DARTS follows the official code, whose search cells use batch statistics only, but this supernet's affine-free (search-cell) BatchNorms track running statistics. " +
                "Build the space with Nb201Options.TrackRunningStats = false (or DartsSpaceOptions.TrackRunningStats = false), or set ZeroOrderDartsOptions.AllowRunningStatistics = true.");
        _shadow?.Dispose();
        _shadow = supernet.Clone();
        _source = supernet;
        _sourceParameters = supernet.parameters().ToArray();
        _shadowParameters = _shadow.parameters().ToArray();
        _sourceBuffers = supernet.buffers().ToArray();
        _shadowBuffers = _shadow.buffers().ToArray();
        _roundOpen = false;
    }

    /// <summary>Whether any affine-free BatchNorm (the search cells' normalisation in the built-in spaces) keeps running statistics.</summary>
    internal static bool TracksRunningStatistics(Supernet supernet) =>
        supernet.modules().Any(m => m switch
        {
            BatchNorm2d bn => bn.weight is null && bn.running_mean is not null,
            BatchNorm1d bn => bn.weight is null && bn.running_mean is not null,
            _ => false,
        });

    /// <summary>Frees the shadow network and the round's tensors; a disposed optimizer starts no further round.</summary>
    public void Dispose()
    {
        _disposed = true;
        _shadow?.Dispose();
        _shadow = null;
        _source = null;
        foreach (var t in _direction) t.Dispose();
        foreach (var t in _momentum) t?.Dispose();
        _direction = [];
        _momentum = [];
        _roundOpen = false;
    }
}
