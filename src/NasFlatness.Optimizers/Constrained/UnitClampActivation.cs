using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.Optimizers;

/// <summary>Options of <see cref="UnitClampActivation"/>.</summary>
public sealed class UnitClampOptions
{
    /// <summary>
    /// When the search starts (epoch 0), set every operation-mixing α to <c>1/|O| + 1e-4·N(0, 1)</c>, the official
    /// code's initialisation for this activation (drawn from the torch generator, which the search runner has seeded).
    /// False keeps the space's initialisation (usually <c>1e-3·N(0, 1)</c>, under which about half of the operations
    /// are ≤ 0 and would be masked at once).
    /// </summary>
    /// <value>Default true.</value>
    public bool InitializeUniform { get; set; } = true;

    /// <summary>
    /// Columns masked from the start and never used (the code drops <c>none</c> from the candidate set in this mode;
    /// column 0 is <c>none</c> in both built-in spaces, so the registry's <c>unit-clamp</c> passes <c>[0]</c> for them).
    /// </summary>
    /// <value>Default empty.</value>
    public IReadOnlyList<int> ExcludedColumns { get; set; } = [];

    /// <summary>Every problem with these options, each naming the field; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (ExcludedColumns is null) errors.Add($"{nameof(ExcludedColumns)} is invalid: must not be null (use an empty list).");
        else if (ExcludedColumns.Any(c => c < 0)) errors.Add($"{nameof(ExcludedColumns)} = [{string.Join(", ", ExcludedColumns)}] is invalid: columns must be ≥ 0.");
        return errors;
    }

    /// <summary>A copy of these options.</summary>
    public UnitClampOptions Clone() => new() { InitializeUniform = InitializeUniform, ExcludedColumns = ExcludedColumns?.ToArray()! };
}

/// <summary>
/// The unit-clamp ("CRB") activation of Maile et al.: each operation's mixing weight is <c>clamp(α, 0, 1)</c> on its own, and an
/// operation whose α reaches 0 is masked permanently (its α set to 0 after every architecture step and at the start, so it never
/// revives). The mask is checkpointed. <see cref="Activate"/> is the plain clamp. A search refuses it with β-decay (defined for softmax).
/// The code's α initialisation, node BatchNorm and mask timing: docs/methods-constrained.md.
/// </summary>
public sealed class UnitClampActivation : IArchitectureActivation, IStatefulSearchComponent, ISearchCompositionCheck
{
    private Tensor?[] _masks = [];

    /// <summary>The registry name, <c>unit-clamp</c>.</summary>
    public const string ActivationName = "unit-clamp";

    /// <summary>Creates the activation.</summary>
    /// <param name="options">Options; null uses the defaults (code initialisation, nothing excluded).</param>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public UnitClampActivation(UnitClampOptions? options = null)
    {
        var o = (options ?? new UnitClampOptions()).Clone();
        var errors = o.Validate();
        if (errors.Count > 0) throw new ArgumentException("Invalid unit-clamp options: " + string.Join(" ", errors), nameof(options));
        Options = o;
    }

    /// <summary>The options (a copy).</summary>
    public UnitClampOptions Options { get; }

    /// <inheritdoc />
    public string Name => ActivationName;

    /// <inheritdoc />
    public string StateName => ActivationName;

    /// <summary><c>clamp(logits, 0, 1)</c> element-wise (its gradient is 1 inside [0, 1] and 0 outside).</summary>
    public Tensor Activate(Tensor logits)
    {
        ArgumentNullException.ThrowIfNull(logits);
        return logits.clamp(0.0, 1.0);
    }

    /// <summary>The permanent mask of architecture tensor <paramref name="index"/> (1 = alive, 0 = masked), or null when
    /// there is none (not an operation mixture, or before the search started). The tensor belongs to the activation.</summary>
    public Tensor? MaskOf(int index) => index >= 0 && index < _masks.Length ? _masks[index] : null;

    /// <summary>Number of masked operations over all architecture tensors.</summary>
    public long MaskedCount => _masks.Where(m => m is not null).Sum(m => m!.numel() - m.count_nonzero().item<long>());

