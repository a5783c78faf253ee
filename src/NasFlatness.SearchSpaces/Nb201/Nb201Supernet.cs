using NasFlatness.Genotypes;
using NasFlatness.SearchSpaces.Operations;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using NasFlatness.Advanced;

namespace NasFlatness.SearchSpaces.Nb201;

/// <summary>
/// The NAS-Bench-201 supernet (docs/spec/algorithms.md §1.1): stem, three stages of N search cells separated by
/// residual reduction blocks, classifier. All cells share one α of shape [6, 5]; every edge mixes the five
/// operations with the mixing weights p = activation(α), softmax by default (the <c>none</c> term is zero and
/// skipped; its logit still takes part in the activation). Cell BatchNorms are affine-free.
/// </summary>
public sealed class Nb201Supernet : Supernet
{
    private readonly Stem stem;
    private readonly ModuleList<nn.Module<Tensor, Tensor>> layers;
    private readonly ClassifierHead head;
    private readonly Parameter alpha;
    private readonly Nb201Options options;
    private readonly DatasetInfo dataset;

    internal Nb201Supernet(Nb201Options options, DatasetInfo dataset) : base(nameof(Nb201Supernet))
    {
        this.options = options.Clone();
        this.dataset = dataset;
        (stem, layers, head) = Nb201Skeleton.Build(options.Channels, options.CellsPerStage, dataset,
            channels => new Nb201SearchCell(channels, options.TrackRunningStats, options.NodeBatchNorm));
        alpha = nn.Parameter(torch.randn(Nb201Genotype.EdgeCount, Nb201Genotype.OperationCount).mul_(1e-3));
        RegisterComponents();
        TorchRuntime.EnsureCorrectCpuKernels(this);
    }

    /// <summary>The architecture logits α, shape [6, 5] (edges × operations).</summary>
    public Parameter Alpha => alpha;

    /// <inheritdoc />
    public override IReadOnlyList<Parameter> ArchitectureParameters() => [alpha];

    /// <inheritdoc />
    public override Tensor Forward(Tensor input, IReadOnlyList<Tensor> architecture, IArchitectureActivation activation)
    {
        var logits = CheckArchitecture(architecture);
        ArgumentNullException.ThrowIfNull(activation);
        var weights = activation.Activate(logits);
        // Mixing weights are shared by all cells; they are laid out once per stage width.
        var perWidth = new Dictionary<long, Nb201MixingWeights>();
        return Nb201Skeleton.Forward(stem, layers, head, input, (layer, x) =>
        {
            if (layer is not Nb201SearchCell cell) return layer.forward(x);
            if (!perWidth.TryGetValue(cell.Channels, out var mixing))
                perWidth[cell.Channels] = mixing = new Nb201MixingWeights(weights, cell.Channels);
            return cell.Forward(x, mixing);
        });
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
    public override Genotype DeriveGenotype(IReadOnlyList<Tensor> architecture, IArchitectureActivation activation) =>
        Nb201SearchSpace.Derive(CheckArchitecture(architecture)); // argmax of α: the same under every monotone activation

    /// <inheritdoc />
    protected override Supernet CreateEmptyCopy() => new Nb201Supernet(options, dataset);
}

/// <summary>
/// The mixing weights softmax(α) laid out for <see cref="Nb201SearchCell"/>: per source node, the conv
/// weights of its outgoing edges as per-channel vectors (each edge's weight repeated over its C channels),
/// and the skip and pool weights as scalars.
/// </summary>
internal sealed class Nb201MixingWeights
{
    public Nb201MixingWeights(Tensor softmax, long channels)
    {
        Conv1x1 = new Tensor[Nb201SearchCell.Sources];
        Conv3x3 = new Tensor[Nb201SearchCell.Sources];
        Skip = new Tensor[Nb201Genotype.EdgeCount];
        Pool = new Tensor[Nb201Genotype.EdgeCount];
        var skip = softmax[.., Nb201Operations.Skip].unbind(0);
        var pool = softmax[.., Nb201Operations.AvgPool].unbind(0);
        for (int e = 0; e < Nb201Genotype.EdgeCount; e++)
        {
            Skip[e] = skip[e];
            Pool[e] = pool[e];
        }
        for (int j = 0; j < Nb201SearchCell.Sources; j++)
        {
            using var index = torch.tensor(Nb201SearchCell.OutgoingEdges[j].Select(e => (long)e).ToArray(), device: softmax.device);
            var rows = softmax.index_select(0, index);
            Conv1x1[j] = rows[.., Nb201Operations.Conv1x1].repeat_interleave(channels);
            Conv3x3[j] = rows[.., Nb201Operations.Conv3x3].repeat_interleave(channels);
        }
    }

