using NasFlatness.Genotypes;

namespace NasFlatness.Landscape;

/// <summary>
/// Table accuracy and architecture-space flatness of one NAS-Bench-201 cell. Accuracies are the table's 200-epoch test
/// accuracies in percent; flatness is <see cref="FlatnessStatistics"/> of the CIFAR-10 test accuracy over the sphere S_r
/// (24 cells at r = 1, 240 at r = 2; see <see cref="Nb201Landscape.Flatness"/>).
/// </summary>
/// <param name="Genotype">The cell.</param>
/// <param name="Index">Its row in the table.</param>
/// <param name="Cifar10">CIFAR-10 test accuracy %.</param>
/// <param name="Cifar100">CIFAR-100 test accuracy %.</param>
/// <param name="ImageNet16">ImageNet16-120 test accuracy %.</param>
/// <param name="Radius1">CIFAR-10 flatness at radius 1 (neighbour mean, min, gap = centre − mean, …).</param>
/// <param name="Radius2">CIFAR-10 flatness at radius 2.</param>
/// <param name="Rank">1 + the number of the 15,625 cells with a strictly higher CIFAR-10 test accuracy (1 = best; ties share a rank).</param>
/// <param name="ParameterFreeEdges">Edges on <c>none</c>, <c>skip_connect</c> or <c>avg_pool_3x3</c> (of 6).</param>
public sealed record Nb201CellQuality(
    Nb201Genotype Genotype, int Index, double Cifar10, double Cifar100, double ImageNet16,
    FlatnessStatistics Radius1, FlatnessStatistics Radius2, int Rank, int ParameterFreeEdges)
{
    /// <summary>Number of cells in the space (the denominator of <see cref="Rank"/>).</summary>
    public const int CellCount = Nb201Genotype.SpaceSize;
}

/// <summary>Measures <see cref="Nb201CellQuality"/> of cells against one NAS-Bench-201 table (the landscape is built once).</summary>
public sealed class Nb201CellQualityMeter
{
    private static readonly Lazy<Nb201CellQualityMeter> s_embedded = new(() => new Nb201CellQualityMeter(Nb201Table.Embedded));
    private readonly Nb201Table _table;
    private readonly Nb201Landscape _landscape;
    private readonly double[] _sortedDescending;

    /// <summary>Creates a meter over <paramref name="table"/>.</summary>
    /// <param name="table">The NAS-Bench-201 table.</param>
    public Nb201CellQualityMeter(Nb201Table table)
    {
        ArgumentNullException.ThrowIfNull(table);
        _table = table;
        _landscape = Nb201Landscape.FromTable(table, Nb201Metrics.Cifar10TestAccuracy);
        _sortedDescending = _landscape.ScoresByCode.OrderByDescending(v => v).ToArray();
    }

    /// <summary>The meter over the table embedded in the package (<see cref="Nb201Table.Embedded"/>).</summary>
    public static Nb201CellQualityMeter Embedded => s_embedded.Value;

    /// <summary>Accuracy, flatness at radius 1 and 2, rank and parameter-free edges of <paramref name="genotype"/>.</summary>
    /// <param name="genotype">The cell.</param>
    public Nb201CellQuality Measure(Nb201Genotype genotype)
    {
        ArgumentNullException.ThrowIfNull(genotype);
        var record = _table.Get(genotype);
        double accuracy = record.Cifar10TestAccuracy;
        // Rank = 1 + #(strictly better): binary search in the descending list for the first value ≤ accuracy.
        int lo = 0, hi = _sortedDescending.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) / 2;
            if (_sortedDescending[mid] > accuracy) lo = mid + 1;
            else hi = mid;
        }
        return new Nb201CellQuality(
            genotype, record.Index, accuracy, record.Cifar100TestAccuracy, record.ImageNet16TestAccuracy,
            _landscape.Flatness(genotype, 1).Statistics, _landscape.Flatness(genotype, 2).Statistics, lo + 1,
            genotype.Operations.Count(o => o is 0 or 1 or 4));
    }

    /// <summary>Parses the NAS-Bench-201 string of a cell and measures it.</summary>
    /// <param name="archString">E.g. <c>|nor_conv_3x3~0|+|…|</c>.</param>
    public Nb201CellQuality Measure(string archString) => Measure(Nb201Genotype.Parse(archString));
}
