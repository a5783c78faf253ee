using System.Runtime.InteropServices;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;
using NasFlatness.Data;

namespace NasFlatness.Data.Jpeg;

/// <summary>
/// JPEG compression of image batches through Skia's codec (libjpeg-turbo): each image is quantised to bytes (round(255·x)),
/// encoded as a JPEG at the given quality with Skia's defaults (4:2:0 chroma subsampling for colour, as PIL's encoder uses in
/// CIFAR-10-C's <c>make_cifar_c.py</c>; a one-channel image is encoded as greyscale), decoded, and scaled back to [0, 1].
/// <see cref="ImageCorruptions"/> finds it when this package is referenced.
/// </summary>
public sealed class SkiaJpegCodec : IJpegCodec
{
    /// <inheritdoc />
    public Tensor RoundTrip(Tensor images, int quality) => Apply(images, quality);

    /// <summary>The round trip of <paramref name="images"/> ([B, C, H, W] in [0, 1], C = 1 or 3) on their device and dtype.</summary>
    internal static Tensor Apply(Tensor images, int quality)
    {
        long batch = images.shape[0], channels = images.shape[1], height = images.shape[2], width = images.shape[3];
        if (channels is not (1 or 3))
            throw new ArgumentException($"JPEG compression takes grey (C = 1) or RGB (C = 3) images, got C = {channels}.", nameof(images));
        if (quality is < 1 or > 100) throw new ArgumentOutOfRangeException(nameof(quality), quality, "JPEG quality is 1 to 100.");
        int h = checked((int)height), w = checked((int)width);
        using var scope = torch.NewDisposeScope();
        var hwc = images.detach().mul(255).round_().clamp_(0, 255).to(uint8).permute(0, 2, 3, 1).contiguous().cpu();
        var pixels = hwc.data<byte>().ToArray();
        var info = new SKImageInfo(w, h, channels == 3 ? SKColorType.Rgba8888 : SKColorType.Gray8, SKAlphaType.Opaque);
        int perImage = h * w * (int)channels;
        var rgba = new byte[info.BytesSize];
        var decoded = new byte[info.BytesSize];
        var result = new byte[pixels.Length];
        var pin = GCHandle.Alloc(decoded, GCHandleType.Pinned);
        try
        {
            for (long i = 0; i < batch; i++)
            {
                var source = pixels.AsSpan(checked((int)(i * perImage)), perImage);
                Expand(source, rgba, (int)channels);
                using var image = SKImage.FromPixelCopy(info, rgba, info.RowBytes)
                    ?? throw new InvalidOperationException("Skia could not take the image's pixels.");
                using var jpeg = image.Encode(SKEncodedImageFormat.Jpeg, quality)
                    ?? throw new InvalidOperationException("Skia could not encode a JPEG (is the SkiaSharp native library for this platform present?).");
                using var codec = SKCodec.Create(jpeg) ?? throw new InvalidOperationException("Skia could not read back its own JPEG.");
                var status = codec.GetPixels(info, pin.AddrOfPinnedObject());
                if (status != SKCodecResult.Success) throw new InvalidOperationException($"Skia could not decode its own JPEG: {status}.");
                Contract(decoded, result.AsSpan(checked((int)(i * perImage)), perImage), (int)channels);
            }
        }
        finally
        {
            pin.Free();
        }
        return torch.tensor(result, [batch, height, width, channels], dtype: uint8)
            .permute(0, 3, 1, 2).to(images.dtype).div_(255).to(images.device).MoveToOuterDisposeScope();
    }

    /// <summary>HWC bytes to Skia's row layout: RGB gains an opaque alpha byte, grey is copied.</summary>
    private static void Expand(ReadOnlySpan<byte> source, Span<byte> target, int channels)
    {
        if (channels == 1)
        {
            source.CopyTo(target);
            return;
        }
        for (int p = 0, q = 0; p < source.Length; p += 3, q += 4)
        {
            target[q] = source[p];
            target[q + 1] = source[p + 1];
            target[q + 2] = source[p + 2];
            target[q + 3] = 255;
        }
    }

    /// <summary>Skia's row layout back to HWC bytes (alpha dropped).</summary>
    private static void Contract(ReadOnlySpan<byte> source, Span<byte> target, int channels)
    {
        if (channels == 1)
        {
            source[..target.Length].CopyTo(target);
            return;
        }
        for (int p = 0, q = 0; p < target.Length; p += 3, q += 4)
        {
            target[p] = source[q];
            target[p + 1] = source[q + 1];
            target[p + 2] = source[q + 2];
        }
    }
}
