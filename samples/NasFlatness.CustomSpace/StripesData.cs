using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.CustomSpace;

/// <summary>
/// A user-defined search dataset: 3×8×8 images of horizontal (class 0) or vertical (class 1) stripes with Gaussian
/// noise, generated from a seed. Shows that any <see cref="ISearchDataset"/> plugs into the search runner.
/// </summary>
public sealed class StripesData : ISearchDataset
{
    private const int Size = 8;
    private readonly float[][] _images = new float[2][];
    private readonly long[][] _labels = new long[2][];

    /// <summary>Creates <paramref name="trainCount"/> training and <paramref name="validationCount"/> validation images.</summary>
    public StripesData(int trainCount, int validationCount, int seed = 0)
    {
        if (trainCount < 1 || validationCount < 1) throw new ArgumentException("Both splits need at least one image.");
        var random = new Random(seed);
        (_images[0], _labels[0]) = Generate(trainCount, random);
        (_images[1], _labels[1]) = Generate(validationCount, random);
    }

    /// <inheritdoc />
    public DatasetInfo Info { get; } = new(3, Size, Size, 2);

    /// <inheritdoc />
    public int Count(SearchSplit split) => _labels[(int)split].Length;

    /// <inheritdoc />
    public Batch GetBatch(SearchSplit split, ReadOnlySpan<int> indices, bool augment, Random random, Device device)
    {
        int pixels = 3 * Size * Size, s = (int)split;
        var images = new float[indices.Length * pixels];
        var labels = new long[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            Array.Copy(_images[s], indices[i] * pixels, images, i * pixels, pixels);
            labels[i] = _labels[s][indices[i]];
            if (augment && random.Next(2) == 1) FlipVertically(images.AsSpan(i * pixels, pixels)); // keeps the stripes' direction
        }
        return new Batch(torch.tensor(images, [indices.Length, 3, Size, Size], device: device), torch.tensor(labels, device: device));
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private static (float[] Images, long[] Labels) Generate(int count, Random random)
    {
        int pixels = 3 * Size * Size;
        var images = new float[count * pixels];
        var labels = new long[count];
        for (int n = 0; n < count; n++)
        {
            labels[n] = random.Next(2);
            int phase = random.Next(2);
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < Size; y++)
                    for (int x = 0; x < Size; x++)
                    {
                        int coordinate = labels[n] == 0 ? y : x;
                        float stripe = (coordinate + phase) % 2 == 0 ? 1f : -1f;
                        images[n * pixels + (c * Size + y) * Size + x] = stripe + (float)(random.NextDouble() * 2 - 1) * 1.5f;
                    }
        }
        return (images, labels);
    }

    private static void FlipVertically(Span<float> image)
    {
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < Size / 2; y++)
            {
                var top = image.Slice((c * Size + y) * Size, Size);
                var bottom = image.Slice((c * Size + Size - 1 - y) * Size, Size);
                for (int x = 0; x < Size; x++) (top[x], bottom[x]) = (bottom[x], top[x]);
            }
    }
}
