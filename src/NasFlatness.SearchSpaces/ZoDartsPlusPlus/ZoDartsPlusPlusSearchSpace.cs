using NasFlatness.Genotypes;
using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.SearchSpaces.ZoDartsPlusPlus;

/// <summary>
/// The ZO-DARTS++ size-variable space <c>nas-bench-201-varied</c> (docs/methods-zo.md): NAS-Bench-201's cell with the operations
/// <c>none, skip_connect, nor_conv_1x1, kernel_variable_conv (7×7 / 5×5 / 3×3), avg_pool_3x3</c>, a cell per stage (α [18, 5]), a
/// kernel mixture α_mix [18, 3] and a depth mixture α_exit [3, N] that switch on at <see cref="ZoDartsPlusPlusOptions.SwitchEpoch"/>.
/// Its genotypes are <see cref="ZoDartsPlusPlusGenotype"/>s; they are not in the NAS-Bench-201 table.
/// </summary>
public sealed class ZoDartsPlusPlusSearchSpace : ISearchSpace
{
    private readonly ZoDartsPlusPlusOptions _options;

    /// <summary>The space's name, <c>nas-bench-201-varied</c>.</summary>
    public const string SpaceName = ZoDartsPlusPlusGenotype.Space;

    /// <summary>Creates the space; null options use the code's defaults (C = 16, N = 3, switch at epoch 20).</summary>
    /// <exception cref="ArgumentException">The options are invalid (the message names the field).</exception>
    public ZoDartsPlusPlusSearchSpace(ZoDartsPlusPlusOptions? options = null)
    {
        _options = (options ?? new ZoDartsPlusPlusOptions()).Clone();
        var errors = _options.Validate();
        if (errors.Count > 0) throw new ArgumentException("Invalid varied-space options: " + string.Join(" ", errors), nameof(options));
    }

    /// <inheritdoc />
    public string Name => SpaceName;

    /// <summary>The options (a copy).</summary>
    public ZoDartsPlusPlusOptions Options => _options.Clone();

    /// <inheritdoc />
    public IReadOnlyList<string> OperationNames => ZoDartsPlusPlusGenotype.OperationNames;

    /// <inheritdoc />
    public void Validate(DatasetInfo dataset) => Nb201.Nb201SearchSpace.ValidateDataset(dataset, "Varied-space networks");

    /// <inheritdoc />
    public Supernet CreateSupernet(DatasetInfo dataset)
    {
        Validate(dataset);
        return new ZoDartsPlusPlusSupernet(_options, dataset);
    }

    /// <inheritdoc />
    public nn.Module<Tensor, Tensor> CreateNetwork(Genotype genotype, DatasetInfo dataset)
    {
        Validate(dataset);
        return new ZoDartsPlusPlusNetwork(AsVaried(genotype), _options, dataset);
    }

    /// <summary>The parameter-count model of this space's networks for <paramref name="dataset"/>.</summary>
    public ZoDartsPlusPlusResourceModel ResourceModel(DatasetInfo dataset) => new(_options, dataset);

    /// <inheritdoc />
    public Genotype Parse(string text) => ZoDartsPlusPlusGenotype.Parse(text);

    /// <summary>All genotypes that differ in one edge's operation (kernel-variable edges: operation or kernel) or in one stage's cell count (1..N).</summary>
    public IEnumerable<Genotype> Neighbors(Genotype genotype)
    {
        var g = AsVaried(genotype);
        var ops = g.Operations.ToArray();
        var kernels = g.Kernels.ToArray();
        var cells = g.CellsPerStage.ToArray();
        for (int i = 0; i < ops.Length; i++)
        {
            for (int o = 0; o < ZoDartsPlusPlusGenotype.OperationNames.Length; o++)
            {
                foreach (int k in o == ZoDartsPlusPlusGenotype.KernelVariable ? ZoDartsPlusPlusGenotype.KernelSizes.AsEnumerable() : [0])
                {
                    if (o == ops[i] && k == kernels[i]) continue;
                    var no = (int[])ops.Clone();
                    var nk = (int[])kernels.Clone();
                    no[i] = o;
                    nk[i] = k;
                    yield return new ZoDartsPlusPlusGenotype(no, nk, cells);
                }
            }
        }
        for (int s = 0; s < cells.Length; s++)
        {
            for (int n = 1; n <= _options.CellsPerStage; n++)
            {
                if (n == cells[s]) continue;
                var nc = (int[])cells.Clone();
                nc[s] = n;
                yield return new ZoDartsPlusPlusGenotype(ops, kernels, nc);
            }
        }
    }

    private static ZoDartsPlusPlusGenotype AsVaried(Genotype genotype)
    {
        ArgumentNullException.ThrowIfNull(genotype);
        return genotype as ZoDartsPlusPlusGenotype
            ?? throw new ArgumentException($"The varied space takes '{SpaceName}' genotypes, got a '{genotype.SpaceName}' genotype.", nameof(genotype));
    }
}
