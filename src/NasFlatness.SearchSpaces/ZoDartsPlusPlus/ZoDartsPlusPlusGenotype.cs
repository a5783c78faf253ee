using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace NasFlatness.Genotypes;

/// <summary>
/// A genotype of the ZO-DARTS++ size-variable space <c>nas-bench-201-varied</c> (docs/methods-zo.md): for each of the three
/// stages a NAS-Bench-201 cell (one operation per edge <c>1←0, 2←0, 2←1, 3←0, 3←1, 3←2</c>), the kernel size (7, 5 or 3) of
/// every <c>kernel_variable_conv</c> edge, and how many cells (1..N) the stage keeps. Text form, stage by stage separated by
/// <c>" / "</c>: <c>cells=3 |nor_conv_7x7~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2| / cells=2 … / cells=1 …</c>,
/// where a kernel-variable edge is written with its kernel (<c>nor_conv_7x7</c>, <c>nor_conv_5x5</c>, <c>nor_conv_3x3</c>,
/// the names of the official code's genotypes).
/// </summary>
public sealed class ZoDartsPlusPlusGenotype : Genotype
{
    /// <summary>The name of the search space whose genotypes these are.</summary>
    public const string Space = SpaceNames.ZoDartsPlusPlus;

    // Registers the text format so that genotypes of this space read back from JSON (see GenotypeFormats).
    static ZoDartsPlusPlusGenotype() => GenotypeFormats.Register(Space, text => Parse(text));

    /// <summary>Stages of the network.</summary>
    public const int StageCount = 3;

    /// <summary>Edges of a cell.</summary>
    public const int EdgeCount = 6;

    /// <summary>Nodes of a cell (0 is the input, 3 the output).</summary>
    public const int NodeCount = 4;

    /// <summary>Index of <c>none</c>.</summary>
    public const int None = 0;

    /// <summary>Index of <c>skip_connect</c>.</summary>
    public const int Skip = 1;

    /// <summary>Index of <c>nor_conv_1x1</c>.</summary>
    public const int Conv1x1 = 2;

    /// <summary>Index of <c>kernel_variable_conv</c> (a 7×7, 5×5 or 3×3 convolution).</summary>
    public const int KernelVariable = 3;

    /// <summary>Index of <c>avg_pool_3x3</c>.</summary>
    public const int AvgPool = 4;

    /// <summary>The five candidate operations, in the column order of α.</summary>
    public static ImmutableArray<string> OperationNames { get; } =
        ["none", "skip_connect", "nor_conv_1x1", "kernel_variable_conv", "avg_pool_3x3"];

    /// <summary>The kernel sizes of <c>kernel_variable_conv</c>, in the column order of α_mix.</summary>
    public static ImmutableArray<int> KernelSizes { get; } = [7, 5, 3];

    private readonly ImmutableArray<int> _ops;
    private readonly ImmutableArray<int> _kernels;
    private readonly ImmutableArray<int> _cells;

