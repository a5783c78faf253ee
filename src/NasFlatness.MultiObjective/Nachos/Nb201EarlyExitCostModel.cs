using NasFlatness.Genotypes;

namespace NasFlatness.MultiObjective.Nachos;

/// <summary>
/// Closed-form MACs (per example) of an <see cref="Nb201EarlyExitNetwork"/>, counted as <see cref="NasFlatness.Evaluation.NetworkSize"/>
/// counts them: the backbone up to each exit, each exit classifier (EEC) with its max-pooling, and the cumulative cost of leaving at
/// each exit. The network uses it to choose the pooling, and the table-based NACHOS evaluator to price placements without building networks.
/// </summary>
public sealed class Nb201EarlyExitCostModel
{
    /// <summary>Output channels of the three EEC convolutions (NACHOS: 32, 64, 128).</summary>
    public static IReadOnlyList<int> ClassifierFilters { get; } = [32, 64, 128];

    private readonly Nb201Options _options;

    /// <summary>Creates the model for networks of <paramref name="options"/> on <paramref name="dataset"/>.</summary>
    /// <exception cref="ArgumentException">The options or the image size are invalid for NB201.</exception>
    public Nb201EarlyExitCostModel(Nb201Options? options = null, DatasetInfo? dataset = null)
    {
        _options = (options ?? new Nb201Options()).Clone();
        Dataset = dataset ?? DatasetInfo.Cifar10;
        new Nb201SearchSpace(_options).Validate(Dataset);
    }

    /// <summary>The image shape and classes.</summary>
    public DatasetInfo Dataset { get; }

    /// <summary>N of the network.</summary>
    public int CellsPerStage => _options.CellsPerStage;

    /// <summary>Channels of the feature map after cell <paramref name="cell"/>.</summary>
    public long ChannelsAt(int cell) => (long)_options.Channels << (cell / _options.CellsPerStage);

    /// <summary>Height and width of the feature map after cell <paramref name="cell"/>.</summary>
    public (int Height, int Width) SizeAt(int cell) => (Dataset.Height >> (cell / _options.CellsPerStage), Dataset.Width >> (cell / _options.CellsPerStage));

    /// <summary>MACs of the backbone from the input through cell <paramref name="cell"/> (stem, cells and reduction blocks before it).</summary>
    public long BackboneThrough(Nb201Genotype genotype, int cell)
    {
        ArgumentNullException.ThrowIfNull(genotype);
        int n = _options.CellsPerStage;
        long c = _options.Channels;
        long total = (long)Dataset.Height * Dataset.Width * c * 9 * Dataset.Channels; // stem
        int conv3 = genotype.Operations.Count(op => op == Nb201Operations.Conv3x3);
        int conv1 = genotype.Operations.Count(op => op == Nb201Operations.Conv1x1);
        for (int j = 0; j <= cell; j++)
        {
            int stage = j / n;
            long channels = c << stage;
            long pixels = (long)(Dataset.Height >> stage) * (Dataset.Width >> stage);
            if (stage > 0 && j % n == 0)
            {
                long input = channels / 2; // reduction block into this stage: a (3×3 stride 2), b (3×3), shortcut (1×1)
                total += pixels * channels * (9 * input + 9 * channels + input);
            }
            total += pixels * channels * channels * (9L * conv3 + conv1);
        }
        return total;
    }

    /// <summary>MACs of the final head (global pooling and Linear(4C → classes)).</summary>
    public long FinalHead => 4L * _options.Channels * Dataset.ClassCount;

    /// <summary>MACs of an EEC on the feature map after <paramref name="cell"/> with MaxPool(<paramref name="pool"/>) first (1 = none):
    /// three 3×3 convolutions (padding 1) to 32, 64 and 128 channels and Linear(128·H'·W' → classes + 1).</summary>
    public long ExitClassifier(int cell, int pool)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pool, 1);
        var (h, w) = SizeAt(cell);
        long pixels = (long)(h / pool) * (w / pool);
        long channels = ChannelsAt(cell);
        var f = ClassifierFilters;
        long convs = pixels * 9 * (channels * f[0] + (long)f[0] * f[1] + (long)f[1] * f[2]);
        return convs + pixels * f[2] * (Dataset.ClassCount + 1);
    }

    /// <summary>
    /// The max-pool kernel of each early exit: exits are visited from the last early exit backwards; each starts at 1 and doubles while
    /// its cumulative cost is not below the next exit's and the pooled map stays at least 1×1 (the NACHOS adaptation).
    /// </summary>
    public int[] PoolKernels(Nb201Genotype genotype, Nb201ExitPlacement placement)
    {
        ArgumentNullException.ThrowIfNull(placement);
        var cells = placement.Cells;
        var kernels = new int[cells.Count];
        long next = BackboneThrough(genotype, 3 * _options.CellsPerStage - 1) + FinalHead;
        for (int i = cells.Count - 1; i >= 0; i--)
        {
            long backbone = BackboneThrough(genotype, cells[i]);
            var (h, w) = SizeAt(cells[i]);
            int k = 1;
            while (backbone + ExitClassifier(cells[i], k) >= next && 2 * k <= Math.Min(h, w)) k *= 2;
            kernels[i] = k;
            next = backbone + ExitClassifier(cells[i], k);
        }
        return kernels;
    }

    /// <summary>The cost of leaving at each exit (early exits in order, then the final exit): backbone through its cell plus its classifier.</summary>
    public long[] CumulativeCosts(Nb201Genotype genotype, Nb201ExitPlacement placement)
    {
        ArgumentNullException.ThrowIfNull(placement);
        var kernels = PoolKernels(genotype, placement);
        var costs = new long[placement.ExitCount];
        for (int i = 0; i < kernels.Length; i++)
            costs[i] = BackboneThrough(genotype, placement.Cells[i]) + ExitClassifier(placement.Cells[i], kernels[i]);
        costs[^1] = BackboneThrough(genotype, 3 * _options.CellsPerStage - 1) + FinalHead;
        return costs;
    }
}
