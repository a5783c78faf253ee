namespace NasFlatness.Reproducibility;

/// <summary>The keys of <see cref="RunOutcome.Metrics"/> that the tool writes and the reports read.</summary>
public static class OutcomeMetrics
{
    /// <summary>Test accuracy (%) of an evaluated network.</summary>
    public const string TestAccuracy = "TestAccuracy";

    /// <summary>Trainable parameters of an evaluated network (auxiliary head excluded).</summary>
    public const string Parameters = "Parameters";

    /// <summary>NAS-Bench-201 CIFAR-10 test accuracy (%) of the found cell.</summary>
    public const string Nb201Cifar10TestAccuracy = "Nb201Cifar10TestAccuracy";

    /// <summary>NAS-Bench-201 CIFAR-100 test accuracy (%) of the found cell.</summary>
    public const string Nb201Cifar100TestAccuracy = "Nb201Cifar100TestAccuracy";

    /// <summary>NAS-Bench-201 ImageNet16-120 test accuracy (%) of the found cell.</summary>
    public const string Nb201ImageNet16TestAccuracy = "Nb201ImageNet16TestAccuracy";

    /// <summary>Rank (1 = best) of the found cell among the 15,625 by CIFAR-10 test accuracy.</summary>
    public const string Nb201Cifar10Rank = "Nb201Cifar10Rank";

    /// <summary>Mean CIFAR-10 test accuracy of the found cell's radius-1 neighbours.</summary>
    public const string Nb201Cifar10Radius1Mean = "Nb201Cifar10Radius1Mean";

    /// <summary>Lowest CIFAR-10 test accuracy among the radius-1 neighbours.</summary>
    public const string Nb201Cifar10Radius1Min = "Nb201Cifar10Radius1Min";

    /// <summary>The found cell's accuracy minus its radius-1 neighbours' mean.</summary>
    public const string Nb201Cifar10Radius1Gap = "Nb201Cifar10Radius1Gap";

    /// <summary>Mean CIFAR-10 test accuracy of the radius-2 neighbours.</summary>
    public const string Nb201Cifar10Radius2Mean = "Nb201Cifar10Radius2Mean";

    /// <summary>Lowest CIFAR-10 test accuracy among the radius-2 neighbours.</summary>
    public const string Nb201Cifar10Radius2Min = "Nb201Cifar10Radius2Min";

    /// <summary>The found cell's accuracy minus its radius-2 neighbours' mean.</summary>
    public const string Nb201Cifar10Radius2Gap = "Nb201Cifar10Radius2Gap";
}
