using NasFlatness.Genotypes;

namespace NasFlatness.Landscape;

/// <summary>One row of the NAS-Bench-201 table: an architecture, its isomorphism class and its metrics.</summary>
public sealed class Nb201Record
{
    internal Nb201Record(Nb201Table table, int index)
    {
        Index = index;
        Genotype = table.GenotypeAt(index);
        IsomorphismClass = table.IsomorphismClassAt(index);
        Cifar10TestAccuracy = table.ValueAt(0, index);
        Cifar100TestAccuracy = table.ValueAt(1, index);
        ImageNet16TestAccuracy = table.ValueAt(2, index);
        if (table.HasCifar10Valid)
        {
            Cifar10ValidTrainLoss = table.ValueAt(3, index);
            Cifar10ValidValidLoss = table.ValueAt(4, index);
            Cifar10ValidTestLoss = table.ValueAt(5, index);
            Cifar10ValidValidAccuracy = table.ValueAt(6, index);
        }
    }

    /// <summary>The benchmark's row index (0..15,624); not <see cref="Nb201Genotype.Code"/>.</summary>
    public int Index { get; }

    /// <summary>The architecture.</summary>
    public Nb201Genotype Genotype { get; }

    /// <summary>The benchmark arch string, e.g. <c>|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|</c>.</summary>
    public string ArchString => Genotype.ToString();

    /// <summary>The isomorphism class (<c>nats_unique_str</c>): architectures with the same string compute the same function.</summary>
    public string IsomorphismClass { get; }

    /// <summary>CIFAR-10 test accuracy in percent (200 epochs).</summary>
    public double Cifar10TestAccuracy { get; }

    /// <summary>CIFAR-100 test accuracy in percent (200 epochs).</summary>
    public double Cifar100TestAccuracy { get; }

    /// <summary>ImageNet16-120 test accuracy in percent (200 epochs).</summary>
    public double ImageNet16TestAccuracy { get; }

    /// <summary><c>cifar10-valid</c> validation accuracy, or <see langword="null"/> when the table was loaded without that file.</summary>
    public double? Cifar10ValidValidAccuracy { get; }

    /// <summary><c>cifar10-valid</c> final training loss, or <see langword="null"/> when not loaded.</summary>
    public double? Cifar10ValidTrainLoss { get; }

    /// <summary><c>cifar10-valid</c> final validation loss, or <see langword="null"/> when not loaded.</summary>
    public double? Cifar10ValidValidLoss { get; }

    /// <summary><c>cifar10-valid</c> final test loss, or <see langword="null"/> when not loaded.</summary>
    public double? Cifar10ValidTestLoss { get; }

    /// <inheritdoc />
    public override string ToString() => $"#{Index} {ArchString}";
}
