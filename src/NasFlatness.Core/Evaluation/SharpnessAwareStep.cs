using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.Evaluation;

/// <summary>Which sharpness-aware training step the evaluation trainer takes.</summary>
public enum SharpnessAwareness
{
    /// <summary>The plain step: the optimizer uses the gradient at w.</summary>
    None,

    /// <summary>SAM (Foret et al. 2021): ε = ρ·g/‖g‖; the optimizer uses the gradient at w + ε.</summary>
    Sam,

    /// <summary>Adaptive SAM (Kwon et al. 2021, as FlatNAS trains): ε = ρ·T²g/‖Tg‖ with T = |w| elementwise.</summary>
    Asam,
}

/// <summary>
/// The two-pass sharpness-aware step for any set of parameters and any base optimizer. Pass 1: the caller backpropagates
/// the loss at w (gradient g), then <see cref="Perturb"/> keeps exact copies of the weights (and of the module's buffers)
/// and moves the weights to w + ε with ε = ρ·g/(‖g‖ + 1e-12) (SAM) or ε = ρ·|w|²⊙g/(‖|w|⊙g‖ + 1e-12) (ASAM), norms over
/// all parameters together. Pass 2: the caller zeroes the gradients and backpropagates the loss at w + ε, then
/// <see cref="Restore"/> copies the saved weights back (bit-exact, not w + ε − ε) and the base optimizer steps with g(w + ε).
/// <see cref="Step"/> does all of it for a loss closure.
/// </summary>
/// <remarks>
/// BatchNorm running statistics are updated in pass 1 only: <see cref="Perturb"/> also copies the module's buffers and
/// <see cref="Restore"/> writes them back, which discards whatever pass 2 wrote (running mean/variance, batch counter).
/// This equals the reference implementations' "momentum 0 during pass 2" without touching any module's settings, and pass 2
/// still normalises with its own batch statistics as in training mode (switching BN to eval would change the loss whose gradient is taken).
/// </remarks>
public sealed class SharpnessAwareStep
{
    private const double Epsilon = 1e-12;
    private readonly Parameter[] _parameters;
    private readonly nn.Module? _module;
    private readonly SharpnessAwareness _mode;
    private Tensor[]? _savedWeights;
    private Tensor[]? _savedBuffers;
    private Tensor[]? _buffers;

