using NasFlatness.Genotypes;
using NasFlatness.SearchSpaces.Operations;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.SearchSpaces.Nb201Varied;

/// <summary>
/// The discrete network of a <see cref="Nb201VariedGenotype"/>: stem, stage s with <c>CellsPerStage[s]</c> copies of its cell
/// (C·2^s channels), residual reduction blocks between stages, classifier; all BatchNorms affine with running statistics. Train it
/// with <c>EvaluationTrainer</c> like any network.
/// </summary>
public sealed class Nb201VariedNetwork : nn.Module<Tensor, Tensor>
{
    private readonly Stem stem;
    private readonly ModuleList<nn.Module<Tensor, Tensor>> layers;
    private readonly ClassifierHead head;

    internal Nb201VariedNetwork(Nb201VariedGenotype genotype, Nb201VariedOptions options, DatasetInfo dataset) : base(nameof(Nb201VariedNetwork))
    {
        Genotype = genotype;
        long c = options.Channels;
        stem = new Stem(dataset.Channels, c);
        layers = new ModuleList<nn.Module<Tensor, Tensor>>();
        for (int s = 0; s < Nb201VariedGenotype.StageCount; s++)
        {
            long width = c << s;
            if (s > 0) layers.Add(new ResNetBasicBlock(width / 2, width));
            for (int i = 0; i < genotype.CellsPerStage[s]; i++) layers.Add(new Nb201VariedCell(genotype, s, width));
        }
        head = new ClassifierHead(4 * c, dataset.ClassCount);
        RegisterComponents();
    }

    /// <summary>The genotype this network was built from.</summary>
    public Nb201VariedGenotype Genotype { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => Nb201Skeleton.Forward(stem, layers, head, input);
}

/// <summary>A discrete cell of one stage: one operation per edge (the kernel-variable edges with their kernel); <c>none</c> edges contribute zeros.</summary>
internal sealed class Nb201VariedCell : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> ops = new();
    private readonly int[] edgeOps;

    public Nb201VariedCell(Nb201VariedGenotype genotype, int stage, long channels) : base(nameof(Nb201VariedCell))
    {
        edgeOps = new int[Nb201VariedGenotype.EdgeCount];
        for (int e = 0; e < edgeOps.Length; e++)
        {
            int i = stage * Nb201VariedGenotype.EdgeCount + e;
            edgeOps[e] = genotype.Operations[i];
            int k = genotype.Kernels[i];
            ops.Add(edgeOps[e] switch
            {
                Nb201VariedGenotype.Skip => new SkipConnect(),
                Nb201VariedGenotype.Conv1x1 => new ReluConvBn(channels, channels, 1, 1, 0, 1, affine: true, trackRunningStats: true),
                Nb201VariedGenotype.KernelVariable => new ReluConvBn(channels, channels, k, 1, k / 2, 1, affine: true, trackRunningStats: true),
                Nb201VariedGenotype.AvgPool => new AvgPool3x3(1),
                _ => new SkipConnect(), // none: a placeholder so module indices line up with edges; never called
            });
        }
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => Nb201.Nb201Cell.Run(ops, edgeOps, input);
}
