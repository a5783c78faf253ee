using NasFlatness.Genotypes;
using NasFlatness.SearchSpaces.Operations;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using NasFlatness.Advanced;

namespace NasFlatness.SearchSpaces.Nb201.Reference;

/// <summary>
/// A straightforward transcription of the NAS-Bench-201 search supernet, kept as the baseline that the
/// optimised <see cref="Nb201Supernet"/> is measured and tested against: every edge is a mixed operation
/// that runs all five candidates (<c>none</c> as <c>x·0</c>) and sums <c>softmax(α_e)_o · o(x)</c>,
/// exactly as the reference code does. Same parameters, same initialisation order, same function.
/// </summary>
internal sealed class Nb201ReferenceSupernet : Supernet
{
    private readonly Stem stem;
    private readonly ModuleList<nn.Module<Tensor, Tensor>> layers;
    private readonly ClassifierHead head;
    private readonly Parameter alpha;

    public Nb201ReferenceSupernet(Nb201Options options, DatasetInfo dataset) : base(nameof(Nb201ReferenceSupernet))
    {
        (stem, layers, head) = Nb201Skeleton.Build(options.Channels, options.CellsPerStage, dataset, channels => new ReferenceCell(channels, options.TrackRunningStats));
        alpha = nn.Parameter(torch.randn(Nb201Genotype.EdgeCount, Nb201Genotype.OperationCount).mul_(1e-3));
        RegisterComponents();
        TorchRuntime.EnsureCorrectCpuKernels(this);
    }

    public override IReadOnlyList<Parameter> ArchitectureParameters() => [alpha];

    public override Tensor Forward(Tensor input, IReadOnlyList<Tensor> architecture, IArchitectureActivation activation)
    {
        var weights = activation.Activate(architecture[0]);
        return Nb201Skeleton.Forward(stem, layers, head, input, (layer, x) => layer is ReferenceCell cell ? cell.Forward(x, weights) : layer.forward(x));
    }

    public override Genotype DeriveGenotype(IReadOnlyList<Tensor> architecture, IArchitectureActivation activation) => Nb201SearchSpace.Derive(architecture[0]);

    /// <summary>A search cell whose edges are <see cref="ReferenceMixedOp"/>s.</summary>
    private sealed class ReferenceCell : nn.Module<Tensor, Tensor>
    {
        private readonly ModuleList<ReferenceMixedOp> edges;

        public ReferenceCell(long channels, bool track) : base(nameof(ReferenceCell))
        {
            edges = new ModuleList<ReferenceMixedOp>();
            for (int e = 0; e < Nb201Genotype.EdgeCount; e++) edges.Add(new ReferenceMixedOp(channels, track));
            RegisterComponents();
        }

        public override Tensor forward(Tensor input) => throw new InvalidOperationException("Needs the mixing weights.");

        public Tensor Forward(Tensor input, Tensor weights)
        {
            var nodes = new List<Tensor> { input };
            int e = 0;
            for (int node = 1; node < Nb201Genotype.NodeCount; node++)
            {
                Tensor? sum = null;
                for (int src = 0; src < node; src++, e++)
                {
                    var y = edges[e].Forward(nodes[src], weights[e]);
                    sum = sum is null ? y : sum + y;
                }
                nodes.Add(sum!);
            }
            return nodes[^1];
        }
    }

    /// <summary>All five operations, weighted and summed (<c>none</c> included as <c>x·0</c>).</summary>
    private sealed class ReferenceMixedOp : nn.Module<Tensor, Tensor>
    {
        private readonly ModuleList<nn.Module<Tensor, Tensor>> ops;

        public ReferenceMixedOp(long channels, bool track) : base(nameof(ReferenceMixedOp))
        {
            ops = new ModuleList<nn.Module<Tensor, Tensor>>();
            for (int o = 1; o < Nb201Genotype.OperationCount; o++) ops.Add(o == Nb201Operations.AvgPool ? new AvgPool3x3(1, boxSums: false) : Nb201Operations.Create(o, channels, affine: false, track)!);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input) => throw new InvalidOperationException("Needs weights.");

        public Tensor Forward(Tensor x, Tensor weights)
        {
            Tensor sum = x.mul(0) * weights[0];
            for (int o = 1; o < Nb201Genotype.OperationCount; o++) sum = sum + weights[o] * ops[o - 1].forward(x);
            return sum;
        }
    }
}