    /// <summary>Creates the step for <paramref name="parameters"/>; <paramref name="module"/> (optional) owns the buffers kept out of pass 2.</summary>
    /// <param name="parameters">The trained parameters (those the base optimizer steps).</param>
    /// <param name="mode">SAM or ASAM.</param>
    /// <param name="rho">Radius ρ of the ascent step (SAM paper: 0.05; FlatNAS ASAM: 2.0).</param>
    /// <param name="module">The module whose buffers (BatchNorm running statistics) keep their pass-1 values; null keeps none.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="mode"/> is <see cref="SharpnessAwareness.None"/> or unknown, or <paramref name="rho"/> is not positive and finite.</exception>
    public SharpnessAwareStep(IEnumerable<Parameter> parameters, SharpnessAwareness mode, double rho, nn.Module? module = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (mode is not (SharpnessAwareness.Sam or SharpnessAwareness.Asam))
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "A sharpness-aware step is SAM or ASAM.");
        if (!(rho > 0) || double.IsInfinity(rho))
            throw new ArgumentOutOfRangeException(nameof(rho), rho, "ρ must be positive and finite.");
        _parameters = [.. parameters];
        _mode = mode;
        Rho = rho;
        _module = module;
    }

    /// <summary>The radius ρ.</summary>
    public double Rho { get; }

    /// <summary>The variant.</summary>
    public SharpnessAwareness Mode => _mode;

    /// <summary>
    /// After pass 1's backward: saves the weights and buffers and moves the weights to w + ε computed from their current
    /// gradients (parameters without a gradient are not moved). Returns ε per parameter (null where not moved), in the
    /// caller's dispose scope.
    /// </summary>
    /// <exception cref="InvalidOperationException">A perturbation is already in place (call <see cref="Restore"/> first).</exception>
    public IReadOnlyList<Tensor?> Perturb()
    {
        if (_savedWeights is not null) throw new InvalidOperationException("The weights are already perturbed; call Restore first.");
        using var noGrad = torch.no_grad();
        var epsilons = new Tensor?[_parameters.Length];
        using (var scope = torch.NewDisposeScope())
        {
            // ‖g‖ (SAM) or ‖|w|⊙g‖ (ASAM) over all parameters, in float64 for the sum of squares.
            Tensor? squares = null;
            foreach (var p in _parameters)
            {
                if (p.grad is not { } g) continue;
                var t = _mode == SharpnessAwareness.Asam ? p.abs().mul(g) : g;
                var s = t.to(float64).square().sum();
                squares = squares is null ? s : squares.add(s);
            }
            if (squares is null) throw new InvalidOperationException("No parameter has a gradient: backpropagate the loss at w before Perturb.");
            var scale = torch.tensor(Rho, float64).div(squares.sqrt().add(Epsilon));
            _savedWeights = new Tensor[_parameters.Length];
            for (int i = 0; i < _parameters.Length; i++)
            {
                var p = _parameters[i];
                _savedWeights[i] = p.detach().clone().DetachFromDisposeScope();
                if (p.grad is not { } g) continue;
                // ε = ρ·g/(‖g‖+1e-12) or ρ·w²⊙g/(‖|w|⊙g‖+1e-12), in the parameter's own dtype.
                var e = (_mode == SharpnessAwareness.Asam ? p.square().mul(g) : g.clone()).mul_(scale.to(p.dtype).to(p.device));
                p.add_(e);
                epsilons[i] = e.MoveToOuterDisposeScope();
            }
            if (_module is not null)
            {
                _buffers = [.. _module.buffers()];
                _savedBuffers = [.. _buffers.Select(b => b.clone().DetachFromDisposeScope())];
            }
        }
        return epsilons;
    }

    /// <summary>After pass 2's backward: writes the saved weights back (bit-exact) and the saved buffers (pass 2's BN updates are discarded); gradients are kept.</summary>
    /// <exception cref="InvalidOperationException">No perturbation is in place.</exception>
    public void Restore()
    {
        if (_savedWeights is null) throw new InvalidOperationException("The weights are not perturbed; call Perturb first.");
        using var noGrad = torch.no_grad();
        for (int i = 0; i < _parameters.Length; i++)
        {
            _parameters[i].copy_(_savedWeights[i]);
            _savedWeights[i].Dispose();
        }
        _savedWeights = null;
        if (_buffers is not null && _savedBuffers is not null)
        {
            for (int i = 0; i < _buffers.Length; i++)
            {
                _buffers[i].copy_(_savedBuffers[i]);
                _savedBuffers[i].Dispose();
            }
        }
        _buffers = null;
        _savedBuffers = null;
    }

    /// <summary>
    /// One whole sharpness-aware step: zero the gradients, backpropagate <paramref name="loss"/> at w, <see cref="Perturb"/>,
    /// zero the gradients, backpropagate <paramref name="loss"/> at w + ε, <see cref="Restore"/>, then
    /// <c>optimizer.step()</c> with g(w + ε). Returns the pass-1 loss (at w).
    /// </summary>
    /// <param name="loss">Computes the minibatch loss at the current weights (called twice, on the same batch).</param>
    /// <param name="optimizer">The base optimizer (e.g. SGD) over the same parameters.</param>
    public Tensor Step(Func<Tensor> loss, optim.Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(optimizer);
        optimizer.zero_grad();
        var first = loss();
        first.backward();
        Perturb();
        try
        {
            optimizer.zero_grad();
            loss().backward();
        }
        finally
        {
            Restore();
        }
        optimizer.step();
        return first;
    }
}