    /// <summary>Creates a genotype.</summary>
    /// <param name="operations">18 operation indices (0..4), stage by stage, each stage in edge order.</param>
    /// <param name="kernels">18 kernel sizes in the same order: 7, 5 or 3 on <c>kernel_variable_conv</c> edges, 0 elsewhere.</param>
    /// <param name="cellsPerStage">Cells kept in each of the three stages (at least 1).</param>
    /// <exception cref="ArgumentException">A count, index, kernel or cell number is out of range (the message names it).</exception>
    public ZoDartsPlusPlusGenotype(IReadOnlyList<int> operations, IReadOnlyList<int> kernels, IReadOnlyList<int> cellsPerStage)
    {
        ArgumentNullException.ThrowIfNull(operations);
        ArgumentNullException.ThrowIfNull(kernels);
        ArgumentNullException.ThrowIfNull(cellsPerStage);
        const int rows = StageCount * EdgeCount;
        if (operations.Count != rows) throw new ArgumentException($"A varied genotype has {rows} edges (3 stages × 6), but {operations.Count} operations were given.", nameof(operations));
        if (kernels.Count != rows) throw new ArgumentException($"A varied genotype has {rows} edges (3 stages × 6), but {kernels.Count} kernel sizes were given.", nameof(kernels));
        if (cellsPerStage.Count != StageCount) throw new ArgumentException($"A varied genotype has {StageCount} stages, but {cellsPerStage.Count} cell counts were given.", nameof(cellsPerStage));
        for (int i = 0; i < rows; i++)
        {
            if (operations[i] < 0 || operations[i] >= OperationNames.Length)
                throw new ArgumentException($"Operation index {operations[i]} on edge {i % EdgeCount} of stage {i / EdgeCount} is outside 0..{OperationNames.Length - 1}.", nameof(operations));
            bool variable = operations[i] == KernelVariable;
            if (variable ? !KernelSizes.Contains(kernels[i]) : kernels[i] != 0)
                throw new ArgumentException(
                    $"Kernel size {kernels[i]} on edge {i % EdgeCount} of stage {i / EdgeCount} is invalid: {(variable ? "a kernel_variable_conv edge takes 7, 5 or 3" : "only kernel_variable_conv edges have a kernel size (use 0)")}.", nameof(kernels));
        }
        for (int s = 0; s < StageCount; s++)
            if (cellsPerStage[s] < 1) throw new ArgumentException($"Stage {s} keeps {cellsPerStage[s]} cells; at least 1 is needed.", nameof(cellsPerStage));
        _ops = [.. operations];
        _kernels = [.. kernels];
        _cells = [.. cellsPerStage];
    }

    /// <inheritdoc />
    public override string SpaceName => Space;

    /// <summary>Operation index (0..4) of each of the 18 edges, stage by stage.</summary>
    public IReadOnlyList<int> Operations => _ops;

    /// <summary>Kernel size of each of the 18 edges (7, 5 or 3 on <c>kernel_variable_conv</c> edges, 0 elsewhere).</summary>
    public IReadOnlyList<int> Kernels => _kernels;

    /// <summary>Cells kept in each stage.</summary>
    public IReadOnlyList<int> CellsPerStage => _cells;

    /// <summary>The text form (see the class summary).</summary>
    public override string ToString()
    {
        var sb = new StringBuilder(300);
        for (int s = 0; s < StageCount; s++)
        {
            if (s > 0) sb.Append(" / ");
            sb.Append("cells=").Append(_cells[s].ToString(CultureInfo.InvariantCulture)).Append(' ');
            int e = 0;
            for (int node = 1; node < NodeCount; node++)
            {
                if (node > 1) sb.Append('+');
                sb.Append('|');
                for (int src = 0; src < node; src++, e++)
                {
                    int i = s * EdgeCount + e;
                    sb.Append(EdgeText(_ops[i], _kernels[i])).Append('~').Append(src).Append('|');
                }
            }
        }
        return sb.ToString();
    }

    private static string EdgeText(int op, int kernel) =>
        op == KernelVariable ? string.Create(CultureInfo.InvariantCulture, $"nor_conv_{kernel}x{kernel}") : OperationNames[op];

