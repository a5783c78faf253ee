using System.Collections.ObjectModel;
using NasFlatness.Genotypes;

namespace NasFlatness.Landscape;

/// <summary>
/// The NAS-Bench-201 table: all 15,625 cell architectures with their 200-epoch test accuracies on
/// CIFAR-10, CIFAR-100 and ImageNet16-120, their isomorphism class, and (when loaded) the
/// <c>cifar10-valid</c> validation accuracy and train/valid/test losses.
/// </summary>
/// <remarks>
/// <see cref="Embedded"/> is a copy shipped inside this assembly (no files or network needed).
/// <see cref="Load(string, string?)"/> reads the CSV files of <c>shared/data/nb201</c>.
/// Data: NAS-Bench-201 (Dong &amp; Yang, ICLR 2020) / NATS-Bench, MIT license.
/// Architectures are addressed by benchmark index (the row order of the benchmark, 0..15,624), by
/// <see cref="Nb201Genotype"/>, or by arch string; the benchmark index is not <see cref="Nb201Genotype.Code"/>.
/// </remarks>
public sealed class Nb201Table : ITabularBenchmark<Nb201Genotype>
{
    /// <summary>Number of architectures in the table (5^6).</summary>
    public const int ArchitectureCount = Nb201Genotype.SpaceSize;

    internal const int MetricSlots = 7;

