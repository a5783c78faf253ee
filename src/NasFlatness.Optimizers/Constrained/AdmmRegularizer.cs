using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.Optimizers;

/// <summary>Options of <see cref="AdmmRegularizer"/>.</summary>
public sealed class AdmmOptions
{
    /// <summary>The penalty weight ρ of <c>(ρ/2)·‖p − Z + U‖_F</c>.</summary>
    /// <value>Default 0.1 (the scheduled DARTS-PRIME script; <c>train_admm.py</c> uses 1e-3).</value>
    public double Rho { get; set; } = 0.1;

    /// <summary>Z and U are updated after every this many architecture (α) steps (the code's <c>admm_freq</c>).</summary>
    /// <value>Default 10.</value>
    public int UpdateEvery { get; set; } = 10;

    /// <summary>
    /// False (default) updates Z and U from the raw logits α as the official code does: <c>Z ← D(act(α + U))</c>,
    /// <c>U ← γ·U + (α − Z)</c>, with Z starting at α. True uses the paper's form on the mixing weights p = act(α):
    /// <c>Z ← D(p + U)</c>, <c>U ← γ·U + (p − Z)</c>, with Z starting at p.
    /// </summary>
    /// <value>Default false (code-compatible).</value>
    public bool PaperForm { get; set; }

    /// <summary>The factor γ on the old dual in the U update (the code's <c>zuewma</c>, which the scheduled script leaves at 1).</summary>
    /// <value>Default 1.0.</value>
    public double DualDecay { get; set; } = 1.0;

    /// <summary>Every problem with these options, each naming the field; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!(Rho >= 0) || double.IsInfinity(Rho)) errors.Add($"{nameof(Rho)} = {Rho} is invalid: must be a finite number ≥ 0.");
        if (UpdateEvery < 1) errors.Add($"{nameof(UpdateEvery)} = {UpdateEvery} is invalid: must be at least 1.");
        if (!(DualDecay >= 0) || double.IsInfinity(DualDecay)) errors.Add($"{nameof(DualDecay)} = {DualDecay} is invalid: must be a finite number ≥ 0.");
        return errors;
    }

    /// <summary>A copy of these options.</summary>
    public AdmmOptions Clone() => (AdmmOptions)MemberwiseClone();
}

/// <summary>
/// ADMM regularisation (Maile et al.): adds <c>(ρ/2)·‖p − Z + U‖_F</c> (per operation-mixing tensor, summed) to the validation loss,
/// p being the mixing weights; every <see cref="AdmmOptions.UpdateEvery"/> architecture steps the target Z (a discretisation,
/// <see cref="Supernet.DiscreteIndicator"/>) and the scaled dual U are updated. Z, U and the step counter are checkpointed, so a
/// resumed search is bit-identical; with <see cref="UnitClampActivation"/> its mask applies. Update rule, code form vs paper form
/// (<see cref="AdmmOptions.PaperForm"/>) and departures from the code: docs/methods-constrained.md.
/// </summary>
public sealed class AdmmRegularizer : IFlatnessRegularizer, IStatefulSearchComponent, ISearchComponentSettings
{
    private Tensor[]? _z;
    private Tensor[]? _u;

    /// <summary>The registry name, <c>admm</c>.</summary>
    public const string RegularizerName = "admm";

    /// <summary>Creates the regularizer.</summary>
    /// <param name="options">Hyper-parameters; null uses the defaults (ρ = 0.1, every 10 α steps, code form).</param>
    /// <exception cref="ArgumentException">The options are invalid (every problem is named).</exception>
    public AdmmRegularizer(AdmmOptions? options = null)
    {
        var o = (options ?? new AdmmOptions()).Clone();
        var errors = o.Validate();
        if (errors.Count > 0) throw new ArgumentException("Invalid ADMM options: " + string.Join(" ", errors), nameof(options));
        Options = o;
    }

    /// <summary>The options (a copy; changing it has no effect).</summary>
    public AdmmOptions Options { get; }

    /// <summary>The settings a resumed search must share (<see cref="ISearchComponentSettings"/>): ρ, update period, form and dual decay.</summary>
    public IReadOnlyDictionary<string, string> Settings => SearchComponentSettings.Of(("rho", Options.Rho), ("update-every", Options.UpdateEvery), ("paper-form", Options.PaperForm), ("dual-decay", Options.DualDecay));

    /// <inheritdoc />
    public string Name => RegularizerName;

    /// <inheritdoc />
    public string StateName => RegularizerName;

    /// <summary>Architecture steps seen since the search started.</summary>
    public long ArchitectureSteps { get; private set; }

    /// <summary>How many times Z and U have been updated.</summary>
    public long Updates { get; private set; }

    /// <summary>Detached copies of the current targets Z (one per architecture tensor), or null before the first use.</summary>
    public IReadOnlyList<Tensor>? Targets() => _z?.Select(t => t.detach().clone()).ToArray();

    /// <summary>Detached copies of the current scaled duals U, or null before the first use.</summary>
    public IReadOnlyList<Tensor>? Duals() => _u?.Select(t => t.detach().clone()).ToArray();

    /// <summary>Sets Z (to α, or to p under <paramref name="activation"/> in the paper form) and U (to 0) from <paramref name="supernet"/>'s current α.</summary>
    public void Initialize(Supernet supernet, IArchitectureActivation activation)
    {
        ArgumentNullException.ThrowIfNull(supernet);
        ArgumentNullException.ThrowIfNull(activation);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var alpha = supernet.ArchitectureParameters().Select(a => (Tensor)a.detach()).ToArray();
        var start = Options.PaperForm ? supernet.MixingWeights(alpha, activation) : alpha;
        Replace(start.Select(t => t.clone()).ToArray(), alpha.Select(a => torch.zeros_like(a)).ToArray());
    }

