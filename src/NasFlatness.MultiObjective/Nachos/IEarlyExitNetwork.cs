using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.MultiObjective.Nachos;

/// <summary>The output of one exit of an early-exit network for a batch.</summary>
/// <param name="Logits">Class logits, shape [B, classes].</param>
/// <param name="Confidence">Exit confidence c = sigmoid(extra output) in (0, 1), shape [B]; ones for the final exit.</param>
public readonly record struct ExitOutput(Tensor Logits, Tensor Confidence);

/// <summary>
/// An early-exit neural network (EENN, NACHOS): a backbone split into <see cref="ExitCount"/> consecutive segments, each
/// followed by an exit classifier. Exit i maps the feature map after segment i to class logits and a confidence
/// c<sub>i</sub> = sigmoid(one extra output); the final exit's confidence is fixed to 1. The final exit is the backbone's
/// own classifier head. Implementations must be <c>nn.Module</c>s whose convolutions and linear layers are invoked with
/// <c>call</c>, so <see cref="EarlyExitCosts.Measure"/> can count MACs with forward hooks.
/// </summary>
public interface IEarlyExitNetwork
{
    /// <summary>Number of exits, the final one included (at least 1).</summary>
    int ExitCount { get; }

    /// <summary>Number of classes of every exit.</summary>
    int ClassCount { get; }

    /// <summary>Runs backbone segment <paramref name="segment"/> (0 takes the input images; segment i takes the output of segment i − 1).</summary>
    Tensor ForwardSegment(int segment, Tensor input);

    /// <summary>Runs exit classifier <paramref name="exit"/> on the output of segment <paramref name="exit"/>.</summary>
    ExitOutput ForwardExit(int exit, Tensor features);

    /// <summary>The backbone's parameters (all segments), without any exit classifier.</summary>
    IEnumerable<Parameter> BackboneParameters();

    /// <summary>The parameters of exit classifier <paramref name="exit"/> (the final one is the backbone's head).</summary>
    IEnumerable<Parameter> ExitParameters(int exit);

    /// <summary>Puts the backbone segments and the exit classifiers in training or evaluation mode separately
    /// (the early-exit phase trains the classifiers over a frozen backbone in evaluation mode).</summary>
    void SetModes(bool backboneTraining, bool exitsTraining);
}

/// <summary>Helpers over <see cref="IEarlyExitNetwork"/>.</summary>
public static class EarlyExitNetworkExtensions
{
    /// <summary>The feature maps after every segment (one per exit), computed in order; the caller owns them.</summary>
    public static IReadOnlyList<Tensor> ForwardFeatures(this IEarlyExitNetwork network, Tensor input)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(input);
        var features = new Tensor[network.ExitCount];
        var x = input;
        for (int i = 0; i < features.Length; i++) x = features[i] = network.ForwardSegment(i, x);
        return features;
    }

    /// <summary>Every exit's logits and confidence for <paramref name="input"/>.</summary>
    public static IReadOnlyList<ExitOutput> ForwardExits(this IEarlyExitNetwork network, Tensor input)
    {
        var features = network.ForwardFeatures(input);
        return features.Select((f, i) => network.ForwardExit(i, f)).ToArray();
    }

    /// <summary>The final exit's logits (the plain backbone network's output).</summary>
    public static Tensor ForwardFinal(this IEarlyExitNetwork network, Tensor input)
    {
        var features = network.ForwardFeatures(input);
        return network.ForwardExit(network.ExitCount - 1, features[^1]).Logits;
    }
}
