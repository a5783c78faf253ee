using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.Data;

/// <summary>
/// Cutout: per image, a square of side <c>length</c> centred at a uniformly random pixel (clipped at the border) is set
/// to zero. Meant for normalised images (docs/spec/algorithms.md §11.2).
/// </summary>
public static class Cutout
{
    /// <summary>Returns <paramref name="images"/> ([B, C, H, W]) with one square per image zeroed; the centres come from <paramref name="random"/>.</summary>
    /// <param name="images">Batch of images.</param>
    /// <param name="length">Side of the square in pixels (DARTS: 16); 0 returns a copy.</param>
    /// <param name="random">Source of the centres, so a seed fixes the result on any device.</param>
    public static Tensor Apply(Tensor images, int length, Random random)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (images.dim() != 4) throw new ArgumentException($"Cutout takes images [B, C, H, W], got shape [{string.Join(", ", images.shape)}].", nameof(images));
        if (length == 0) return images.clone();
        int b = (int)images.shape[0], h = (int)images.shape[2], w = (int)images.shape[3];
        var mask = new float[b * h * w];
        Array.Fill(mask, 1f);
        for (int i = 0; i < b; i++)
        {
            int y = random.Next(h), x = random.Next(w);
            int y1 = Math.Clamp(y - length / 2, 0, h), y2 = Math.Clamp(y + length / 2, 0, h);
            int x1 = Math.Clamp(x - length / 2, 0, w), x2 = Math.Clamp(x + length / 2, 0, w);
            for (int r = y1; r < y2; r++)
                mask.AsSpan(i * h * w + r * w + x1, x2 - x1).Clear();
        }
        using var m = torch.tensor(mask, [b, 1, h, w], dtype: images.dtype).to(images.device);
        return images.mul(m);
    }
}