    /// <summary>Z ← D(·), U ← γ·U + (· − Z) from <paramref name="supernet"/>'s current α under <paramref name="activation"/> (see <see cref="AdmmOptions.PaperForm"/>).</summary>
    public void Update(Supernet supernet, IArchitectureActivation activation)
    {
        ArgumentNullException.ThrowIfNull(supernet);
        ArgumentNullException.ThrowIfNull(activation);
        if (_z is null) Initialize(supernet, activation);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var alpha = supernet.ArchitectureParameters().Select(a => (Tensor)a.detach()).ToArray();
        var (z, u) = OnDevice(alpha[0].device);
        var masks = Masks(activation, alpha.Length);
        Tensor[] source, targetOf;
        if (Options.PaperForm)
        {
            source = supernet.MixingWeights(alpha, activation).ToArray();
            targetOf = source.Select((p, i) => p.dim() == 2 ? p + u[i] : p).ToArray();
        }
        else
        {
            source = alpha;
            targetOf = supernet.MixingWeights(alpha.Select((a, i) => a.dim() == 2 ? a + u[i] : a).ToArray(), activation).ToArray();
        }
        var indicator = supernet.DiscreteIndicator(targetOf);
        var newZ = new Tensor[alpha.Length];
        var newU = new Tensor[alpha.Length];
        for (int i = 0; i < alpha.Length; i++)
        {
            if (alpha[i].dim() != 2)
            {
                newZ[i] = z[i].clone();
                newU[i] = u[i].clone();
                continue;
            }
            newZ[i] = indicator[i].to(alpha[i].dtype).clone();
            var dual = u[i] * Options.DualDecay + (source[i] - newZ[i]);
            newU[i] = masks?[i] is { } m ? dual * m : dual;
        }
        Replace(newZ, newU);
        Updates++;
    }

    /// <summary>Its contribution to a step: the loss term <see cref="LossTerm"/> at the step.</summary>
    public RegularizerContribution Contribute(ArchitectureStep step) => new() { LossTerm = a => LossTerm(a, step) };

    /// <summary>The term added to the architecture loss at <paramref name="architecture"/> on <paramref name="step"/>, or null for none.</summary>
    public Tensor? LossTerm(IReadOnlyList<Tensor> architecture, ArchitectureStep step)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(step);
        if (Options.Rho == 0) return null;
        if (_z is null) Initialize(step.Supernet, step.Activation);
        var p = step.MixingWeights(architecture);
        var (z, u) = OnDevice(architecture[0].device);
        var masks = Masks(step.Activation, architecture.Count);
        Tensor? sum = null;
        for (int i = 0; i < p.Count; i++)
        {
            if (p[i].dim() != 2) continue;
            var argument = p[i] - z[i] + u[i];
            if (masks?[i] is { } m) argument = argument * m;
            var norm = ProximityRegularizer.FrobeniusNorm(argument);
            sum = sum is null ? norm : sum + norm;
        }
        return sum is null ? null : sum * (Options.Rho / 2);
    }

    /// <summary>Starts over (Z = α or p, U = 0) when the search starts.</summary>
    public void OnEpochStarting(EpochStart epoch)
    {
        ArgumentNullException.ThrowIfNull(epoch);
        if (epoch.Clock.Epoch == 0 || _z is null)
        {
            ArchitectureSteps = 0;
            Updates = 0;
            Initialize(epoch.Supernet, epoch.Activation);
        }
    }

    /// <summary>Counts the α step and updates Z and U on every <see cref="AdmmOptions.UpdateEvery"/>-th.</summary>
    public void OnArchitectureStepped(ArchitectureStep step)
    {
        ArgumentNullException.ThrowIfNull(step);
        ArchitectureSteps++;
        if (ArchitectureSteps % Options.UpdateEvery == 0) Update(step.Supernet, step.Activation);
    }

    /// <inheritdoc />
    public void SaveState(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(ArchitectureSteps);
        writer.Write(Updates);
        StateTensors.WriteList(writer, _z);
        StateTensors.WriteList(writer, _u);
    }

    /// <inheritdoc />
    public void LoadState(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArchitectureSteps = reader.ReadInt64();
        Updates = reader.ReadInt64();
        var z = StateTensors.ReadList(reader);
        var u = StateTensors.ReadList(reader);
        if ((z is null) != (u is null)) throw new InvalidDataException("The ADMM state holds Z without U or U without Z.");
        if (z is null) Replace(null, null);
        else Replace(z, u!);
    }

    private static Tensor?[]? Masks(IArchitectureActivation activation, int count) =>
        activation is UnitClampActivation clamp ? Enumerable.Range(0, count).Select(clamp.MaskOf).ToArray() : null;

    private (Tensor[] Z, Tensor[] U) OnDevice(Device device)
    {
        if (_z![0].device != device)
        {
            using var scope = torch.NewDisposeScope();
            Replace(_z.Select(t => t.to(device)).ToArray(), _u!.Select(t => t.to(device)).ToArray());
        }
        return (_z!, _u!);
    }

    private void Replace(Tensor[]? z, Tensor[]? u)
    {
        var oldZ = _z;
        var oldU = _u;
        _z = z?.Select(t => t.detach().DetachFromDisposeScope()).ToArray();
        _u = u?.Select(t => t.detach().DetachFromDisposeScope()).ToArray();
        StateTensors.Dispose(oldZ);
        StateTensors.Dispose(oldU);
    }
}
