using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.Optimizers;

/// <summary>
/// Sparsemax with an annealed temperature (ZO-DARTS+): <c>p = sparsemax(α / τ_t)</c> row-wise, the Euclidean projection of α/τ onto
/// the probability simplex (exact zeros), with <c>τ_t = τ0·γ^⌊t/k⌋</c> for epoch t, set in <see cref="OnEpochStarting"/> (no state
/// to checkpoint). Differentiable through autograd (the exact Jacobian on the support). Defaults τ0 = 1.5, γ = 0.9, k = 5;
/// <see cref="MedMnist"/> gives γ = 0.75. The support rule and the scripts' settings: docs/methods-zo.md.
/// </summary>
public sealed class SparsemaxActivation : IArchitectureActivation
{
    /// <summary>The registry name, <c>sparsemax</c> (τ0 = 1.5, γ = 0.9, every 5 epochs).</summary>
    public const string ActivationName = "sparsemax";

    /// <summary>The registry name of the MedMNIST setting, <c>sparsemax-medmnist</c> (τ0 = 1.5, γ = 0.75, every 5 epochs).</summary>
    public const string MedMnistActivationName = "sparsemax-medmnist";

    /// <summary>Creates the activation.</summary>
    /// <param name="initialTemperature">τ0 &gt; 0.</param>
    /// <param name="decay">γ in (0, 1] (1 keeps τ constant).</param>
    /// <param name="decayEveryEpochs">k ≥ 1: τ is multiplied by γ at the start of epochs k, 2k, ….</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range (the message names it).</exception>
    public SparsemaxActivation(double initialTemperature = 1.5, double decay = 0.9, int decayEveryEpochs = 5)
    {
        if (!(initialTemperature > 0) || !double.IsFinite(initialTemperature))
            throw new ArgumentOutOfRangeException(nameof(initialTemperature), initialTemperature, "The initial temperature τ0 must be a positive number.");
        if (!(decay > 0 && decay <= 1))
            throw new ArgumentOutOfRangeException(nameof(decay), decay, "The temperature decay γ must be in (0, 1].");
        if (decayEveryEpochs < 1)
            throw new ArgumentOutOfRangeException(nameof(decayEveryEpochs), decayEveryEpochs, "The decay period k must be at least 1 epoch.");
        InitialTemperature = initialTemperature;
        Decay = decay;
        DecayEveryEpochs = decayEveryEpochs;
        Temperature = initialTemperature;
    }

    /// <summary>The published ZO-DARTS+ MedMNIST setting: τ0 = 1.5, γ = 0.75, every 5 epochs.</summary>
    public static SparsemaxActivation MedMnist() => new(1.5, 0.75, 5);

    /// <summary>τ0.</summary>
    public double InitialTemperature { get; }

    /// <summary>γ.</summary>
    public double Decay { get; }

    /// <summary>k (epochs between decays).</summary>
    public int DecayEveryEpochs { get; }

    /// <summary>The temperature in use: τ of the epoch last started (τ0 before the first).</summary>
    public double Temperature { get; private set; }

    /// <inheritdoc />
    public string Name => ActivationName;

    /// <summary>τ of zero-based epoch <paramref name="epoch"/>: <c>τ0·γ^⌊epoch/k⌋</c>.</summary>
    public double TemperatureAt(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        return InitialTemperature * Math.Pow(Decay, epoch / DecayEveryEpochs);
    }

    /// <inheritdoc />
    public void OnEpochStarting(EpochStart epoch)
    {
        ArgumentNullException.ThrowIfNull(epoch);
        Temperature = TemperatureAt(epoch.Clock.Epoch);
    }

    /// <inheritdoc />
    public Tensor Activate(Tensor logits)
    {
        ArgumentNullException.ThrowIfNull(logits);
        using Scalar temperature = Temperature;
        return Sparsemax(logits.div(temperature));
    }

    /// <summary>Sparsemax of <paramref name="z"/> along the last dimension (no temperature), differentiable.</summary>
    /// <param name="z">Scores of any floating-point dtype, at least one-dimensional.</param>
    /// <returns>Non-negative weights summing to 1 along the last dimension, with exact zeros outside the support.</returns>
    public static Tensor Sparsemax(Tensor z)
    {
        ArgumentNullException.ThrowIfNull(z);
        if (z.dim() < 1) throw new ArgumentException("Sparsemax needs at least one dimension.", nameof(z));
        using var scope = torch.NewDisposeScope();
        // Named scalars stay reachable for the whole call: TorchSharp 0.107 does not keep an implicitly converted Scalar
        // alive through its native call, so a garbage collection at that moment can free it (seen once under heavy load).
        using Scalar one = 1;
        long n = z.shape[^1];
        var sorted = z.sort(-1, descending: true).Values;
        var cumulative = sorted.cumsum(-1);
        var k = torch.arange(1, n + 1, dtype: z.dtype, device: z.device);
        // The support is a prefix of the sorted scores: k* counts where 1 + k·z_(k) > Σ_{j≤k} z_(j) (strict).
        var inSupport = (k * sorted).add(one, one).gt(cumulative);
        var supportSize = inSupport.sum(-1, keepdim: true);
        var supportSum = cumulative.gather(-1, supportSize.sub(one));
        var threshold = supportSum.sub(one) / supportSize.to(z.dtype);
        // ReLU (not clamp) so that an entry exactly at the threshold gets no gradient: it is outside the support.
        return nn.functional.relu(z - threshold).MoveToOuterDisposeScope();
    }
}
