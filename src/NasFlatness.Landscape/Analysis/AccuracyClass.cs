namespace NasFlatness.Landscape;

/// <summary>A named closed score interval [<see cref="Lower"/>, <see cref="Upper"/>], e.g. the A²M "Model A" accuracy class.</summary>
public sealed record AccuracyClass
{
    /// <summary>Creates a class.</summary>
    /// <exception cref="ArgumentException">Empty name, or <paramref name="lower"/> &gt; <paramref name="upper"/>, or a bound is NaN.</exception>
    public AccuracyClass(string name, double lower, double upper)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (double.IsNaN(lower) || double.IsNaN(upper) || lower > upper)
            throw new ArgumentException($"Accuracy class '{name}' needs lower ≤ upper, got [{lower}, {upper}].", nameof(lower));
        Name = name;
        Lower = lower;
        Upper = upper;
    }

    /// <summary>Name of the class, e.g. <c>A</c>.</summary>
    public string Name { get; }

    /// <summary>Lowest score in the class (inclusive).</summary>
    public double Lower { get; }

    /// <summary>Highest score in the class (inclusive).</summary>
    public double Upper { get; }

    /// <summary>Whether <paramref name="score"/> lies in [<see cref="Lower"/>, <see cref="Upper"/>].</summary>
    public bool Contains(double score) => score >= Lower && score <= Upper;

    /// <inheritdoc />
    public override string ToString() => $"{Name} [{Lower}, {Upper}]";
}

/// <summary>The accuracy classes ("Models A, B, C") of the A²M landscape analysis on NAS-Bench-201 (test accuracy, percent).</summary>
public static class Nb201AccuracyClasses
{
    /// <summary>CIFAR-10: A [92.3, 93.7], B [84.3, 85.7], C [74.3, 75.7].</summary>
    public static IReadOnlyList<AccuracyClass> Cifar10 { get; } = [new("A", 92.3, 93.7), new("B", 84.3, 85.7), new("C", 74.3, 75.7)];

    /// <summary>CIFAR-100: A [69.3, 70.7], B [64.3, 65.7], C [54.3, 55.7].</summary>
    public static IReadOnlyList<AccuracyClass> Cifar100 { get; } = [new("A", 69.3, 70.7), new("B", 64.3, 65.7), new("C", 54.3, 55.7)];

    /// <summary>ImageNet16-120: A [45.9, 47.3], B [34.3, 35.7], C [24.3, 25.7].</summary>
    public static IReadOnlyList<AccuracyClass> ImageNet16 { get; } = [new("A", 45.9, 47.3), new("B", 34.3, 35.7), new("C", 24.3, 25.7)];

    /// <summary>The classes of the dataset of <paramref name="metric"/> (one of the three test accuracies).</summary>
    /// <exception cref="ArgumentException">The metric is not a NAS-Bench-201 test accuracy.</exception>
    public static IReadOnlyList<AccuracyClass> For(BenchmarkMetric metric)
    {
        ArgumentNullException.ThrowIfNull(metric);
        if (metric == Nb201Metrics.Cifar10TestAccuracy) return Cifar10;
        if (metric == Nb201Metrics.Cifar100TestAccuracy) return Cifar100;
        if (metric == Nb201Metrics.ImageNet16TestAccuracy) return ImageNet16;
        throw new ArgumentException($"The A²M accuracy classes are defined for the three NAS-Bench-201 test accuracies, not '{metric}'.", nameof(metric));
    }
}

/// <summary>
/// The pooled neighbour scores of every architecture in an accuracy class (D_class,r of docs/spec/algorithms.md §7.2):
/// each member contributes all of its sphere S_r, so neighbours shared by several members count several times.
/// </summary>
public sealed class ClassNeighborDistribution
{
    internal ClassNeighborDistribution(AccuracyClass accuracyClass, int radius, int memberCount, double[] scores)
    {
        Class = accuracyClass;
        Radius = radius;
        MemberCount = memberCount;
        NeighborScores = Array.AsReadOnly(scores);
        Mean = SummaryStatistics.Mean(scores);
        Std = SummaryStatistics.Std(scores, Mean);
    }

    /// <summary>The accuracy class.</summary>
    public AccuracyClass Class { get; }

    /// <summary>The radius r.</summary>
    public int Radius { get; }

    /// <summary>How many architectures fall in the class.</summary>
    public int MemberCount { get; }

    /// <summary>The pooled neighbour scores (member order, then each member's neighbour order).</summary>
    public IReadOnlyList<double> NeighborScores { get; }

    /// <summary>Mean of <see cref="NeighborScores"/>.</summary>
    public double Mean { get; }

    /// <summary>Population standard deviation of <see cref="NeighborScores"/>.</summary>
    public double Std { get; }
}
