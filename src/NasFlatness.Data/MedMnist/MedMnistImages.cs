namespace NasFlatness.Data;

/// <summary>
/// One split of a MedMNIST dataset in memory: <see cref="Count"/> images of <see cref="Channels"/>×<see cref="Height"/>×<see cref="Width"/>
/// bytes, stored channel-major like <see cref="CifarImages"/> (all of channel 0 row-major, then channel 1, …; the
/// <c>.npz</c> file's channel-last RGB is transposed on reading), and their labels.
/// </summary>
public sealed class MedMnistImages
{
    internal MedMnistImages(int channels, int height, int width, byte[] pixels, byte[] labels)
    {
        Channels = channels;
        Height = height;
        Width = width;
        Pixels = pixels;
        Labels = labels;
    }

    /// <summary>Image channels: 1 (grey, e.g. BreastMNIST, PneumoniaMNIST) or 3 (RGB, e.g. RetinaMNIST).</summary>
    public int Channels { get; }

    /// <summary>Image height in pixels (28 for the files in <c>shared/data/medmnist</c>).</summary>
    public int Height { get; }

    /// <summary>Image width in pixels.</summary>
    public int Width { get; }

    /// <summary>Number of images.</summary>
    public int Count => Labels.Length;

    /// <summary>Bytes of one image (<see cref="Channels"/> × <see cref="Height"/> × <see cref="Width"/>).</summary>
    public int ImageBytes => Channels * Height * Width;

    /// <summary>All pixels, image after image (<see cref="ImageBytes"/> each, channel-major).</summary>
    public byte[] Pixels { get; }

    /// <summary>Label of every image (0 … class count − 1).</summary>
    public byte[] Labels { get; }

    /// <summary>The pixels of image <paramref name="index"/> (channel-major).</summary>
    public ReadOnlySpan<byte> Image(int index) => Pixels.AsSpan(index * ImageBytes, ImageBytes);

    /// <summary>The pixel of image <paramref name="index"/> at <paramref name="channel"/>, <paramref name="row"/>, <paramref name="column"/>.</summary>
    public byte Pixel(int index, int channel, int row, int column) => Pixels[((long)index * ImageBytes) + ((channel * Height) + row) * Width + column];

    /// <summary>Per-channel mean of the pixels scaled to [0, 1], over all images of this split (the normalisation mean).</summary>
    public IReadOnlyList<float> Mean() => Statistics().Mean;

    /// <summary>Per-channel population standard deviation of the pixels scaled to [0, 1], over all images of this split.</summary>
    public IReadOnlyList<float> Std() => Statistics().Std;

    private (float[] Mean, float[] Std)? _statistics;

    private (float[] Mean, float[] Std) Statistics()
    {
        if (_statistics is { } cached) return cached;
        int plane = Height * Width;
        var mean = new float[Channels];
        var std = new float[Channels];
        for (int c = 0; c < Channels; c++)
        {
            // Exact integer sums: no rounding drift over millions of pixels.
            long sum = 0, squares = 0;
            for (int i = 0; i < Count; i++)
            {
                foreach (byte v in Pixels.AsSpan(i * ImageBytes + c * plane, plane))
                {
                    sum += v;
                    squares += v * v;
                }
            }
            double n = (double)Count * plane;
            double m = sum / n, variance = Math.Max(0, squares / n - m * m);
            mean[c] = (float)(m / 255);
            std[c] = (float)(Math.Sqrt(variance) / 255);
        }
        _statistics = (mean, std);
        return (mean, std);
    }
}
