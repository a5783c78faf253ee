namespace NasFlatness.Landscape;

/// <summary>
/// Names one number a tabular benchmark stores per architecture: a dataset (e.g. <c>cifar10</c>) and a
/// measure on it (e.g. <c>test-accuracy</c>, <c>train-loss</c>). Compares by value.
/// </summary>
public sealed record BenchmarkMetric
{
    /// <summary>Creates a metric name.</summary>
    /// <param name="dataset">The dataset, e.g. <c>cifar10</c>, <c>cifar100</c>, <c>ImageNet16-120</c>.</param>
    /// <param name="measure">The measure, e.g. <c>test-accuracy</c> or <c>valid-loss</c>.</param>
    /// <param name="higherIsBetter">Whether larger values are better (accuracies) or worse (losses).</param>
    /// <exception cref="ArgumentException"><paramref name="dataset"/> or <paramref name="measure"/> is empty.</exception>
    public BenchmarkMetric(string dataset, string measure, bool higherIsBetter)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataset);
        ArgumentException.ThrowIfNullOrWhiteSpace(measure);
        Dataset = dataset;
        Measure = measure;
        HigherIsBetter = higherIsBetter;
    }

    /// <summary>The dataset, e.g. <c>cifar10</c>.</summary>
    public string Dataset { get; }

    /// <summary>The measure, e.g. <c>test-accuracy</c>.</summary>
    public string Measure { get; }

    /// <summary><see langword="true"/> for accuracies (higher is better), <see langword="false"/> for losses.</summary>
    public bool HigherIsBetter { get; }

    /// <summary><c>dataset/measure</c>, e.g. <c>cifar10/test-accuracy</c>.</summary>
    public override string ToString() => $"{Dataset}/{Measure}";
}
