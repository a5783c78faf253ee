using NasFlatness.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.Data;

/// <summary>Options of <see cref="MeanCorruptionError"/>.</summary>
public sealed class MeanCorruptionErrorOptions
{
    /// <summary>The corruptions evaluated; null uses all of <see cref="ImageCorruptions.All"/>.</summary>
    /// <value>Default null.</value>
    public IReadOnlyList<Corruption>? Corruptions { get; set; }

    /// <summary>The severities evaluated (each 1–5).</summary>
    /// <value>Default 1, 2, 3, 4, 5.</value>
    public IReadOnlyList<int> Severities { get; set; } = [1, 2, 3, 4, 5];

    /// <summary>Seed of the corruption noise.</summary>
    /// <value>Default 0.</value>
    public int Seed { get; set; }

    /// <summary>Minibatch size of the test-set evaluation.</summary>
    /// <value>Default 256.</value>
    public int BatchSize { get; set; } = 256;
}

/// <summary>The errors of <see cref="MeanCorruptionError.Evaluate"/>, all in percent.</summary>
public sealed class MeanCorruptionErrorReport
{
    internal MeanCorruptionErrorReport(double cleanError, IReadOnlyList<int> severities, IReadOnlyDictionary<Corruption, IReadOnlyList<double>> errors)
    {
        CleanError = cleanError;
        Severities = severities;
        Errors = errors;
        MeanErrors = errors.ToDictionary(e => e.Key, e => e.Value.Average());
        Mean = MeanErrors.Values.Average();
    }

    /// <summary>Test error on the clean images, in percent.</summary>
    public double CleanError { get; }

    /// <summary>The severities, in the order of every list in <see cref="Errors"/>.</summary>
    public IReadOnlyList<int> Severities { get; }

    /// <summary>Test error per corruption and severity, in percent.</summary>
    public IReadOnlyDictionary<Corruption, IReadOnlyList<double>> Errors { get; }

    /// <summary>Mean error over the severities, per corruption, in percent.</summary>
    public IReadOnlyDictionary<Corruption, double> MeanErrors { get; }

    /// <summary>The unnormalised mean corruption error: the mean of <see cref="MeanErrors"/> (FlatNAS's "mCE", no AlexNet normalisation), in percent.</summary>
    public double Mean { get; }
}

/// <summary>
/// The unnormalised mean corruption error of a classifier (docs/flatnas.md): the test split
/// is corrupted by each corruption at each severity (<see cref="CorruptedDataset"/>), the top-1 error is measured in eval
/// mode, averaged over severities per corruption, and over corruptions.
/// </summary>
public static class MeanCorruptionError
{
    /// <summary>Evaluates <paramref name="network"/> (left on its device, batches are built there) on the corrupted test splits of <paramref name="data"/>.</summary>
    /// <param name="network">The classifier.</param>
    /// <param name="data">The clean dataset (its test split is corrupted).</param>
    /// <param name="mean">Per-channel mean the dataset normalises with.</param>
    /// <param name="std">Per-channel standard deviation the dataset normalises with.</param>
    /// <param name="options">Corruptions, severities, seed and batch size; null uses all at severities 1–5.</param>
    /// <param name="cancellationToken">Checked before every batch.</param>
    /// <exception cref="ArgumentException">The options or normalisation constants are invalid, or the test split is empty.</exception>
    public static MeanCorruptionErrorReport Evaluate(nn.Module<Tensor, Tensor> network, IClassificationDataset data, IReadOnlyList<float> mean, IReadOnlyList<float> std,
        MeanCorruptionErrorOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        options ??= new MeanCorruptionErrorOptions();
        var corruptions = options.Corruptions ?? ImageCorruptions.All;
        if (corruptions.Count == 0) throw new ArgumentException($"{nameof(options.Corruptions)} is empty.", nameof(options));
        if (corruptions.Contains(Corruption.JpegCompression)) _ = ImageCorruptions.JpegCodec; // no codec: fail before any compute
        if (options.Severities is null || options.Severities.Count == 0 || options.Severities.Any(s => s is < 1 or > 5))
            throw new ArgumentException($"{nameof(options.Severities)} must list severities in 1..5.", nameof(options));
        if (options.BatchSize < 1) throw new ArgumentException($"{nameof(options.BatchSize)} = {options.BatchSize} is invalid: must be at least 1.", nameof(options));
        var device = network.parameters().FirstOrDefault()?.device ?? torch.CPU;
        var evaluator = new EvaluationTrainer(new EvaluationOptions { TestBatchSize = options.BatchSize, Device = device.ToString() });
        double Error(IClassificationDataset d) => 100.0 * (1.0 - evaluator.Evaluate(network, d, device, cancellationToken).Accuracy);

        double clean = Error(data);
        var errors = new Dictionary<Corruption, IReadOnlyList<double>>();
        foreach (var corruption in corruptions)
        {
            var perSeverity = new double[options.Severities.Count];
            for (int s = 0; s < perSeverity.Length; s++)
            {
                using var corrupted = new CorruptedDataset(data, corruption, options.Severities[s], mean, std, options.Seed);
                perSeverity[s] = Error(corrupted);
            }
            errors[corruption] = perSeverity;
        }
        return new MeanCorruptionErrorReport(clean, [.. options.Severities], errors);
    }
}
