using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.Data;

/// <summary>
/// Crops of images kept zero-padded on the device (the standard crop + flip augmentation): CIFAR's 32×32 images padded by
/// 4 pixels, and any other square or rectangular size and channel count (MedMNIST's 28×28 grey or RGB).
/// </summary>
internal static class PaddedImages
{
    public const int Pad = 4, Size = 32, Padded = Size + 2 * Pad;

    /// <summary>
    /// From <paramref name="padded"/> images <c>[B, C, 40, 40]</c>: with <paramref name="augment"/>, a random
    /// 32×32 crop and a random horizontal flip per example (drawn from <paramref name="random"/> in the order
    /// dy, dx in 0..8, then the flip), gathered on the device in two operations; otherwise the centre crop.
    /// </summary>
    public static Tensor Crop(Tensor padded, bool augment, Random random) => Crop(padded, Pad, augment, random);

    /// <summary>
    /// From <paramref name="padded"/> images <c>[B, C, H + 2p, W + 2p]</c> (p = <paramref name="pad"/>): with
    /// <paramref name="augment"/>, a random H×W crop and a random horizontal flip per example (drawn from
    /// <paramref name="random"/> in the order dy, dx in 0..2p, then the flip); otherwise the centre crop.
    /// </summary>
    public static Tensor Crop(Tensor padded, int pad, bool augment, Random random)
    {
        int b = (int)padded.shape[0], channels = (int)padded.shape[1];
        int paddedHeight = (int)padded.shape[2], paddedWidth = (int)padded.shape[3];
        int height = paddedHeight - 2 * pad, width = paddedWidth - 2 * pad;
        if (!augment) return padded[.., .., pad..(pad + height), pad..(pad + width)];
        var rowIdx = new long[b * height];
        var colIdx = new long[b * width];
        for (int i = 0; i < b; i++)
        {
            int dy = random.Next(2 * pad + 1), dx = random.Next(2 * pad + 1);
            bool flip = random.Next(2) == 1;
            for (int k = 0; k < height; k++) rowIdx[i * height + k] = dy + k;
            for (int k = 0; k < width; k++) colIdx[i * width + k] = dx + (flip ? width - 1 - k : k);
        }
        var r = torch.tensor(rowIdx, [b, 1, height, 1], dtype: int64).to(padded.device).expand(b, channels, height, paddedWidth);
        var c = torch.tensor(colIdx, [b, 1, 1, width], dtype: int64).to(padded.device).expand(b, channels, height, width);
        return padded.gather(2, r).gather(3, c);
    }
}
