using NasFlatness.Genotypes;
using NasFlatness.SearchSpaces.Operations;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using NasFlatness.Advanced;

namespace NasFlatness.SearchSpaces.Nb201;

/// <summary>
/// The NAS-Bench-201 supernet with PC-DARTS partial channel connections (1/K of the channels through the mixed
/// operations, channel shuffle) and optional edge normalisation (one β per edge, softmax over the edges entering a node).
/// Created by <see cref="Nb201SearchSpace.CreateSupernet"/> when <see cref="Nb201Options.PartialChannels"/> is set.
/// </summary>
/// <remarks>
/// <see cref="ArchitectureParameters"/> is <c>[α]</c> (shape [6, 5]) or, with edge normalisation, <c>[α, β]</c> (β of shape
/// [6]); both are initialised as <c>1e-3·N(0, 1)</c>. The genotype is the per-edge argmax of α: every NAS-Bench-201 edge is
/// kept, so scaling an edge's operation weights by its positive edge weight softmax(β) (PC-DARTS' edge score) cannot change
/// the choice. With K = 1 and no edge normalisation the supernet computes exactly the plain DARTS supernet.
/// </remarks>
public sealed class Nb201PartialChannelSupernet : Supernet
{
    /// <summary>Incoming edge indices of intermediate nodes 1, 2, 3 (edge order 1←0, 2←0, 2←1, 3←0, 3←1, 3←2).</summary>
    internal static readonly int[][] IncomingEdges = [[0], [1, 2], [3, 4, 5]];

    private readonly Stem stem;
    private readonly ModuleList<nn.Module<Tensor, Tensor>> layers;
    private readonly ClassifierHead head;
    private readonly Parameter alpha;
    private readonly Parameter? beta;
    private readonly Nb201Options options;
    private readonly DatasetInfo dataset;

    internal Nb201PartialChannelSupernet(Nb201Options options, DatasetInfo dataset) : base(nameof(Nb201PartialChannelSupernet))
    {
        this.options = options.Clone();
        this.dataset = dataset;
        Proportion = options.PartialChannelProportion;
        Scope = options.PartialChannelScope;
        EdgeNormalization = options.EdgeNormalization;
        (stem, layers, head) = Nb201Skeleton.Build(options.Channels, options.CellsPerStage, dataset,
            channels => new PartialChannelCell(channels, Proportion, Scope, options.TrackRunningStats));
        alpha = nn.Parameter(torch.randn(Nb201Genotype.EdgeCount, Nb201Genotype.OperationCount).mul_(1e-3));
        if (EdgeNormalization) beta = nn.Parameter(torch.randn(Nb201Genotype.EdgeCount).mul_(1e-3));
        RegisterComponents();
        TorchRuntime.EnsureCorrectCpuKernels(this);
    }

    /// <summary>The channel proportion K (1/K of the channels go through the operations).</summary>
    public int Proportion { get; }

    /// <summary>Per edge (PC-DARTS) or per cell (A²M repository).</summary>
    public PartialChannelScope Scope { get; }

    /// <summary>Whether the edge-normalisation parameters β exist.</summary>
    public bool EdgeNormalization { get; }

    /// <summary>The operation logits α, shape [6, 5].</summary>
    public Parameter Alpha => alpha;

    /// <summary>The edge-normalisation logits β, shape [6]; null without edge normalisation.</summary>
    public Parameter? Beta => beta;

    /// <inheritdoc />
    public override IReadOnlyList<Parameter> ArchitectureParameters() => beta is null ? [alpha] : [alpha, beta];

