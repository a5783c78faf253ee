using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.SearchSpaces.Operations;

/// <summary>
/// The PC-DARTS channel shuffle: a [B, C, H, W] tensor viewed as [B, K, C/K, H, W], dims 1 and 2 swapped and flattened
/// back, so output channel <c>i·K + g</c> is channel i of group g. Partial-channel edges of both built-in spaces use it.
/// </summary>
public static class PartialChannelShuffle
{
    /// <summary>Shuffles the channels of <paramref name="x"/> with <paramref name="groups"/> groups (C divisible by it).</summary>
    public static Tensor Apply(Tensor x, long groups)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (groups == 1) return x.alias();
        if (x.shape[1] % groups != 0)
            throw new ArgumentException($"Channel shuffle with {groups} groups needs a channel count divisible by it, got {x.shape[1]}.", nameof(x));
        long sampled = x.shape[1] / groups;
        using var a = x.narrow(1, 0, sampled);
        using var b = x.narrow(1, sampled, x.shape[1] - sampled);
        return Interleave(a, b, groups);
    }

    /// <summary>
    /// <c>Apply(cat([mixed, bypass], 1), groups)</c> in one copy: <paramref name="mixed"/> is group 0 (C/K channels, the
    /// channels that went through the operations) and <paramref name="bypass"/> groups 1..K−1.
    /// </summary>
    public static Tensor Interleave(Tensor mixed, Tensor bypass, long groups)
    {
        ArgumentNullException.ThrowIfNull(mixed);
        ArgumentNullException.ThrowIfNull(bypass);
        long s = mixed.shape[1];
        var parts = new Tensor[groups];
        parts[0] = mixed;
        for (int g = 1; g < groups; g++) parts[g] = bypass.narrow(1, (g - 1) * s, s);
        try
        {
            using var stacked = torch.stack(parts, 2); // [B, C/K, K, H, W]
            return stacked.view(mixed.shape[0], s * groups, mixed.shape[2], mixed.shape[3]);
        }
        finally
        {
            for (int g = 1; g < groups; g++) parts[g].Dispose();
        }
    }
}