    /// <summary>Per source node: [E_j·C] weights of the 1×1 convolutions of its outgoing edges.</summary>
    public Tensor[] Conv1x1 { get; }

    /// <summary>Per source node: [E_j·C] weights of the 3×3 convolutions of its outgoing edges.</summary>
    public Tensor[] Conv3x3 { get; }

    /// <summary>Per edge: the scalar skip-connection weight.</summary>
    public Tensor[] Skip { get; }

    /// <summary>Per edge: the scalar average-pool weight.</summary>
    public Tensor[] Pool { get; }
}

/// <summary>
/// A NAS-Bench-201 search cell: every edge mixes the five candidates. The edges leaving the same node
/// share their input, so their ReLU is computed once, their 1×1 (and 3×3) convolutions run as one
/// convolution with E·C output channels followed by one affine-free BatchNorm (per-channel, hence exactly
/// the per-edge BatchNorms side by side), and the parameter-free average pool is computed once per node.
/// <c>none</c> contributes zeros and is skipped. Mathematically identical to the per-edge formulation
/// (see <see cref="Reference.Nb201ReferenceSupernet"/>).
/// </summary>
internal sealed class Nb201SearchCell : nn.Module<Tensor, Tensor>
{
    /// <summary>Nodes with outgoing edges (0, 1, 2).</summary>
    public const int Sources = Nb201Genotype.NodeCount - 1;

    /// <summary>Edge indices leaving each source node, in target order: 0 → {1←0, 2←0, 3←0}, 1 → {2←1, 3←1}, 2 → {3←2}.</summary>
    public static readonly int[][] OutgoingEdges = [[0, 1, 3], [2, 4], [5]];

    private readonly ModuleList<Conv2d> conv1x1;
    private readonly ModuleList<Conv2d> conv3x3;
    private readonly ModuleList<BatchNorm2d> bn1x1;
    private readonly ModuleList<BatchNorm2d> bn3x3;
    private readonly ModuleList<BatchNorm2d>? nodeBn;

    public Nb201SearchCell(long channels, bool trackRunningStats, bool nodeBatchNorm = false) : base(nameof(Nb201SearchCell))
    {
        Channels = channels;
        conv1x1 = new ModuleList<Conv2d>();
        conv3x3 = new ModuleList<Conv2d>();
        bn1x1 = new ModuleList<BatchNorm2d>();
        bn3x3 = new ModuleList<BatchNorm2d>();
        for (int j = 0; j < Sources; j++)
        {
            long width = OutgoingEdges[j].Length * channels;
            conv1x1.Add(nn.Conv2d(channels, width, 1, bias: false));
            conv3x3.Add(nn.Conv2d(channels, width, 3, padding: 1, bias: false));
            bn1x1.Add(nn.BatchNorm2d(width, affine: false, track_running_stats: trackRunningStats));
            bn3x3.Add(nn.BatchNorm2d(width, affine: false, track_running_stats: trackRunningStats));
        }
        if (nodeBatchNorm)
        {
            // One affine-free BatchNorm after the sum of each of nodes 1, 2 and 3 (DARTS-PRIME's CRB cells).
            nodeBn = new ModuleList<BatchNorm2d>();
            for (int node = 1; node < Nb201Genotype.NodeCount; node++) nodeBn.Add(nn.BatchNorm2d(channels, affine: false, track_running_stats: trackRunningStats));
        }
        RegisterComponents();
    }

