using static TorchSharp.torch;

namespace NasFlatness;

/// <summary>
/// Turns architecture logits α into the mixing weights p of the supernet's edges, row-wise (one row per edge,
/// one column per candidate operation). Every place that needs p uses the search's activation: the supernets'
/// forward pass, genotype derivation (e.g. DARTS edge scores), regularizers (<see cref="ArchitectureStep.MixingWeights"/>)
/// and the search report (<see cref="EpochRecord.MeanMaxWeight"/>).
/// </summary>
/// <remarks>
/// An activation is also an <see cref="ISearchObserver"/>: a temperature schedule reacts to
/// <see cref="ISearchObserver.OnEpochStarting"/>. An activation with state that a resumed search must restore (e.g. a
/// permanent mask) also implements <see cref="IStatefulSearchComponent"/>. The default is <see cref="SoftmaxActivation"/>.
/// </remarks>
public interface IArchitectureActivation : ISearchObserver
{
    /// <summary>Short name, e.g. <c>softmax</c>; recorded in checkpoints and selectable by name in a registry.</summary>
    string Name { get; }

    /// <summary>
    /// The mixing weights of <paramref name="logits"/> along the last dimension, differentiable with respect to
    /// <paramref name="logits"/>. The result belongs to the caller's dispose scope.
    /// </summary>
    Tensor Activate(Tensor logits);
}

/// <summary>The softmax activation of DARTS: <c>p = softmax(α)</c> along the last dimension. Stateless; the default everywhere.</summary>
public sealed class SoftmaxActivation : IArchitectureActivation
{
    /// <summary>The shared instance (the activation has no state).</summary>
    public static SoftmaxActivation Instance { get; } = new();

    /// <summary>The registry name, <c>softmax</c>.</summary>
    public const string ActivationName = "softmax";

    /// <inheritdoc />
    public string Name => ActivationName;

    /// <inheritdoc />
    public Tensor Activate(Tensor logits)
    {
        ArgumentNullException.ThrowIfNull(logits);
        return logits.softmax(-1);
    }
}