    /// <summary>Parses the text form.</summary>
    /// <exception cref="GenotypeFormatException">The text is malformed; the message names the offending part.</exception>
    public static ZoDartsPlusPlusGenotype Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        const string Expected = "expected 'cells=N |op~0|+|op~0|op~1|+|op~0|op~1|op~2|' three times, separated by ' / '";
        var stages = text.Split('/');
        if (stages.Length != StageCount)
            throw new GenotypeFormatException($"Varied genotype '{ErrorText.Echo(text)}' has {stages.Length} stage(s) separated by '/'; {Expected}.");
        var ops = new int[StageCount * EdgeCount];
        var kernels = new int[StageCount * EdgeCount];
        var cells = new int[StageCount];
        for (int s = 0; s < StageCount; s++)
        {
            var part = stages[s].Trim();
            int space = part.IndexOf(' ', StringComparison.Ordinal);
            if (!part.StartsWith("cells=", StringComparison.Ordinal) || space < 0
                || !int.TryParse(part.AsSpan(6, space - 6), NumberStyles.None, CultureInfo.InvariantCulture, out cells[s]) || cells[s] < 1)
                throw new GenotypeFormatException($"Stage {s} '{ErrorText.Echo(part)}' of '{ErrorText.Echo(text)}' must start with 'cells=N ' (N ≥ 1); {Expected}.");
            Nb201Genotype cell;
            var names = part[(space + 1)..].Trim();
            var kernelOfEdge = new int[EdgeCount];
            // The kernel-variable edges are written with their kernel; read them as nor_conv_3x3 for the cell parser, remembering the kernel.
            var groups = names.Split('+');
            var rewritten = new StringBuilder(names.Length);
            int edge = 0;
            for (int g = 0; g < groups.Length; g++)
            {
                if (g > 0) rewritten.Append('+');
                var tokens = groups[g].Split('|');
                for (int t = 0; t < tokens.Length; t++)
                {
                    if (t > 0) rewritten.Append('|');
                    var token = tokens[t];
                    if (token.Length == 0) { rewritten.Append(token); continue; }
                    int kernel = 0;
                    foreach (int k in KernelSizes)
                    {
                        string name = string.Create(CultureInfo.InvariantCulture, $"nor_conv_{k}x{k}~");
                        if (token.StartsWith(name, StringComparison.Ordinal)) kernel = k;
                    }
                    if (token.StartsWith("nor_conv_3x3~", StringComparison.Ordinal) || kernel != 0)
                        token = "nor_conv_3x3~" + token[(token.IndexOf('~', StringComparison.Ordinal) + 1)..];
                    else if (token.StartsWith("kernel_variable_conv~", StringComparison.Ordinal))
                        throw new GenotypeFormatException($"Stage {s} of '{ErrorText.Echo(text)}' names 'kernel_variable_conv' without a kernel; write nor_conv_7x7, nor_conv_5x5 or nor_conv_3x3.");
                    if (edge < EdgeCount) kernelOfEdge[edge] = kernel;
                    edge++;
                    rewritten.Append(token);
                }
            }
            try
            {
                cell = Nb201Genotype.Parse(rewritten.ToString());
            }
            catch (GenotypeFormatException e)
            {
                throw new GenotypeFormatException($"Stage {s} of '{ErrorText.Echo(text)}': {e.Message.Replace("nor_conv_3x3", "nor_conv_7x7/5x5/3x3", StringComparison.Ordinal)}");
            }
            for (int e = 0; e < EdgeCount; e++)
            {
                int i = s * EdgeCount + e;
                int nb = cell.Operations[e];
                ops[i] = nb; // none, skip, 1×1 and pool share their indices with NAS-Bench-201; its 3×3 column is the kernel-variable one
                kernels[i] = nb == KernelVariable ? kernelOfEdge[e] : 0;
            }
        }
        return new ZoDartsPlusPlusGenotype(ops, kernels, cells);
    }

    /// <summary>The cell of <paramref name="stage"/> as a NAS-Bench-201 genotype (kernel-variable edges shown as <c>nor_conv_3x3</c>).</summary>
    public Nb201Genotype StageCell(int stage)
    {
        if (stage < 0 || stage >= StageCount) throw new ArgumentOutOfRangeException(nameof(stage), stage, "Stages are 0..2.");
        return new Nb201Genotype(_ops.Skip(stage * EdgeCount).Take(EdgeCount).ToArray());
    }

    /// <inheritdoc />
    public override bool Equals(Genotype? other) =>
        other is ZoDartsPlusPlusGenotype g && _ops.SequenceEqual(g._ops) && _kernels.SequenceEqual(g._kernels) && _cells.SequenceEqual(g._cells);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var x in _ops) h.Add(x);
        foreach (var x in _kernels) h.Add(x);
        foreach (var x in _cells) h.Add(x);
        return h.ToHashCode();
    }
}