    /// <summary>Channels C of the cell.</summary>
    public long Channels { get; }

    public override Tensor forward(Tensor input) =>
        throw new InvalidOperationException("A search cell needs the mixing weights; call Forward(input, weights).");

    /// <summary>Runs the cell with the given mixing weights.</summary>
    public Tensor Forward(Tensor input, Nb201MixingWeights w)
    {
        var nodes = new Tensor?[Nb201Genotype.NodeCount];
        nodes[0] = input;
        var inverseWindow = AvgPool3x3.InverseWindowSizes(input.shape[^2], input.shape[^1], input.dtype, input.device);
        for (int j = 0; j < Sources; j++)
        {
            if (j > 0) NormalizeNode(nodes, j); // node j's sum is complete once it becomes a source
            var x = nodes[j]!;
            Tensor mixedConvs;
            using (var r = nn.functional.relu(x))
            using (var c1 = conv1x1[j].call(r))
            using (var c3 = conv3x3[j].call(r))
            using (var b1 = WeightedBatchNorm(bn1x1[j], c1, w.Conv1x1[j]))
            using (var b3 = WeightedBatchNorm(bn3x3[j], c3, w.Conv3x3[j]))
            {
                mixedConvs = b1 + b3;
            }
            // avg_pool(x) = box sum × 1/window size; the reciprocal map is folded into each edge's pool weight.
            using var boxSums = AvgPool3x3.BoxSum(x);
            var edges = OutgoingEdges[j];
            for (int k = 0; k < edges.Length; k++)
            {
                int e = edges[k], target = j + 1 + k;
                using var slice = mixedConvs.narrow(1, k * Channels, Channels);
                using var poolWeight = inverseWindow * w.Pool[e];
                var partial = nodes[target];
                nodes[target] = partial is null
                    ? torch.addcmul(slice, x, w.Skip[e], 1)
                    : partial.add_(slice).addcmul_(x, w.Skip[e], 1);
                nodes[target]!.addcmul_(boxSums, poolWeight, 1);
            }
            mixedConvs.Dispose();
        }
        NormalizeNode(nodes, Nb201Genotype.NodeCount - 1);
        for (int i = 1; i < Nb201Genotype.NodeCount - 1; i++) nodes[i]!.Dispose();
        return nodes[^1]!;
    }

    /// <summary>Sees every node's sum and its normalised value (tests): node index, before, after.</summary>
    internal Action<int, Tensor, Tensor>? NodeObserver { get; set; }

    /// <summary>With node BatchNorms: replaces node <paramref name="node"/>'s sum by its affine-free BatchNorm.</summary>
    private void NormalizeNode(Tensor?[] nodes, int node)
    {
        if (nodeBn is null) return;
        var sum = nodes[node]!;
        var normalized = nodeBn[node - 1].call(sum);
        NodeObserver?.Invoke(node, sum, normalized);
        sum.Dispose();
        nodes[node] = normalized;
    }

    /// <summary>
    /// Affine-free BatchNorm of <paramref name="input"/> whose output is scaled per channel by
    /// <paramref name="weight"/>: <c>weight · BN(input)</c> as one fused libtorch call (the mixing weight takes
    /// the place of BN's affine scale), with the module's running statistics and counter updated as its own
    /// forward would.
    /// </summary>
    private Tensor WeightedBatchNorm(BatchNorm2d bn, Tensor input, Tensor weight)
    {
        bool batchStatistics = training || bn.running_mean is null;
        if (training && bn.num_batches_tracked is { } count)
        {
            using var noGrad = torch.no_grad();
            count.add_(1);
        }
        return nn.functional.batch_norm(input, bn.running_mean, bn.running_var, weight, null, batchStatistics, bn.momentum ?? 0.1, bn.eps);
    }
}
