using static TorchSharp.torch;

namespace NasFlatness;

/// <summary>Which half of the search data a batch comes from.</summary>
public enum SearchSplit
{
    /// <summary>The split the network weights are trained on.</summary>
    Train,

    /// <summary>The split α is trained on (and the supernet is validated on).</summary>
    Validation,
}

/// <summary>
/// The data of a search: a training split for the weights and a validation split for α, both resident
/// on (or streamed to) the search device.
/// </summary>
public interface ISearchDataset : IDisposable
{
    /// <summary>Image shape and class count.</summary>
    DatasetInfo Info { get; }

    /// <summary>Number of examples in <paramref name="split"/>.</summary>
    int Count(SearchSplit split);

    /// <summary>
    /// Materialises the examples at <paramref name="indices"/> of <paramref name="split"/> as a batch on
    /// <paramref name="device"/>, applying the search augmentation when <paramref name="augment"/> is true
    /// with randomness drawn from <paramref name="random"/> (so a seed fixes the result on any device).
    /// The tensors belong to the caller's current dispose scope.
    /// </summary>
    Batch GetBatch(SearchSplit split, ReadOnlySpan<int> indices, bool augment, Random random, Device device);

    /// <summary>
    /// What identifies the data beyond its split sizes — e.g. the full path of the source folder and its files' sizes —
    /// recorded in a search checkpoint so a resume on other data is refused; null (the default) when the data has no
    /// such identity (the split sizes are still compared).
    /// </summary>
    string? Fingerprint => null;
}
