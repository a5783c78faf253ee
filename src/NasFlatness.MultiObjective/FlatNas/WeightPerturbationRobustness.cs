using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.MultiObjective.FlatNas;

/// <summary>Options of <see cref="WeightPerturbationRobustness"/>.</summary>
public sealed class WeightPerturbationOptions
{
    /// <summary>Relative noise scale σ: every weight w becomes w + σ·w·ξ with ξ ~ N(0, 1).</summary>
    /// <value>Default 0.05 (FlatNAS).</value>
    public double Sigma { get; set; } = 0.05;

    /// <summary>Number M of noise draws averaged.</summary>
    /// <value>Default 20 (FlatNAS).</value>
    public int Samples { get; set; } = 20;

    /// <summary>Seed of the noise draws; the same seed gives the same R.</summary>
    /// <value>Default 0.</value>
    public int Seed { get; set; }

    /// <summary>Minibatch size of the accuracy measurements on a dataset split.</summary>
    /// <value>Default 256.</value>
    public int BatchSize { get; set; } = 256;

    /// <summary>Every problem with the options, each naming the field; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!(Sigma >= 0) || double.IsInfinity(Sigma)) errors.Add($"{nameof(Sigma)} = {Sigma} is invalid: must be non-negative and finite.");
        if (Samples < 1) errors.Add($"{nameof(Samples)} = {Samples} is invalid: must be at least 1.");
        if (BatchSize < 1) errors.Add($"{nameof(BatchSize)} = {BatchSize} is invalid: must be at least 1.");
        return errors;
    }
}

/// <summary>The result of <see cref="WeightPerturbationRobustness"/>: R(σ) and the accuracies it averages.</summary>
/// <param name="Robustness">R(σ) = (1/M)·Σ_m |acc(w) − acc(w + σ·w⊙ξ_m)|, in percentage points (lower is flatter).</param>
/// <param name="CleanAccuracy">acc(w) in percent.</param>
/// <param name="PerturbedAccuracies">acc(w + σ·w⊙ξ_m) in percent, one per draw m.</param>
public sealed record WeightPerturbationResult(double Robustness, double CleanAccuracy, IReadOnlyList<double> PerturbedAccuracies);

/// <summary>
/// FlatNAS's figure of merit for flatness: R(σ, M) = (1/M)·Σ_{m=1..M} |acc(w) − acc(w + σ·w⊙ξ_m)| in percent, with
/// multiplicative Gaussian noise ξ_m ~ N(0, I) on all of the module's parameters (so zero weights stay zero), accuracies
/// measured in eval mode. The weights are restored bit-exactly afterwards (from copies) and the module's training mode is
/// put back. The noise of draw m for parameter k is <c>torch.randn</c> of the parameter's shape and dtype from a CPU
/// generator seeded from (seed, m), moved to the parameter's device, so a seed gives the same R on any device.
/// </summary>
public static class WeightPerturbationRobustness
{
    /// <summary>R(σ) of <paramref name="network"/> on the split <paramref name="split"/> of <paramref name="data"/> (not augmented).</summary>
    /// <param name="network">The classifier; it stays on its device, and batches are built there.</param>
    /// <param name="data">The dataset.</param>
    /// <param name="split">The split measured (typically a held-out <see cref="EvaluationSplit.Test"/>).</param>
    /// <param name="options">σ, M, seed and batch size; null uses σ = 0.05, M = 20.</param>
    /// <param name="cancellationToken">Checked before every batch.</param>
    /// <exception cref="ArgumentException">The options are invalid, the split is empty, or the network has no parameters.</exception>
    public static WeightPerturbationResult Measure(nn.Module<Tensor, Tensor> network, IClassificationDataset data, EvaluationSplit split,
        WeightPerturbationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        options ??= new WeightPerturbationOptions();
        ThrowIfInvalid(options);
        int count = data.Count(split);
        if (count == 0) throw new ArgumentException($"The {split} split of the data is empty.", nameof(data));
        var device = DeviceOf(network);
        var indices = Enumerable.Range(0, count).ToArray();
        var unused = new Random(0);
        double Accuracy()
        {
            long correct = 0;
            for (int start = 0; start < count; start += options.BatchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = torch.NewDisposeScope();
                int n = Math.Min(options.BatchSize, count - start);
                var batch = data.GetBatch(split, indices.AsSpan(start, n), augment: false, unused, device);
                correct += network.forward(batch.Images).argmax(1).eq(batch.Labels).sum().item<long>();
            }
            return 100.0 * correct / count;
        }
        return Measure(network, Accuracy, options.Sigma, options.Samples, SeededNoise(options.Seed));
    }