    /// <summary>When the search starts: initialises α (see <see cref="UnitClampOptions.InitializeUniform"/>), creates the masks and applies them.</summary>
    public void OnEpochStarting(EpochStart epoch)
    {
        ArgumentNullException.ThrowIfNull(epoch);
        var alpha = epoch.Supernet.ArchitectureParameters();
        if (epoch.Clock.Epoch == 0 || _masks.Length != alpha.Count)
        {
            if (epoch.Clock.Epoch == 0 && Options.InitializeUniform)
            {
                using var noGrad = torch.no_grad();
                foreach (var a in alpha)
                {
                    if (a.dim() != 2) continue;
                    using var noise = torch.randn(a.shape, dtype: a.dtype, device: a.device);
                    a.copy_(noise.mul_(1e-4).add_(1.0 / a.shape[1]));
                }
            }
            Reset(alpha);
        }
        Apply(alpha);
    }

    /// <summary>Masks every operation whose α is ≤ 0 (permanently) and sets the masked α to 0.</summary>
    public void OnArchitectureStepped(ArchitectureStep step)
    {
        ArgumentNullException.ThrowIfNull(step);
        var alpha = step.Supernet.ArchitectureParameters();
        if (_masks.Length != alpha.Count) Reset(alpha);
        Apply(alpha);
    }

    /// <summary>Applies the masks to <paramref name="architecture"/> in place: entries ≤ 0 become masked, masked entries become 0.</summary>
    public void Apply(IReadOnlyList<Tensor> architecture)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        if (_masks.Length != architecture.Count) throw new ArgumentException($"The masks cover {_masks.Length} architecture tensors, got {architecture.Count}.", nameof(architecture));
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        for (int i = 0; i < architecture.Count; i++)
        {
            var mask = _masks[i];
            if (mask is null) continue;
            var a = architecture[i];
            if (mask.device != a.device)
            {
                var moved = mask.to(a.device).DetachFromDisposeScope();
                mask.Dispose();
                _masks[i] = mask = moved;
            }
            mask.masked_fill_(a.le(0.0), 0.0);
            a.mul_(mask.to(a.dtype));
        }
    }

    /// <inheritdoc />
    public IEnumerable<string> CheckComposition(IReadOnlyList<ISearchObserver> components)
    {
        ArgumentNullException.ThrowIfNull(components);
        if (components.OfType<BetaDecayRegularizer>().Any())
            yield return $"The '{ActivationName}' activation cannot be combined with the '{BetaDecayRegularizer.RegularizerName}' regularizer: β-decay's logsumexp term is defined for softmax mixing weights (under clamp(α, 0, 1) it only drives every α to 0 and masks it). Use softmax with β-decay, or '{ProximityRegularizer.RegularizerName}' / '{AdmmRegularizer.RegularizerName}' with '{ActivationName}'.";
    }

    /// <inheritdoc />
    public void SaveState(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(_masks.Length);
        foreach (var m in _masks)
        {
            writer.Write(m is not null);
            if (m is not null) StateTensors.Write(writer, m);
        }
    }

    /// <inheritdoc />
    public void LoadState(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        int n = reader.ReadInt32();
        var masks = new Tensor?[n];
        for (int i = 0; i < n; i++) masks[i] = reader.ReadBoolean() ? StateTensors.Read(reader) : null;
        DisposeMasks();
        _masks = masks;
    }

    private void Reset(IReadOnlyList<Tensor> alpha)
    {
        DisposeMasks();
        _masks = new Tensor?[alpha.Count];
        for (int i = 0; i < alpha.Count; i++)
        {
            if (alpha[i].dim() != 2) continue;
            var mask = torch.ones(alpha[i].shape, dtype: float32, device: alpha[i].device);
            foreach (var c in Options.ExcludedColumns)
            {
                if (c >= alpha[i].shape[1])
                    throw new ArgumentException($"{nameof(UnitClampOptions.ExcludedColumns)} names column {c}, but architecture tensor {i} has {alpha[i].shape[1]} columns.");
                using var column = mask.select(1, c);
                column.fill_(0.0);
            }
            _masks[i] = mask.DetachFromDisposeScope();
        }
    }

    private void DisposeMasks()
    {
        foreach (var m in _masks) m?.Dispose();
        _masks = [];
    }
}
