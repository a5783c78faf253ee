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
    private readonly IReadOnlyList<ArchitectureLossTerm> _lossTerms;

    /// <summary>Creates a step without loss terms (the runner does this; tests and custom loops may too).</summary>
    /// <param name="supernet">The supernet.</param>
    /// <param name="train">Training minibatch (used by second-order methods).</param>
    /// <param name="validation">Validation minibatch.</param>
    /// <param name="weightOptimizer">State of the weight optimizer.</param>
    /// <param name="activation">The search's activation: every forward pass and mixing weight of the step uses it.</param>
    /// <param name="clock">Where the search stands; default: step 0 of epoch 0.</param>
    public ArchitectureStep(Supernet supernet, Batch train, Batch validation, WeightOptimizerState weightOptimizer, IArchitectureActivation activation,
        SearchClock clock = default)
        : this(supernet, train, validation, weightOptimizer, activation, clock, [])
    {
    }

    private ArchitectureStep(Supernet supernet, Batch train, Batch validation, WeightOptimizerState weightOptimizer, IArchitectureActivation activation,
        SearchClock clock, IReadOnlyList<ArchitectureLossTerm> lossTerms)
    {
        ArgumentNullException.ThrowIfNull(supernet);
        ArgumentNullException.ThrowIfNull(weightOptimizer);
        ArgumentNullException.ThrowIfNull(activation);
        Supernet = supernet;
        Activation = activation;
        Train = train;
        Validation = validation;
        WeightOptimizer = weightOptimizer;
        Clock = clock;
        _lossTerms = lossTerms;
    }

    /// <summary>The supernet being searched.</summary>
    public Supernet Supernet { get; }

    /// <summary>The search's activation (α → mixing weights).</summary>
    public IArchitectureActivation Activation { get; }

    /// <summary>The training minibatch of this step.</summary>
    public Batch Train { get; }

    /// <summary>The validation minibatch of this step (the same batch for every pass of the step).</summary>
    public Batch Validation { get; }

    /// <summary>Learning rate, momentum, weight decay and momentum buffers of the weight optimizer.</summary>
    public WeightOptimizerState WeightOptimizer { get; }

    /// <summary>Where the search stands.</summary>
    public SearchClock Clock { get; }

    /// <summary>The fractional epoch clock t / T in [0, 1) (<see cref="SearchClock.Progress"/>).</summary>
    public double Progress => Clock.Progress;

    /// <summary>A copy of this step whose <see cref="ValidationLoss"/> adds exactly <paramref name="lossTerms"/> (replacing any it had).
    /// <see cref="Advanced.ArchitectureStepper"/> builds it from the regularizers' contributions.</summary>
    public ArchitectureStep WithLossTerms(IEnumerable<ArchitectureLossTerm> lossTerms)
    {
        ArgumentNullException.ThrowIfNull(lossTerms);
        var terms = lossTerms.ToArray();
        if (terms.Any(t => t is null)) throw new ArgumentException("A loss term is null.", nameof(lossTerms));
        return new ArchitectureStep(Supernet, Train, Validation, WeightOptimizer, Activation, Clock, terms);
    }

    /// <summary>The mixing weights p at <paramref name="architecture"/> under <see cref="Activation"/> (see <see cref="Supernet.MixingWeights"/>).</summary>
    public IReadOnlyList<Tensor> MixingWeights(IReadOnlyList<Tensor> architecture) => Supernet.MixingWeights(architecture, Activation);

    /// <summary>The supernet's logits on <paramref name="input"/> at <paramref name="architecture"/> under <see cref="Activation"/>.</summary>
    public Tensor Forward(Tensor input, IReadOnlyList<Tensor> architecture) => Supernet.Forward(input, architecture, Activation);

    /// <summary>
    /// The architecture objective on the validation batch at <paramref name="architecture"/>: cross-entropy of the supernet
    /// plus this step's loss terms (the regularizers' terms, e.g. β-DARTS, when the step came from <see cref="WithLossTerms"/>).
    /// </summary>
    public Tensor ValidationLoss(IReadOnlyList<Tensor> architecture)
    {
        var loss = nn.functional.cross_entropy(Forward(Validation.Images, architecture), Validation.Labels);
        foreach (var lossTerm in _lossTerms)
        {
            var term = lossTerm(architecture);
            if (term is not null) loss = loss + term;
        }
        return loss;
    }

    /// <summary>Cross-entropy of the supernet on the training batch at <paramref name="architecture"/> (no loss terms).</summary>
    public Tensor TrainLoss(IReadOnlyList<Tensor> architecture) =>
        nn.functional.cross_entropy(Forward(Train.Images, architecture), Train.Labels);

    /// <summary>Detached copies of the supernet's current α that require gradients: the usual starting point of a gradient evaluation.</summary>
    public IReadOnlyList<Tensor> CurrentArchitecture() =>
        Supernet.ArchitectureParameters().Select(p => p.detach().clone().requires_grad_(true)).ToArray();
}
