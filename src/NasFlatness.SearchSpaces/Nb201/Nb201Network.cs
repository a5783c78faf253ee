using NasFlatness.Genotypes;
using NasFlatness.SearchSpaces.Operations;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.SearchSpaces.Nb201;

/// <summary>
/// The discrete NAS-Bench-201 network of a genotype (the benchmark's <c>TinyNetwork</c>): the supernet's
/// skeleton with every cell replaced by the genotype's cell; all BatchNorms affine with running statistics.
/// </summary>
public sealed class Nb201Network : nn.Module<Tensor, Tensor>
{
    private readonly Stem stem;
    private readonly ModuleList<nn.Module<Tensor, Tensor>> layers;
    private readonly ClassifierHead head;

    internal Nb201Network(Nb201Genotype genotype, Nb201Options options, DatasetInfo dataset) : base(nameof(Nb201Network))
    {
        Genotype = genotype;
        (stem, layers, head) = Nb201Skeleton.Build(options.Channels, options.CellsPerStage, dataset, channels => new Nb201Cell(genotype, channels));
        RegisterComponents();
    }

    /// <summary>The genotype this network was built from.</summary>
    public Nb201Genotype Genotype { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => Nb201Skeleton.Forward(stem, layers, head, input);
}

/// <summary>A discrete NAS-Bench-201 cell: one operation per edge; <c>none</c> edges contribute zeros.</summary>
internal sealed class Nb201Cell : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> ops;
    private readonly int[] edgeOps;

    public Nb201Cell(Nb201Genotype genotype, long channels) : base(nameof(Nb201Cell))
    {
        edgeOps = [.. genotype.Operations];
        ops = new ModuleList<nn.Module<Tensor, Tensor>>();
        foreach (var op in edgeOps)
        {
            // none gets a placeholder identity so module indices line up with edges; it is never called.
            ops.Add(Nb201Operations.Create(op, channels, affine: true, trackRunningStats: true) ?? new SkipConnect());
        }
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => Run(ops, edgeOps, input);

    /// <summary>Runs a discrete NAS-Bench-201-shaped cell: one module per edge in edge order; edges with operation 0 (<c>none</c>) contribute zeros.</summary>
    internal static Tensor Run(ModuleList<nn.Module<Tensor, Tensor>> ops, int[] edgeOps, Tensor input)
    {
        var nodes = new Tensor[Nb201Genotype.NodeCount];
        nodes[0] = input;
        int e = 0;
        for (int node = 1; node < Nb201Genotype.NodeCount; node++)
        {
            Tensor? sum = null;
            for (int src = 0; src < node; src++, e++)
            {
                if (edgeOps[e] == Nb201Operations.None) continue;
                Sums.Accumulate(ref sum, ops[e].forward(nodes[src]));
            }
            nodes[node] = sum ?? torch.zeros_like(input);
        }
        for (int i = 1; i < Nb201Genotype.NodeCount - 1; i++) nodes[i].Dispose();
        return nodes[^1];
    }
}
