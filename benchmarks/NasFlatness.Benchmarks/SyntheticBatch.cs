using TorchSharp;

namespace NasFlatness.Benchmarks;

/// <summary>The benchmarks' synthetic CIFAR-shaped minibatch: N(0, 1) images [n, 3, 32, 32] and labels in 0..9, outside any dispose scope.</summary>
internal static class SyntheticBatch
{
    /// <summary>Draws the images, then the labels, from torch's global generator.</summary>
    public static Batch Create(long n = 64) =>
        new(torch.randn(n, 3, 32, 32).DetachFromDisposeScope(), torch.randint(10, [n]).DetachFromDisposeScope());
}
