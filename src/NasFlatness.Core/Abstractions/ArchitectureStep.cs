using static TorchSharp.torch;

namespace NasFlatness;

/// <summary>Computes ∇α of an architecture objective at the given architecture logits (same shapes as the supernet's α).</summary>
/// <param name="architecture">The logits at which the gradient is taken (may differ from the supernet's own α).</param>
/// <returns>One gradient tensor per architecture tensor.</returns>
public delegate IReadOnlyList<Tensor> ArchitectureGradientFunction(IReadOnlyList<Tensor> architecture);

/// <summary>
/// Everything an <see cref="IArchitectureOptimizer"/> or <see cref="IFlatnessRegularizer"/> needs for one
/// architecture step of the bilevel loop. Created by the search runner inside the step's dispose scope.
/// </summary>
public sealed class ArchitectureStep
{
    private readonly IReadOnlyList<IFlatnessRegularizer> _regularizers;

    /// <summary>Creates a step context (the runner does this; tests and custom loops may too).</summary>
    /// <param name="supernet">The supernet.</param>
    /// <param name="train">Training minibatch (used by second-order methods).</param>
    /// <param name="validation">Validation minibatch.</param>
    /// <param name="weightOptimizer">State of the weight optimizer.</param>
    /// <param name="epoch">Zero-based epoch.</param>
    /// <param name="totalEpochs">Number of epochs of the search.</param>
    /// <param name="globalStep">Zero-based index of the step over the whole search.</param>
    /// <param name="regularizers">Regularizers whose loss terms are added to the validation loss.</param>
    /// <param name="step">Zero-based index of the step within its epoch.</param>
    /// <param name="stepsPerEpoch">Steps per epoch (with <paramref name="step"/> it gives the fractional epoch clock).</param>
    public ArchitectureStep(
        Supernet supernet, Batch train, Batch validation, WeightOptimizerState weightOptimizer,
        int epoch = 0, int totalEpochs = 1, long globalStep = 0, IReadOnlyList<IFlatnessRegularizer>? regularizers = null,
        int step = 0, int stepsPerEpoch = 1)
    {
        ArgumentNullException.ThrowIfNull(supernet);
        ArgumentNullException.ThrowIfNull(weightOptimizer);
        Supernet = supernet;
        Train = train;
        Validation = validation;
        WeightOptimizer = weightOptimizer;
        Epoch = epoch;
        TotalEpochs = totalEpochs;
        GlobalStep = globalStep;
        Step = step;
        StepsPerEpoch = Math.Max(1, stepsPerEpoch);
        _regularizers = regularizers ?? [];
    }

    /// <summary>The supernet being searched.</summary>
    public Supernet Supernet { get; }

    /// <summary>The training minibatch of this step.</summary>
    public Batch Train { get; }

    /// <summary>The validation minibatch of this step (the same batch for every pass of the step).</summary>
    public Batch Validation { get; }

    /// <summary>Learning rate, momentum, weight decay and momentum buffers of the weight optimizer.</summary>
    public WeightOptimizerState WeightOptimizer { get; }

    /// <summary>Zero-based epoch.</summary>
    public int Epoch { get; }

    /// <summary>Number of epochs of the search.</summary>
    public int TotalEpochs { get; }

    /// <summary>Zero-based index of this step over the whole search.</summary>
    public long GlobalStep { get; }

    /// <summary>Zero-based index of this step within its epoch.</summary>
    public int Step { get; }

    /// <summary>Steps per epoch.</summary>
    public int StepsPerEpoch { get; }

    /// <summary>The fractional epoch clock t / T in [0, 1): (epoch + step / steps per epoch) / total epochs (e.g. the ramp of a proximity regularizer).</summary>
    public double Progress => (Epoch + (double)Step / StepsPerEpoch) / Math.Max(1, TotalEpochs);

    /// <summary>The mixing weights p at <paramref name="architecture"/> under the search's activation (see <see cref="Supernet.MixingWeights"/>).</summary>
    public IReadOnlyList<Tensor> MixingWeights(IReadOnlyList<Tensor> architecture) => Supernet.MixingWeights(architecture);

    /// <summary>
    /// The architecture objective on the validation batch at <paramref name="architecture"/>:
    /// cross-entropy of the supernet plus the loss terms of every loss-shaping regularizer (e.g. β-DARTS).
    /// </summary>
    public Tensor ValidationLoss(IReadOnlyList<Tensor> architecture)
    {
        var loss = nn.functional.cross_entropy(Supernet.Forward(Validation.Images, architecture), Validation.Labels);
        foreach (var regularizer in _regularizers)
        {
            var term = regularizer.LossTerm(architecture, this);
            if (term is not null) loss = loss + term;
        }
        return loss;
    }

    /// <summary>Cross-entropy of the supernet on the training batch at <paramref name="architecture"/> (no regularizer terms).</summary>
    public Tensor TrainLoss(IReadOnlyList<Tensor> architecture) =>
        nn.functional.cross_entropy(Supernet.Forward(Train.Images, architecture), Train.Labels);

    /// <summary>Detached copies of the supernet's current α that require gradients: the usual starting point of a gradient evaluation.</summary>
    public IReadOnlyList<Tensor> CurrentArchitecture() =>
        Supernet.ArchitectureParameters().Select(p => p.detach().clone().requires_grad_(true)).ToArray();
}
