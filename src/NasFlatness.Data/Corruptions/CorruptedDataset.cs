using NasFlatness.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.Data;

/// <summary>
/// A classification dataset whose test split is corrupted (<see cref="ImageCorruptions"/>) at a fixed corruption and severity;
/// the training split is passed through unchanged. The wrapped dataset's test batches are normalised images, so each batch is
/// mapped back to [0, 1] with the given mean and standard deviation, corrupted, and normalised again. Test example i always gets
/// the same noise (seeded from the seed, the corruption, the severity and i), whatever the batches.
/// </summary>
public sealed class CorruptedDataset : IClassificationDataset
{
    private readonly IClassificationDataset _inner;
    private readonly bool _ownsInner;
    private readonly float[] _mean, _std;
    private readonly long _seed;

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    /// <param name="inner">The clean dataset.</param>
    /// <param name="corruption">The corruption applied to test batches.</param>
    /// <param name="severity">Its severity, 1–5.</param>
    /// <param name="mean">Per-channel mean the inner dataset normalises with (e.g. <see cref="CifarImages.Mean"/>, <see cref="MedMnistImages.Mean"/>).</param>
    /// <param name="std">Per-channel standard deviation the inner dataset normalises with.</param>
    /// <param name="seed">Seed of the noise.</param>
    /// <param name="ownsInner">Whether <see cref="Dispose"/> disposes <paramref name="inner"/>.</param>
    /// <exception cref="ArgumentException">The mean or std do not have one entry per channel, or a std is not positive.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The severity is not 1–5 or the corruption is unknown.</exception>
    public CorruptedDataset(IClassificationDataset inner, Corruption corruption, int severity, IReadOnlyList<float> mean, IReadOnlyList<float> std, int seed = 0, bool ownsInner = false)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        _ = ImageCorruptions.Parameter(corruption, severity);
        int channels = inner.Info.Channels;
        if (mean.Count != channels || std.Count != channels)
            throw new ArgumentException($"The mean and std need {channels} entries (one per channel), got {mean.Count} and {std.Count}.", nameof(mean));
        if (std.Any(s => !(s > 0)))
            throw new ArgumentException($"Every std must be positive, got [{string.Join(", ", std)}].", nameof(std));
        _inner = inner;
        _ownsInner = ownsInner;
        _mean = [.. mean];
        _std = [.. std];
        Corruption = corruption;
        Severity = severity;
        _seed = unchecked(((long)seed * 1_000_003 + (int)corruption) * 8 + severity);
    }

    /// <summary>The corruption applied to the test split.</summary>
    public Corruption Corruption { get; }

    /// <summary>Its severity, 1–5.</summary>
    public int Severity { get; }

    /// <inheritdoc />
    public DatasetInfo Info => _inner.Info;

    /// <inheritdoc />
    public int Count(EvaluationSplit split) => _inner.Count(split);

    /// <inheritdoc />
    public Batch GetBatch(EvaluationSplit split, ReadOnlySpan<int> indices, bool augment, Random random, Device device)
    {
        var batch = _inner.GetBatch(split, indices, augment, random, device);
        if (split != EvaluationSplit.Test) return batch;
        var seeds = new long[indices.Length];
        for (int i = 0; i < seeds.Length; i++) seeds[i] = ImageCorruptions.ExampleSeed(_seed, indices[i]);
        Tensor images;
        using (var scope = torch.NewDisposeScope())
        {
            var shape = new long[] { 1, _mean.Length, 1, 1 };
            var mean = torch.tensor(_mean, shape).to(batch.Images.dtype).to(batch.Images.device);
            var std = torch.tensor(_std, shape).to(batch.Images.dtype).to(batch.Images.device);
            var clean = batch.Images.mul(std).add_(mean).clamp_(0.0, 1.0);
            images = ImageCorruptions.Apply(clean, Corruption, Severity, seeds).sub_(mean).div_(std).MoveToOuterDisposeScope();
        }
        batch.Images.Dispose();
        return new Batch(images, batch.Labels);
    }

    /// <summary>Disposes the inner dataset when this wrapper owns it.</summary>
    public void Dispose()
    {
        if (_ownsInner) _inner.Dispose();
    }
}
