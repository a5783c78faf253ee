using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness;

/// <summary>
/// The state of the SGD weight optimizer that second-order architecture optimizers unroll:
/// <c>w' = w − η·(μ·m + ∇w L_tr + λ·w)</c>.
/// </summary>
public sealed class WeightOptimizerState
{
    private readonly Func<IReadOnlyList<Tensor?>> _momentumBuffers;

    /// <summary>Creates the state.</summary>
    /// <param name="learningRate">Current weight learning rate η.</param>
    /// <param name="momentum">Momentum μ.</param>
    /// <param name="weightDecay">Weight decay λ.</param>
    /// <param name="momentumBuffers">Momentum buffer of each weight parameter, in <see cref="Supernet.WeightParameters"/> order (null entries where none exists yet).</param>
    public WeightOptimizerState(double learningRate, double momentum, double weightDecay, Func<IReadOnlyList<Tensor?>>? momentumBuffers = null)
    {
        LearningRate = learningRate;
        Momentum = momentum;
        WeightDecay = weightDecay;
        _momentumBuffers = momentumBuffers ?? (() => []);
    }

    /// <summary>Current weight learning rate η.</summary>
    public double LearningRate { get; }

    /// <summary>SGD momentum μ.</summary>
    public double Momentum { get; }

    /// <summary>SGD weight decay λ.</summary>
    public double WeightDecay { get; }

    /// <summary>Momentum buffers in weight-parameter order; an empty list or null entries mean "no momentum yet".</summary>
    public IReadOnlyList<Tensor?> MomentumBuffers() => _momentumBuffers();

    internal static WeightOptimizerState FromSgd(SGD sgd, double learningRate, double momentum, double weightDecay) =>
        new(learningRate, momentum, weightDecay, () =>
        {
            var state = sgd.state_dict().State;
            return state.Select(s => (s as SGD.State)?.momentum_buffer).ToArray();
        });
}
