namespace NasFlatness.Landscape;

/// <summary>The metrics of the built-in NAS-Bench-201 table (<see cref="Nb201Table"/>).</summary>
public static class Nb201Metrics
{
    /// <summary>Dataset name of CIFAR-10 (model trained on train+valid, evaluated on the test set).</summary>
    public const string Cifar10 = "cifar10";

    /// <summary>Dataset name of the <c>cifar10-valid</c> setting (trained on 25k images, evaluated on the other 25k and on test).</summary>
    public const string Cifar10Valid = "cifar10-valid";

    /// <summary>Dataset name of CIFAR-100.</summary>
    public const string Cifar100 = "cifar100";

    /// <summary>Dataset name of ImageNet16-120.</summary>
    public const string ImageNet16 = "ImageNet16-120";

    /// <summary>The metric name of test accuracy (in every dataset).</summary>
    public const string TestAccuracyName = "test-accuracy";

    /// <summary>CIFAR-10 test accuracy in percent (200 epochs, seed average).</summary>
    public static BenchmarkMetric Cifar10TestAccuracy { get; } = new(Cifar10, TestAccuracyName, higherIsBetter: true);

    /// <summary>CIFAR-100 test accuracy in percent (200 epochs, seed average).</summary>
    public static BenchmarkMetric Cifar100TestAccuracy { get; } = new(Cifar100, TestAccuracyName, higherIsBetter: true);

    /// <summary>ImageNet16-120 test accuracy in percent (200 epochs, seed average).</summary>
    public static BenchmarkMetric ImageNet16TestAccuracy { get; } = new(ImageNet16, TestAccuracyName, higherIsBetter: true);

    /// <summary><c>cifar10-valid</c> validation accuracy in percent (final epoch).</summary>
    public static BenchmarkMetric Cifar10ValidValidAccuracy { get; } = new(Cifar10Valid, "valid-accuracy", higherIsBetter: true);

    /// <summary><c>cifar10-valid</c> final training loss.</summary>
    public static BenchmarkMetric Cifar10ValidTrainLoss { get; } = new(Cifar10Valid, "train-loss", higherIsBetter: false);

    /// <summary><c>cifar10-valid</c> final validation loss.</summary>
    public static BenchmarkMetric Cifar10ValidValidLoss { get; } = new(Cifar10Valid, "valid-loss", higherIsBetter: false);

    /// <summary><c>cifar10-valid</c> final test loss.</summary>
    public static BenchmarkMetric Cifar10ValidTestLoss { get; } = new(Cifar10Valid, "test-loss", higherIsBetter: false);

    /// <summary>The test accuracy metric of <paramref name="dataset"/> (<c>cifar10</c>, <c>cifar100</c> or <c>ImageNet16-120</c>, case-insensitive).</summary>
    /// <exception cref="ArgumentException">Unknown dataset.</exception>
    public static BenchmarkMetric TestAccuracy(string dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return dataset.ToLowerInvariant() switch
        {
            "cifar10" or "cifar-10" => Cifar10TestAccuracy,
            "cifar100" or "cifar-100" => Cifar100TestAccuracy,
            "imagenet16-120" or "imagenet16" or "imagenet16_120" => ImageNet16TestAccuracy,
            _ => throw new ArgumentException(
                $"Unknown NAS-Bench-201 dataset '{dataset}'; expected {Cifar10}, {Cifar100} or {ImageNet16}.", nameof(dataset)),
        };
    }

    internal static BenchmarkMetric[] Hp200 { get; } = [Cifar10TestAccuracy, Cifar100TestAccuracy, ImageNet16TestAccuracy];

    internal static BenchmarkMetric[] Cifar10ValidMetrics { get; } =
        [Cifar10ValidTrainLoss, Cifar10ValidValidLoss, Cifar10ValidTestLoss, Cifar10ValidValidAccuracy];
}