    private static readonly Lazy<Nb201Table> s_embedded = new(Nb201TableReader.ReadEmbedded, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly Nb201Genotype[] _genotypes;
    private readonly int[] _indexByCode;
    private readonly int[] _classIdByIndex;
    private readonly string[] _classes;
    private readonly double[]?[] _values;
    private readonly Dictionary<string, int> _classIdByName;
    private readonly int[][] _membersByClass;
    private Nb201Record[]? _records;

    internal Nb201Table(Nb201Genotype[] genotypes, int[] classIdByIndex, string[] classes, double[]?[] values, string source)
    {
        _genotypes = genotypes;
        _classIdByIndex = classIdByIndex;
        _classes = classes;
        _values = values;
        Source = source;
        _indexByCode = new int[ArchitectureCount];
        for (int i = 0; i < genotypes.Length; i++) _indexByCode[genotypes[i].Code] = i;
        _classIdByName = new Dictionary<string, int>(classes.Length, StringComparer.Ordinal);
        for (int c = 0; c < classes.Length; c++) _classIdByName[classes[c]] = c;
        var counts = new int[classes.Length];
        foreach (var c in classIdByIndex) counts[c]++;
        _membersByClass = new int[classes.Length][];
        for (int c = 0; c < classes.Length; c++) _membersByClass[c] = new int[counts[c]];
        Array.Clear(counts);
        for (int i = 0; i < classIdByIndex.Length; i++) _membersByClass[classIdByIndex[i]][counts[classIdByIndex[i]]++] = i;
        var metrics = new List<BenchmarkMetric>(Nb201Metrics.Hp200);
        if (HasCifar10Valid) metrics.AddRange(Nb201Metrics.Cifar10ValidMetrics);
        Metrics = metrics.AsReadOnly();
        IsomorphismClasses = new ReadOnlyCollection<string>(classes);
    }

    /// <summary>The table shipped inside this assembly (test accuracies, isomorphism classes and the <c>cifar10-valid</c> numbers). Loaded once, on first use.</summary>
    public static Nb201Table Embedded => s_embedded.Value;

    /// <summary>
    /// Loads the table from a CSV file in the format of <c>nb201_hp200_test_acc.csv</c> (columns <c>index</c>,
    /// <c>arch</c>, <c>cifar10_test_acc_hp200</c>, <c>cifar100_test_acc_hp200</c>,
    /// <c>imagenet16_120_test_acc_hp200</c>, <c>nats_unique_str</c>; any order, extra columns ignored), and
    /// optionally the <c>cifar10-valid</c> file in the format of <c>nb201_cifar10valid_hp200_full_ochoa.csv</c>
    /// (columns <c>index</c>, <c>arch_str</c>, <c>train-loss</c>, <c>valid-loss</c>, <c>valid-accuracy</c>, <c>test-loss</c>).
    /// </summary>
    /// <param name="testAccuracyCsvPath">Path of the test-accuracy file.</param>
    /// <param name="cifar10ValidCsvPath">Path of the <c>cifar10-valid</c> file, or <see langword="null"/>.</param>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="InvalidDataException">A file is malformed or incomplete; the message names the file and line.</exception>
    public static Nb201Table Load(string testAccuracyCsvPath, string? cifar10ValidCsvPath = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(testAccuracyCsvPath);
        if (!File.Exists(testAccuracyCsvPath))
            throw new FileNotFoundException($"NAS-Bench-201 test-accuracy table '{testAccuracyCsvPath}' does not exist.", testAccuracyCsvPath);
        if (cifar10ValidCsvPath is not null && !File.Exists(cifar10ValidCsvPath))
            throw new FileNotFoundException($"NAS-Bench-201 cifar10-valid table '{cifar10ValidCsvPath}' does not exist.", cifar10ValidCsvPath);
        using var acc = File.OpenText(testAccuracyCsvPath);
        using var valid = cifar10ValidCsvPath is null ? null : File.OpenText(cifar10ValidCsvPath);
        return Nb201TableReader.ReadCsv(acc, testAccuracyCsvPath, valid, cifar10ValidCsvPath);
    }

    /// <summary>Loads the table from readers over the CSV texts (see <see cref="Load(string, string?)"/> for the formats).</summary>
    /// <param name="testAccuracyCsv">Text of the test-accuracy file.</param>
    /// <param name="cifar10ValidCsv">Text of the <c>cifar10-valid</c> file, or <see langword="null"/>.</param>
    /// <exception cref="InvalidDataException">The text is malformed or incomplete; the message names the line.</exception>
    public static Nb201Table Load(TextReader testAccuracyCsv, TextReader? cifar10ValidCsv = null)
    {
        ArgumentNullException.ThrowIfNull(testAccuracyCsv);
        return Nb201TableReader.ReadCsv(testAccuracyCsv, "test-accuracy table", cifar10ValidCsv, "cifar10-valid table");
    }

    /// <inheritdoc />
    public string Name => "NAS-Bench-201";

    /// <summary>Where the table came from: <c>embedded</c> or the file path.</summary>
    public string Source { get; }

    /// <inheritdoc />
    public int Count => _genotypes.Length;

    /// <inheritdoc />
    public IReadOnlyList<BenchmarkMetric> Metrics { get; }

    /// <summary>Whether the <c>cifar10-valid</c> validation accuracy and losses are present.</summary>
    public bool HasCifar10Valid => _values[3] is not null;

    /// <summary>The distinct isomorphism classes (<c>nats_unique_str</c>), in order of first appearance by benchmark index (6,466 for the full table).</summary>
    public IReadOnlyList<string> IsomorphismClasses { get; }

    /// <summary>All architectures in benchmark index order.</summary>
    public IEnumerable<Nb201Genotype> Architectures => _genotypes;

    /// <summary>All rows in benchmark index order.</summary>
    public IReadOnlyList<Nb201Record> Records
    {
        get
        {
            if (_records is null)
            {
                var records = new Nb201Record[Count];
                for (int i = 0; i < records.Length; i++) records[i] = new Nb201Record(this, i);
                _records = records;
            }
            return _records;
        }
    }

    /// <summary>The row at benchmark index <paramref name="index"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside 0..15,624.</exception>
    public Nb201Record this[int index]
    {
        get
        {
            CheckIndex(index);
            return Records[index];
        }
    }

    /// <summary>The row of <paramref name="genotype"/>.</summary>
    public Nb201Record Get(Nb201Genotype genotype) => Records[IndexOf(genotype)];

    /// <summary>The record of <paramref name="genotype"/>, which must be a NAS-Bench-201 genotype (e.g. a search result's <c>Genotype</c>).</summary>
    /// <exception cref="ArgumentException">The genotype belongs to another search space.</exception>
    public Nb201Record Get(Genotype genotype)
    {
        ArgumentNullException.ThrowIfNull(genotype);
        return genotype is Nb201Genotype g
            ? Get(g)
            : throw new ArgumentException($"The NAS-Bench-201 table holds NAS-Bench-201 genotypes; this one belongs to the space '{genotype.SpaceName}'.", nameof(genotype));
    }

    /// <summary>The row of the architecture with arch string <paramref name="archString"/>.</summary>
    /// <exception cref="GenotypeFormatException"><paramref name="archString"/> is not a valid arch string.</exception>
    public Nb201Record Get(string archString) => Records[IndexOf(archString)];

    /// <summary>The benchmark index of <paramref name="genotype"/>.</summary>
    public int IndexOf(Nb201Genotype genotype)
    {
        ArgumentNullException.ThrowIfNull(genotype);
        return _indexByCode[genotype.Code];
    }

    /// <summary>The benchmark index of the architecture with arch string <paramref name="archString"/>.</summary>
    /// <exception cref="GenotypeFormatException"><paramref name="archString"/> is not a valid arch string.</exception>
    public int IndexOf(string archString) => IndexOf(Nb201Genotype.Parse(archString));

    /// <summary>The architecture at benchmark index <paramref name="index"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside 0..15,624.</exception>
    public Nb201Genotype GenotypeAt(int index)
    {
        CheckIndex(index);
        return _genotypes[index];
    }

    /// <summary>The isomorphism class (<c>nats_unique_str</c>) of <paramref name="genotype"/>.</summary>
    public string IsomorphismClassOf(Nb201Genotype genotype) => _classes[_classIdByIndex[IndexOf(genotype)]];

    /// <summary>The benchmark indices of all architectures in isomorphism class <paramref name="isomorphismClass"/>, ascending.</summary>
    /// <exception cref="KeyNotFoundException">No architecture has that class.</exception>
    public IReadOnlyList<int> IndicesInClass(string isomorphismClass)
    {
        ArgumentNullException.ThrowIfNull(isomorphismClass);
        if (!_classIdByName.TryGetValue(isomorphismClass, out int id))
            throw new KeyNotFoundException($"No NAS-Bench-201 architecture has isomorphism class '{isomorphismClass}'.");
        return Array.AsReadOnly(_membersByClass[id]);
    }

    /// <inheritdoc />
    public bool TryGetValue(Nb201Genotype genotype, BenchmarkMetric metric, out double value)
    {
        ArgumentNullException.ThrowIfNull(genotype);
        ArgumentNullException.ThrowIfNull(metric);
        int slot = SlotOf(metric);
        if (slot < 0 || _values[slot] is not { } column)
        {
            value = double.NaN;
            return false;
        }
        value = column[_indexByCode[genotype.Code]];
        return true;
    }

    /// <inheritdoc />
    public double GetValue(Nb201Genotype genotype, BenchmarkMetric metric)
    {
        ArgumentNullException.ThrowIfNull(genotype);
        return Column(metric)[_indexByCode[genotype.Code]];
    }

    /// <summary>One metric of the architecture at benchmark index <paramref name="index"/>.</summary>
    public double GetValue(int index, BenchmarkMetric metric)
    {
        CheckIndex(index);
        return Column(metric)[index];
    }

    /// <summary>A scorer that reads <paramref name="metric"/> from this table (e.g. for <see cref="LandscapeAnalyzer{TGenotype}"/>).</summary>
    /// <exception cref="ArgumentException">The table does not hold <paramref name="metric"/>.</exception>
    public IArchitectureScorer<Nb201Genotype> Scorer(BenchmarkMetric metric)
    {
        var column = Column(metric);
        return new TableColumnScorer(this, column, metric);
    }

    /// <summary>The values of <paramref name="metric"/> for all 15,625 architectures, indexed by <see cref="Nb201Genotype.Code"/>.</summary>
    internal double[] ValuesByCode(BenchmarkMetric metric)
    {
        var column = Column(metric);
        var byCode = new double[ArchitectureCount];
        for (int i = 0; i < column.Length; i++) byCode[_genotypes[i].Code] = column[i];
        return byCode;
    }

    internal double ValueAt(int slot, int index) => _values[slot]![index];

    internal string IsomorphismClassAt(int index) => _classes[_classIdByIndex[index]];

    internal int ClassIdAt(int index) => _classIdByIndex[index];

    internal double[] Column(BenchmarkMetric metric)
    {
        ArgumentNullException.ThrowIfNull(metric);
        int slot = SlotOf(metric);
        if (slot < 0)
            throw new ArgumentException(
                $"The NAS-Bench-201 table has no metric '{metric}'; it holds {string.Join(", ", Nb201Metrics.Hp200.Concat(Nb201Metrics.Cifar10ValidMetrics))}.", nameof(metric));
        return _values[slot] ?? throw new ArgumentException(
            $"Metric '{metric}' needs the cifar10-valid file; load the table with Nb201Table.Load(testAccuracyCsvPath, cifar10ValidCsvPath) or use Nb201Table.Embedded.", nameof(metric));
    }

    private static int SlotOf(BenchmarkMetric metric)
    {
        for (int i = 0; i < Nb201Metrics.Hp200.Length; i++) if (Nb201Metrics.Hp200[i] == metric) return i;
        for (int i = 0; i < Nb201Metrics.Cifar10ValidMetrics.Length; i++) if (Nb201Metrics.Cifar10ValidMetrics[i] == metric) return 3 + i;
        return -1;
    }

    private void CheckIndex(int index)
    {
        if ((uint)index >= (uint)_genotypes.Length)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"A NAS-Bench-201 benchmark index is in 0..{_genotypes.Length - 1}.");
    }

    private sealed class TableColumnScorer(Nb201Table table, double[] column, BenchmarkMetric metric) : IArchitectureScorer<Nb201Genotype>
    {
        public string Name => $"{table.Name} {metric}";

        public double Score(Nb201Genotype genotype) => column[table.IndexOf(genotype)];
    }
}
