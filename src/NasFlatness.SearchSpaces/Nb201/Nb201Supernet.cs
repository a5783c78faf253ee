using NasFlatness.Genotypes;
using NasFlatness.SearchSpaces.Operations;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.SearchSpaces.Nb201;

/// <summary>
/// The NAS-Bench-201 supernet (algorithms.md §1.1): stem, three stages of N search cells separated by
/// residual reduction blocks, classifier. All cells share one α of shape [6, 5]; every edge mixes the five
/// operations with softmax(α) (the <c>none</c> term is zero and skipped; its logit still takes part in the
/// softmax). Cell BatchNorms are affine-free.
/// </summary>
public sealed class Nb201Supernet : Supernet
{
    private readonly Stem stem;
    private readonly ModuleList<nn.Module<Tensor, Tensor>> layers;
    private readonly ClassifierHead head;
    private readonly Parameter alpha;
    private readonly bool[] isCell;

    internal Nb201Supernet(Nb201Options options, DatasetInfo dataset) : base(nameof(Nb201Supernet))
    {
        long c = options.Channels;
        stem = new Stem(dataset.Channels, c);
        layers = new ModuleList<nn.Module<Tensor, Tensor>>();
        var cellFlags = new List<bool>();
        for (int stage = 0; stage < 3; stage++)
        {
            long channels = c << stage;
            if (stage > 0)
            {
                layers.Add(new ResNetBasicBlock(channels / 2, channels));
                cellFlags.Add(false);
            }
            for (int i = 0; i < options.CellsPerStage; i++)
            {
                layers.Add(new Nb201SearchCell(channels, options.TrackRunningStats));
                cellFlags.Add(true);
            }
        }
        isCell = [.. cellFlags];
        head = new ClassifierHead(c * 4, dataset.ClassCount);
        alpha = nn.Parameter(torch.randn(Nb201Genotype.EdgeCount, Nb201Genotype.OperationCount).mul_(1e-3));
        RegisterComponents();
    }

    /// <summary>The architecture logits α, shape [6, 5] (edges × operations).</summary>
    public Parameter Alpha => alpha;

    /// <inheritdoc />
    public override IReadOnlyList<Parameter> ArchitectureParameters() => [alpha];

    /// <inheritdoc />
    public override Tensor Forward(Tensor input, IReadOnlyList<Tensor> architecture)
    {
        var logits = CheckArchitecture(architecture);
        var weights = logits.softmax(-1);
        var edgeWeights = EdgeWeights(weights);
        try
        {
            var x = stem.forward(input);
            for (int i = 0; i < layers.Count; i++)
            {
                var next = isCell[i] ? ((Nb201SearchCell)layers[i]).Forward(x, edgeWeights) : layers[i].forward(x);
                x.Dispose();
                x = next;
            }
            using (x)
            {
                return head.forward(x);
            }
        }
        finally
        {
        }
    }

    /// <summary>Scalar mixing weight of every (edge, operation), computed once per forward and shared by all cells.</summary>
    private static Tensor[][] EdgeWeights(Tensor weights)
    {
        var rows = weights.unbind(0);
        var result = new Tensor[rows.Length][];
        for (int e = 0; e < rows.Length; e++)
        {
            result[e] = rows[e].unbind(0);
            rows[e].Dispose();
        }
        return result;
    }

    private static Tensor CheckArchitecture(IReadOnlyList<Tensor> architecture)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        if (architecture.Count != 1)
            throw new ArgumentException($"The NAS-Bench-201 supernet takes one architecture tensor (α of shape [6, 5]), got {architecture.Count}.", nameof(architecture));
        var a = architecture[0];
        if (a.dim() != 2 || a.shape[0] != Nb201Genotype.EdgeCount || a.shape[1] != Nb201Genotype.OperationCount)
            throw new ArgumentException($"α must have shape [6, 5], got [{string.Join(", ", a.shape)}].", nameof(architecture));
        return a;
    }

    /// <inheritdoc />
    public override Genotype DeriveGenotype(IReadOnlyList<Tensor> architecture) => Nb201SearchSpace.Derive(CheckArchitecture(architecture));
}

/// <summary>A NAS-Bench-201 search cell: every edge is a mixed operation over the five candidates.</summary>
internal sealed class Nb201SearchCell : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<ModuleList<nn.Module<Tensor, Tensor>>> edges;

    public Nb201SearchCell(long channels, bool trackRunningStats) : base(nameof(Nb201SearchCell))
    {
        edges = new ModuleList<ModuleList<nn.Module<Tensor, Tensor>>>();
        for (int e = 0; e < Nb201Genotype.EdgeCount; e++)
        {
            var ops = new ModuleList<nn.Module<Tensor, Tensor>>();
            for (int o = 1; o < Nb201Genotype.OperationCount; o++)
                ops.Add(Nb201Operations.Create(o, channels, affine: false, trackRunningStats)!);
            edges.Add(ops);
        }
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) =>
        throw new InvalidOperationException("A search cell needs the mixing weights; call Forward(input, weights).");

    /// <summary>Runs the cell with mixing weights <c>weights[edge][op]</c> (scalar tensors).</summary>
    public Tensor Forward(Tensor input, Tensor[][] weights)
    {
        var nodes = new Tensor[Nb201Genotype.NodeCount];
        nodes[0] = input;
        int e = 0;
        for (int node = 1; node < Nb201Genotype.NodeCount; node++)
        {
            Tensor? sum = null;
            for (int src = 0; src < node; src++, e++)
            {
                var ops = edges[e];
                for (int o = 0; o < ops.Count; o++)
                {
                    using var y = ops[o].forward(nodes[src]);
                    // Operation o + 1 (index 0, none, contributes zeros and is skipped).
                    var term = y * weights[e][o + 1];
                    if (sum is null) sum = term;
                    else
                    {
                        var next = sum + term;
                        sum.Dispose();
                        term.Dispose();
                        sum = next;
                    }
                }
            }
            nodes[node] = sum!;
        }
        for (int i = 1; i < Nb201Genotype.NodeCount - 1; i++) nodes[i].Dispose();
        return nodes[^1];
    }
}
