using static TorchSharp.torch;

namespace NasFlatness.Data;

/// <summary>
/// A JPEG encoder and decoder for <see cref="Corruption.JpegCompression"/>: the satellite package <c>NasFlatness.Data.Jpeg</c>
/// provides Skia's; <see cref="ImageCorruptions.JpegCodec"/> selects the one used.
/// </summary>
public interface IJpegCodec
{
    /// <summary>
    /// <paramref name="images"/> (<c>[B, C, H, W]</c> in [0, 1], C = 1 or 3) quantised to bytes, each image encoded as a JPEG at
    /// <paramref name="quality"/> (1–100) and decoded, returned on the images' device and dtype.
    /// </summary>
    Tensor RoundTrip(Tensor images, int quality);
}