    /// <inheritdoc />
    public override Tensor Forward(Tensor input, IReadOnlyList<Tensor> architecture, IArchitectureActivation activation)
    {
        var (a, b) = CheckArchitecture(architecture);
        ArgumentNullException.ThrowIfNull(activation);
        var opWeights = activation.Activate(a);
        Tensor? edgeWeights = null;
        if (b is not null)
        {
            var parts = new Tensor[IncomingEdges.Length];
            for (int n = 0; n < IncomingEdges.Length; n++)
            {
                int first = IncomingEdges[n][0], count = IncomingEdges[n].Length;
                parts[n] = b.narrow(0, first, count).softmax(0);
            }
            edgeWeights = torch.cat(parts, 0);
        }
        var opRows = opWeights.unbind(0);
        var edgeRows = edgeWeights?.unbind(0);
        return Nb201Skeleton.Forward(stem, layers, head, input, (layer, x) => layer is PartialChannelCell cell ? cell.Forward(x, opRows, edgeRows) : layer.forward(x));
    }

    /// <inheritdoc />
    public override Genotype DeriveGenotype(IReadOnlyList<Tensor> architecture, IArchitectureActivation activation) =>
        Nb201SearchSpace.Derive(CheckArchitecture(architecture).Alpha);

    /// <inheritdoc />
    protected override Supernet CreateEmptyCopy() => new Nb201PartialChannelSupernet(options, dataset);

    private (Tensor Alpha, Tensor? Beta) CheckArchitecture(IReadOnlyList<Tensor> architecture)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        int expected = beta is null ? 1 : 2;
        if (architecture.Count != expected)
            throw new ArgumentException(
                $"This partial-channel NAS-Bench-201 supernet takes {expected} architecture tensor(s) ({(beta is null ? "α [6, 5]" : "α [6, 5] and β [6]")}), got {architecture.Count}.",
                nameof(architecture));
        var a = architecture[0];
        if (a.dim() != 2 || a.shape[0] != Nb201Genotype.EdgeCount || a.shape[1] != Nb201Genotype.OperationCount)
            throw new ArgumentException($"α must have shape [6, 5], got [{string.Join(", ", a.shape)}].", nameof(architecture));
        if (beta is null) return (a, null);
        var b = architecture[1];
        if (b.dim() != 1 || b.shape[0] != Nb201Genotype.EdgeCount)
            throw new ArgumentException($"β must have shape [6], got [{string.Join(", ", b.shape)}].", nameof(architecture));
        return (a, b);
    }
}

/// <summary>A NAS-Bench-201 search cell with partial channels, per edge or per cell.</summary>
internal sealed class PartialChannelCell : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<PartialChannelMixedOp> edges;
    private readonly long channels;
    private readonly long proportion;
    private readonly PartialChannelScope scope;

    public PartialChannelCell(long channels, int proportion, PartialChannelScope scope, bool trackRunningStats) : base(nameof(PartialChannelCell))
    {
        this.channels = channels;
        this.proportion = proportion;
        this.scope = scope;
        long opChannels = channels / proportion;
        // Per edge: each mixed op samples its own channels. Per cell: the DAG runs on the sampled channels, so its edges are
        // plain mixed ops (K = 1) built for C/K channels.
        int edgeProportion = scope == PartialChannelScope.PerEdge ? proportion : 1;
        edges = new ModuleList<PartialChannelMixedOp>();
        for (int e = 0; e < Nb201Genotype.EdgeCount; e++)
            edges.Add(new PartialChannelMixedOp(scope == PartialChannelScope.PerEdge ? channels : opChannels, edgeProportion, trackRunningStats));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => throw new InvalidOperationException("A search cell needs the mixing weights; call Forward(input, weights).");

    public Tensor Forward(Tensor input, Tensor[] opWeights, Tensor[]? edgeWeights)
    {
        if (scope == PartialChannelScope.PerEdge || proportion == 1) return Dag(input, opWeights, edgeWeights);
        long sampled = channels / proportion;
        using var xa = input.narrow(1, 0, sampled);
        using var xb = input.narrow(1, sampled, channels - sampled);
        using var y = Dag(xa, opWeights, edgeWeights);
        return PartialChannelShuffle.Interleave(y, xb, proportion);
    }

    /// <summary>
    /// The cell DAG. With per-edge partial channels, node i is <c>Σ_j w_j·shuffle(cat[mixed_j(x_j[:, :C/K]), x_j[:, C/K:]])</c>;
    /// the shuffle is a fixed permutation, so this equals <c>shuffle(cat[Σ_j w_j·mixed_j(..), Σ_j w_j·x_j[:, C/K:]])</c>, which is
    /// what is computed (one full-width copy per node instead of three per edge). Temporaries are disposed as soon as they are
    /// consumed (autograd keeps its own references), so they do not pile up until the end of the step.
    /// </summary>
    private Tensor Dag(Tensor input, Tensor[] opWeights, Tensor[]? edgeWeights)
    {
        long k = edges[0].Proportion;          // K per edge; 1 inside a per-cell DAG
        long sampled = input.shape[1] / k;
        var nodes = new List<Tensor>(Nb201Genotype.NodeCount) { input };
        int e = 0;
        for (int node = 1; node < Nb201Genotype.NodeCount; node++)
        {
            Tensor? a = null, b = null;
            for (int src = 0; src < node; src++, e++)
            {
                var x = nodes[src];
                using var xa = k == 1 ? x.alias() : x.narrow(1, 0, sampled);
                var y = edges[e].Mixed(xa, opWeights[e]);
                if (edgeWeights is not null) Replace(ref y, y * edgeWeights[e]);
                Sums.Accumulate(ref a, y);
                if (k > 1)
                {
                    var xb = x.narrow(1, sampled, x.shape[1] - sampled);
                    if (edgeWeights is not null) Replace(ref xb, xb * edgeWeights[e]);
                    Sums.Accumulate(ref b, xb);
                }
            }
            if (k > 1)
            {
                var value = PartialChannelShuffle.Interleave(a!, b!, k);
                a!.Dispose();
                b!.Dispose();
                nodes.Add(value);
            }
            else
            {
                nodes.Add(a!);
            }
        }
        for (int i = 1; i < nodes.Count - 1; i++) nodes[i].Dispose();
        return nodes[^1];
    }

    private static void Replace(ref Tensor target, Tensor value)
    {
        target.Dispose();
        target = value;
    }
}

