using NasFlatness.Genotypes;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using NasFlatness.Advanced;

namespace NasFlatness;

/// <summary>
/// A one-shot network in which every edge mixes all candidate operations with weights derived from the
/// architecture parameters α. Architecture parameters and network weights are kept apart:
/// <see cref="ArchitectureParameters"/> and <see cref="WeightParameters"/> never overlap, so the weight
/// optimizer never sees α.
/// </summary>
public abstract class Supernet : nn.Module<Tensor, Tensor>
{
    private HashSet<IntPtr>? _architectureHandles;

    /// <summary>Creates the module.</summary>
    protected Supernet(string name) : base(name)
    {
        TorchRuntime.EnsureCorrectCpuKernels();
    }

    /// <summary>The architecture parameters (e.g. NB201: one α of shape [6, 5]; DARTS: α_normal, α_reduce).</summary>
    public abstract IReadOnlyList<Parameter> ArchitectureParameters();

    /// <summary>
    /// The mixing weights of <paramref name="architecture"/>: every operation-mixing tensor (2-D, edges × operations) through
    /// <paramref name="activation"/>; other architecture tensors (e.g. PC-DARTS edge-normalisation logits, 1-D) unchanged.
    /// Spaces with another layout override this. The results belong to the caller's dispose scope.
    /// </summary>
    public virtual IReadOnlyList<Tensor> MixingWeights(IReadOnlyList<Tensor> architecture, IArchitectureActivation activation)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(activation);
        var result = new Tensor[architecture.Count];
        for (int i = 0; i < result.Length; i++)
            result[i] = architecture[i].dim() == 2 ? activation.Activate(architecture[i]) : architecture[i].alias();
        return result;
    }

    /// <summary>
    /// The space's discretisation D(p) of the mixing weights as a 0/1 indicator, one tensor per tensor of
    /// <paramref name="mixingWeights"/>: 1 where the derived genotype keeps an operation. Default: per-row one-hot of the argmax
    /// of every 2-D tensor (ties to the lower column); other tensors are returned as detached copies. Spaces that keep only some
    /// edges (DARTS) override it.
    /// </summary>
    /// <param name="mixingWeights">Mixing weights p, one tensor per architecture tensor.</param>
    /// <returns>Detached tensors with the shapes and dtypes of <paramref name="mixingWeights"/>, in the caller's dispose scope.</returns>
    public virtual IReadOnlyList<Tensor> DiscreteIndicator(IReadOnlyList<Tensor> mixingWeights)
    {
        ArgumentNullException.ThrowIfNull(mixingWeights);
        using var noGrad = torch.no_grad();
        var result = new Tensor[mixingWeights.Count];
        for (int i = 0; i < result.Length; i++)
        {
            var p = mixingWeights[i].detach();
            result[i] = p.dim() == 2
                ? nn.functional.one_hot(p.argmax(-1), p.shape[1]).to(p.dtype)
                : p.clone();
        }
        return result;
    }

    /// <summary>
    /// Whether architecture tensor <paramref name="index"/> of <see cref="ArchitectureParameters"/> is searched now. An inactive
    /// tensor is cloned, checkpointed and passed to <see cref="Forward"/>, but not updated: the runner's Adam covers only active
    /// tensors and is re-created when the set changes at an epoch start. Default: every tensor is active.
    /// </summary>
    public virtual bool IsArchitectureTensorActive(int index) => true;

    /// <summary>
    /// Called by the search runner at the start of every epoch (also the first after a resume), before the search components'
    /// <see cref="ISearchObserver.OnEpochStarting"/>. A supernet whose structure changes at an epoch (ZO-DARTS++'s switch) does it
    /// here; keep such state in buffers so that clones and checkpoints carry it. Default: nothing.
    /// </summary>
    public virtual void OnEpochStarting(EpochStart epoch) { }

    /// <summary>All trainable parameters that are not architecture parameters.</summary>
    public IEnumerable<Parameter> WeightParameters()
    {
        _architectureHandles ??= ArchitectureParameters().Select(p => p.Handle).ToHashSet();
        return parameters().Where(p => !_architectureHandles.Contains(p.Handle));
    }

    /// <summary>
    /// Runs the supernet with the given architecture logits instead of its own α (same shapes as
    /// <see cref="ArchitectureParameters"/>), turned into mixing weights by <paramref name="activation"/> (the search's
    /// activation). This is what lets optimizers and regularizers evaluate the network at a perturbed α without touching
    /// the parameters.
    /// </summary>
    public abstract Tensor Forward(Tensor input, IReadOnlyList<Tensor> architecture, IArchitectureActivation activation);

    /// <summary>Runs the supernet with its own α under <see cref="SoftmaxActivation"/> (the <c>nn.Module</c> entry point; a
    /// search passes its own activation to <see cref="Forward(Tensor, IReadOnlyList{Tensor}, IArchitectureActivation)"/>).</summary>
    public override Tensor forward(Tensor input) => Forward(input, ArchitectureParameters(), SoftmaxActivation.Instance);

    /// <summary>
    /// Runs the supernet with its own α held fixed under <paramref name="activation"/>: the output is that of
    /// <see cref="Forward(Tensor, IReadOnlyList{Tensor}, IArchitectureActivation)"/> at α, but no gradient
    /// flows to α, so a backward pass skips α's reductions. This is the weight step of a search (whose α
    /// gradient would be discarded anyway: the architecture step zeroes it before it stores its own).
    /// </summary>
    public Tensor ForwardFixedArchitecture(Tensor input, IArchitectureActivation activation)
    {
        var architecture = ArchitectureParameters();
        var held = new Tensor[architecture.Count];
        for (int i = 0; i < held.Length; i++) held[i] = architecture[i].detach();
        try
        {
            return Forward(input, held, activation);
        }
        finally
        {
            foreach (var t in held) t.Dispose();
        }
    }

    /// <summary>
    /// A deep copy of this supernet: the same structure, the same values of every parameter (α included) and buffer, on the
    /// same device and with the same dtype and training mode, in storage of its own. Methods
    /// that need a second network (e.g. the shadow network of ZO-DARTS) use it. Building the copy does not consume the global
    /// torch random generator (its state is restored), so a search that clones stays reproducible, and the copy's tensors belong
    /// to no dispose scope (dispose the copy when done).
    /// </summary>
    /// <exception cref="NotSupportedException">The supernet does not implement <see cref="CreateEmptyCopy"/>.</exception>
    public Supernet Clone()
    {
        var rng = torch.random.get_rng_state();
        Supernet copy;
        try
        {
            copy = CreateEmptyCopy() ?? throw new InvalidOperationException($"{GetType().Name}.{nameof(CreateEmptyCopy)} returned null.");
        }
        finally
        {
            torch.random.set_rng_state(rng);
            rng.Dispose();
        }
        var source = parameters().FirstOrDefault();
        if (source is not null)
        {
            if (source.is_floating_point() && copy.parameters().FirstOrDefault() is { } first && first.dtype != source.dtype) copy.to(source.dtype);
            copy.to(source.device);
        }
        foreach (var p in copy.parameters()) p.DetachFromDisposeScope();
        foreach (var b in copy.buffers()) b.DetachFromDisposeScope();
        var sourceParameters = named_parameters().ToDictionary(x => x.name, x => x.parameter);
        var sourceBuffers = named_buffers().ToDictionary(x => x.name, x => x.buffer);
        using (torch.no_grad())
        {
            foreach (var (name, parameter) in copy.named_parameters())
            {
                if (!sourceParameters.TryGetValue(name, out var value) || !value.shape.SequenceEqual(parameter.shape))
                    throw new InvalidOperationException($"{GetType().Name}.{nameof(CreateEmptyCopy)} built a supernet whose parameter '{name}' does not match the original's.");
                parameter.copy_(value);
            }
            foreach (var (name, buffer) in copy.named_buffers())
            {
                if (!sourceBuffers.TryGetValue(name, out var value) || !value.shape.SequenceEqual(buffer.shape))
                    throw new InvalidOperationException($"{GetType().Name}.{nameof(CreateEmptyCopy)} built a supernet whose buffer '{name}' does not match the original's.");
                buffer.copy_(value);
            }
        }
        if (copy.parameters().Count() != sourceParameters.Count || copy.buffers().Count() != sourceBuffers.Count)
            throw new InvalidOperationException($"{GetType().Name}.{nameof(CreateEmptyCopy)} built a supernet with other parameters or buffers than the original's.");
        copy.train(training);
        return copy;
    }

    /// <summary>
    /// A new supernet of the same type and shape as this one (the same constructor arguments), with any initial values:
    /// <see cref="Clone"/> overwrites them. The default throws <see cref="NotSupportedException"/>; the built-in NAS-Bench-201
    /// and DARTS supernets implement it.
    /// </summary>
    protected virtual Supernet CreateEmptyCopy() =>
        throw new NotSupportedException(
            $"{GetType().Name} cannot be cloned: override {nameof(Supernet)}.{nameof(CreateEmptyCopy)} to build a supernet of the same shape (methods with a shadow network, such as ZO-DARTS, need it).");

    /// <summary>Derives the discrete genotype from the given architecture logits (the space's selection rule, on the mixing
    /// weights of <paramref name="activation"/> where the rule reads them, e.g. DARTS' edge scores).</summary>
    public abstract Genotype DeriveGenotype(IReadOnlyList<Tensor> architecture, IArchitectureActivation activation);

    /// <summary>Derives the discrete genotype from the supernet's current α under <paramref name="activation"/>.</summary>
    public Genotype DeriveGenotype(IArchitectureActivation activation) => DeriveGenotype(ArchitectureParameters(), activation);
}
