using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.Data;

/// <summary>
/// Images kept on the device as zero-padded bytes with their labels and the normalisation constants; a batch is
/// gathered, optionally randomly cropped and flipped (<see cref="PaddedImages.Crop(Tensor, int, bool, Random)"/>)
/// and normalised there. Shared by the MedMNIST search and evaluation data.
/// </summary>
internal sealed class PaddedImageSet : IDisposable
{
    private readonly Tensor _padded;  // [n, C, H + 2p, W + 2p] uint8
    private readonly Tensor _labels;  // [n] int64
    private readonly Tensor _mean, _std;  // [1, C, 1, 1]
    private readonly int _pad;

    /// <summary>Copies the ranges <c>[Start, Start + Count)</c> of the <paramref name="sources"/>, one after the other, to <paramref name="device"/>.</summary>
    public PaddedImageSet(IReadOnlyList<(MedMnistImages Images, int Start, int Count)> sources, int pad, IReadOnlyList<float> mean, IReadOnlyList<float> std, Device device)
    {
        var first = sources[0].Images;
        int imageBytes = first.ImageBytes;
        int total = sources.Sum(s => s.Count);
        var pixels = new byte[(long)total * imageBytes];
        var labels = new long[total];
        int n = 0;
        foreach (var (images, start, count) in sources)
        {
            images.Pixels.AsSpan(start * imageBytes, count * imageBytes).CopyTo(pixels.AsSpan(n * imageBytes));
            for (int i = 0; i < count; i++) labels[n + i] = images.Labels[start + i];
            n += count;
        }
        _pad = pad;
        using (var raw = torch.tensor(pixels, [total, first.Channels, first.Height, first.Width], dtype: uint8))
            _padded = (pad > 0 ? nn.functional.pad(raw, [pad, pad, pad, pad]) : raw.clone()).to(device).DetachFromDisposeScope();
        _labels = torch.tensor(labels, dtype: int64).to(device).DetachFromDisposeScope();
        // A constant channel (std 0) is only centred, not scaled.
        _mean = torch.tensor(mean.ToArray(), [1, first.Channels, 1, 1]).to(device).DetachFromDisposeScope();
        _std = torch.tensor(std.Select(s => s > 0 ? s : 1f).ToArray(), [1, first.Channels, 1, 1]).to(device).DetachFromDisposeScope();
        Count = total;
    }

    /// <summary>Number of images.</summary>
    public int Count { get; }

    /// <summary>The batch of rows <paramref name="rows"/>, normalised, on <paramref name="device"/> (in the caller's dispose scope).</summary>
    public Batch Get(long[] rows, bool augment, Random random, Device device)
    {
        Tensor images, labels;
        using (var scope = torch.NewDisposeScope())
        {
            var index = torch.tensor(rows, dtype: int64).to(_padded.device);
            var cropped = PaddedImages.Crop(_padded.index_select(0, index), _pad, augment, random);
            images = cropped.to(float32).div_(255f).sub_(_mean).div_(_std).to(device).MoveToOuterDisposeScope();
            labels = _labels.index_select(0, index).to(device).MoveToOuterDisposeScope();
        }
        return new Batch(images, labels);
    }

    /// <summary>Checks <paramref name="indices"/> against <paramref name="count"/> and shifts them by <paramref name="offset"/>.</summary>
    public static long[] Rows(ReadOnlySpan<int> indices, int count, int offset, string split)
    {
        if (indices.Length == 0) throw new ArgumentException("A batch needs at least one index.", nameof(indices));
        var rows = new long[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            if ((uint)indices[i] >= (uint)count)
                throw new ArgumentOutOfRangeException(nameof(indices), indices[i], $"Index outside the {split} split (0..{count - 1}).");
            rows[i] = indices[i] + offset;
        }
        return rows;
    }

    public void Dispose()
    {
        _padded.Dispose();
        _labels.Dispose();
        _mean.Dispose();
        _std.Dispose();
    }
}