    /// <summary>R(σ) of <paramref name="network"/> on the given <paramref name="batches"/> (images and labels on the network's device).</summary>
    /// <exception cref="ArgumentException">The options are invalid, there are no examples, or the network has no parameters.</exception>
    public static WeightPerturbationResult Measure(nn.Module<Tensor, Tensor> network, IReadOnlyList<Batch> batches, WeightPerturbationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(batches);
        options ??= new WeightPerturbationOptions();
        ThrowIfInvalid(options);
        long total = batches.Sum(b => (long)b.Count);
        if (total == 0) throw new ArgumentException("There are no examples to measure accuracy on.", nameof(batches));
        return Measure(network, () => BatchAccuracy(network, batches, total), options.Sigma, options.Samples, SeededNoise(options.Seed));
    }

    /// <summary>
    /// The core with injected noise: <paramref name="noise"/>(m, parameters) returns ξ_m, one tensor per parameter (in
    /// <c>parameters()</c> order, same shape) for draw m = 0..<paramref name="samples"/>−1.
    /// </summary>
    internal static WeightPerturbationResult Measure(nn.Module<Tensor, Tensor> network, IReadOnlyList<Batch> batches, double sigma, int samples,
        Func<int, IReadOnlyList<Parameter>, IReadOnlyList<Tensor>> noise)
    {
        long total = batches.Sum(b => (long)b.Count);
        return Measure(network, () => BatchAccuracy(network, batches, total), sigma, samples, noise);
    }

    private static WeightPerturbationResult Measure(nn.Module<Tensor, Tensor> network, Func<double> accuracy, double sigma, int samples,
        Func<int, IReadOnlyList<Parameter>, IReadOnlyList<Tensor>> noise)
    {
        var parameters = network.parameters().ToArray();
        if (parameters.Length == 0) throw new ArgumentException("The network has no parameters to perturb.", nameof(network));
        bool wasTraining = network.training;
        var saved = new Tensor[parameters.Length];
        var perturbed = new double[samples];
        double clean;
        using var noGrad = torch.no_grad();
        try
        {
            for (int k = 0; k < parameters.Length; k++) saved[k] = parameters[k].detach().clone();
            network.eval();
            clean = accuracy();
            for (int m = 0; m < samples; m++)
            {
                using (var scope = torch.NewDisposeScope())
                {
                    var xi = noise(m, parameters);
                    if (xi.Count != parameters.Length)
                        throw new InvalidOperationException($"The noise draw {m} has {xi.Count} tensors for {parameters.Length} parameters.");
                    for (int k = 0; k < parameters.Length; k++)
                    {
                        // w + σ·w⊙ξ, from the saved copy.
                        var w = saved[k];
                        parameters[k].copy_(w.add(w.mul(xi[k].to(w.dtype).to(w.device)).mul_(sigma)));
                    }
                }
                perturbed[m] = accuracy();
                for (int k = 0; k < parameters.Length; k++) parameters[k].copy_(saved[k]);
            }
        }
        finally
        {
            for (int k = 0; k < parameters.Length; k++)
            {
                if (saved[k] is null) continue;
                parameters[k].copy_(saved[k]);
                saved[k].Dispose();
            }
            network.train(wasTraining);
        }
        double robustness = perturbed.Sum(a => Math.Abs(clean - a)) / samples;
        return new WeightPerturbationResult(robustness, clean, perturbed);
    }

    /// <summary>ξ_m: <c>torch.randn</c> per parameter (shape and dtype of the parameter, floating point) from a CPU generator seeded from (seed, m).</summary>
    internal static Func<int, IReadOnlyList<Parameter>, IReadOnlyList<Tensor>> SeededNoise(int seed) => (m, parameters) =>
    {
        using var generator = new torch.Generator(unchecked((ulong)(((long)seed * 1_000_003) + m)));
        return [.. parameters.Select(p => torch.randn(p.shape, dtype: p.is_floating_point() ? p.dtype : float32, generator: generator))];
    };

    private static double BatchAccuracy(nn.Module<Tensor, Tensor> network, IReadOnlyList<Batch> batches, long total)
    {
        long correct = 0;
        foreach (var batch in batches)
        {
            using var scope = torch.NewDisposeScope();
            correct += network.forward(batch.Images).argmax(1).eq(batch.Labels).sum().item<long>();
        }
        return 100.0 * correct / total;
    }

    private static void ThrowIfInvalid(WeightPerturbationOptions options)
    {
        var errors = options.Validate();
        if (errors.Count > 0) throw new ArgumentException("Invalid weight-perturbation options: " + string.Join(" ", errors), nameof(options));
    }

    private static Device DeviceOf(nn.Module<Tensor, Tensor> network) =>
        network.parameters().FirstOrDefault()?.device ?? torch.CPU;
}
