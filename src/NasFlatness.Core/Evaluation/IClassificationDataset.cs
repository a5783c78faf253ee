using static TorchSharp.torch;

namespace NasFlatness.Evaluation;

/// <summary>Which part of a classification dataset a batch comes from.</summary>
public enum EvaluationSplit
{
    /// <summary>The images the network is trained on.</summary>
    Train,

    /// <summary>The held-out images the trained network is tested on.</summary>
    Test,
}

/// <summary>
/// Train and test images of a classification task for the final evaluation (e.g. CIFAR-10: 50,000 training and
/// 10,000 test images).
/// </summary>
public interface IClassificationDataset : IDisposable
{
    /// <summary>Image shape and class count.</summary>
    DatasetInfo Info { get; }

    /// <summary>Number of examples in <paramref name="split"/>.</summary>
    int Count(EvaluationSplit split);

    /// <summary>
    /// Materialises the examples at <paramref name="indices"/> of <paramref name="split"/> as a batch on
    /// <paramref name="device"/>. With <paramref name="augment"/> the training augmentation (e.g. crop, flip,
    /// cutout) is applied with randomness drawn only from <paramref name="random"/>, so a seed fixes the result.
    /// The tensors belong to the caller's current dispose scope.
    /// </summary>
    Batch GetBatch(EvaluationSplit split, ReadOnlySpan<int> indices, bool augment, Random random, Device device);
}
