using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.Data;

/// <summary>Crops of CIFAR images kept zero-padded by 4 pixels on the device (the standard crop + flip augmentation).</summary>
internal static class PaddedImages
{
    public const int Pad = 4, Size = 32, Padded = Size + 2 * Pad;

    /// <summary>
    /// From <paramref name="padded"/> images <c>[B, 3, 40, 40]</c>: with <paramref name="augment"/>, a random
    /// 32×32 crop and a random horizontal flip per example (drawn from <paramref name="random"/> in the order
    /// dy, dx in 0..8, then the flip), gathered on the device in two operations; otherwise the centre crop.
    /// </summary>
    public static Tensor Crop(Tensor padded, bool augment, Random random)
    {
        if (!augment) return padded[.., .., Pad..(Pad + Size), Pad..(Pad + Size)];
        int b = (int)padded.shape[0];
        var rowIdx = new long[b * Size];
        var colIdx = new long[b * Size];
        for (int i = 0; i < b; i++)
        {
            int dy = random.Next(2 * Pad + 1), dx = random.Next(2 * Pad + 1);
            bool flip = random.Next(2) == 1;
            for (int k = 0; k < Size; k++)
            {
                rowIdx[i * Size + k] = dy + k;
                colIdx[i * Size + k] = dx + (flip ? Size - 1 - k : k);
            }
        }
        var r = torch.tensor(rowIdx, [b, 1, Size, 1], dtype: int64).to(padded.device).expand(b, 3, Size, Padded);
        var c = torch.tensor(colIdx, [b, 1, 1, Size], dtype: int64).to(padded.device).expand(b, 3, Size, Size);
        return padded.gather(2, r).gather(3, c);
    }
}
