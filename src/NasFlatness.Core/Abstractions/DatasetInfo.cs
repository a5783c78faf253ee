namespace NasFlatness;

/// <summary>Shape of the images and number of classes of a dataset, used by search spaces to build networks that fit it.</summary>
/// <param name="Channels">Image channels (3 for CIFAR).</param>
/// <param name="Height">Image height in pixels.</param>
/// <param name="Width">Image width in pixels.</param>
/// <param name="ClassCount">Number of classes.</param>
public sealed record DatasetInfo(int Channels, int Height, int Width, int ClassCount)
{
    /// <summary>CIFAR-10: 3×32×32, 10 classes.</summary>
    public static DatasetInfo Cifar10 { get; } = new(3, 32, 32, 10);

    /// <summary>CIFAR-100: 3×32×32, 100 classes.</summary>
    public static DatasetInfo Cifar100 { get; } = new(3, 32, 32, 100);

    /// <summary>ImageNet16-120: 3×16×16, 120 classes.</summary>
    public static DatasetInfo ImageNet16_120 { get; } = new(3, 16, 16, 120);

    /// <inheritdoc />
    public override string ToString() => $"{Channels}x{Height}x{Width}, {ClassCount} classes";
}
