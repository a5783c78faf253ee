using static TorchSharp.torch;

namespace NasFlatness;

/// <summary>A minibatch on the search device: images <c>[B, C, H, W]</c> (float32, normalised) and labels <c>[B]</c> (int64).</summary>
/// <param name="Images">Input images.</param>
/// <param name="Labels">Class labels.</param>
public readonly record struct Batch(Tensor Images, Tensor Labels)
{
    /// <summary>Number of examples in the batch.</summary>
    public int Count => (int)Labels.shape[0];
}