/// <summary>One mixed edge: <c>Σ_o p_o·o(x[:, :C/K])</c>, the remaining channels passed through, channel shuffle.</summary>
internal sealed class PartialChannelMixedOp : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> ops;
    private readonly long channels;
    private readonly long proportion;

    public PartialChannelMixedOp(long channels, int proportion, bool trackRunningStats) : base(nameof(PartialChannelMixedOp))
    {
        this.channels = channels;
        this.proportion = proportion;
        ops = new ModuleList<nn.Module<Tensor, Tensor>>();
        // Operations 1..4 (none has no module and contributes zero).
        for (int o = 1; o < Nb201Genotype.OperationCount; o++)
            ops.Add(Nb201Operations.Create(o, channels / proportion, affine: false, trackRunningStats)!);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => throw new InvalidOperationException("A mixed operation needs its weights; call Forward(input, weights).");

    /// <summary>The channel proportion K this edge samples with (1 inside a per-cell DAG).</summary>
    public long Proportion => proportion;

    /// <summary><c>Σ_o p_o·o(x)</c> over the operations (built for <c>x</c>'s channel count; none contributes zero).</summary>
    public Tensor Mixed(Tensor x, Tensor weights)
    {
        Tensor? sum = null;
        for (int o = 1; o < Nb201Genotype.OperationCount; o++)
        {
            using var output = ops[o - 1].forward(x);
            using var w = weights[o];
            Sums.Accumulate(ref sum, output * w);
        }
        return sum!;
    }

    /// <summary>The whole partial-channel edge on its own: <c>shuffle(cat[Mixed(x[:, :C/K]), x[:, C/K:]])</c>.</summary>
    public Tensor Forward(Tensor x, Tensor weights)
    {
        if (proportion == 1) return Mixed(x, weights);
        long sampled = channels / proportion;
        using var xa = x.narrow(1, 0, sampled);
        using var xb = x.narrow(1, sampled, channels - sampled);
        using var y = Mixed(xa, weights);
        return PartialChannelShuffle.Interleave(y, xb, proportion);
    }
}
