using NasFlatness.Genotypes;
using NasFlatness.SearchSpaces.Operations;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.SearchSpaces.ZoDartsPlusPlus;

/// <summary>
/// The discrete network of a <see cref="ZoDartsPlusPlusGenotype"/>: stem, stage s with <c>CellsPerStage[s]</c> copies of its cell
/// (C·2^s channels), residual reduction blocks between stages, classifier; all BatchNorms affine with running statistics. Train it
/// with <c>EvaluationTrainer</c> like any network.
/// </summary>
public sealed class ZoDartsPlusPlusNetwork : nn.Module<Tensor, Tensor>
{
    private readonly Stem stem;
    private readonly ModuleList<nn.Module<Tensor, Tensor>> layers;
    private readonly ClassifierHead head;

    internal ZoDartsPlusPlusNetwork(ZoDartsPlusPlusGenotype genotype, ZoDartsPlusPlusOptions options, DatasetInfo dataset) : base(nameof(ZoDartsPlusPlusNetwork))
    {
        Genotype = genotype;
        long c = options.Channels;
        stem = new Stem(dataset.Channels, c);
        layers = new ModuleList<nn.Module<Tensor, Tensor>>();
        for (int s = 0; s < ZoDartsPlusPlusGenotype.StageCount; s++)
        {
            long width = c << s;
            if (s > 0) layers.Add(new ResNetBasicBlock(width / 2, width));
            for (int i = 0; i < genotype.CellsPerStage[s]; i++) layers.Add(new ZoDartsPlusPlusCell(genotype, s, width));
        }
        head = new ClassifierHead(4 * c, dataset.ClassCount);
        RegisterComponents();
    }

    /// <summary>The genotype this network was built from.</summary>
    public ZoDartsPlusPlusGenotype Genotype { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => Nb201Skeleton.Forward(stem, layers, head, input);
}

/// <summary>A discrete cell of one stage: one operation per edge (the kernel-variable edges with their kernel); <c>none</c> edges contribute zeros.</summary>
internal sealed class ZoDartsPlusPlusCell : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> ops = new();
    private readonly int[] edgeOps;

    public ZoDartsPlusPlusCell(ZoDartsPlusPlusGenotype genotype, int stage, long channels) : base(nameof(ZoDartsPlusPlusCell))
    {
        edgeOps = new int[ZoDartsPlusPlusGenotype.EdgeCount];
        for (int e = 0; e < edgeOps.Length; e++)
        {
            int i = stage * ZoDartsPlusPlusGenotype.EdgeCount + e;
            edgeOps[e] = genotype.Operations[i];
            int k = genotype.Kernels[i];
            ops.Add(edgeOps[e] switch
            {
                ZoDartsPlusPlusGenotype.Skip => new SkipConnect(),
                ZoDartsPlusPlusGenotype.Conv1x1 => new ReluConvBn(channels, channels, 1, 1, 0, 1, affine: true, trackRunningStats: true),
                ZoDartsPlusPlusGenotype.KernelVariable => new ReluConvBn(channels, channels, k, 1, k / 2, 1, affine: true, trackRunningStats: true),
                ZoDartsPlusPlusGenotype.AvgPool => new AvgPool3x3(1),
                _ => new SkipConnect(), // none: a placeholder so module indices line up with edges; never called
            });
        }
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => Nb201.Nb201Cell.Run(ops, edgeOps, input);
}
