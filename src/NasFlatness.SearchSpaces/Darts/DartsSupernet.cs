using NasFlatness.Genotypes;
using NasFlatness.SearchSpaces.Operations;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using NasFlatness.Advanced;

namespace NasFlatness.SearchSpaces.Darts;

/// <summary>
/// The DARTS search supernet (docs/spec/algorithms.md §1.2, §1.3): stem Conv3×3(3→3C) + BN, <c>Cells</c> search cells
/// with reductions at cells/3 and 2·cells/3, global average pooling and a linear classifier. Normal and
/// reduction cells share α_normal resp. α_reduce ([14, |O|], init 1e-3·N(0,1)); every edge mixes the
/// candidate operations with the mixing weights activation(α), softmax by default (the <c>none</c> term is
/// zero and skipped; its logit still takes part in the activation). All cell BatchNorms are affine-free and pools are followed by an affine-free BN.
/// With <see cref="DartsSpaceOptions.PartialChannels"/> K &gt; 1 each edge mixes 1/K of its channels
/// (PC-DARTS); with <see cref="DartsSpaceOptions.EdgeNormalization"/> the architecture also holds
/// β_normal, β_reduce ∈ R^14 and each node weighs its incoming edges by softmax(β) over those edges.
/// </summary>
public sealed class DartsSupernet : Supernet
{
    /// <summary>Number of mixed edges per cell.</summary>
    public const int EdgeCount = 14;

    private readonly Stem stem;
    private readonly ModuleList<DartsSearchCell> cells;
    private readonly Linear classifier;
    private readonly Parameter alphaNormal;
    private readonly Parameter alphaReduce;
    private readonly Parameter? betaNormal;
    private readonly Parameter? betaReduce;
    private readonly DartsOperationSet operationSet;
    private readonly int operationCount;
    private readonly DartsSpaceOptions options;
    private readonly DatasetInfo dataset;

    internal DartsSupernet(DartsSpaceOptions options, DatasetInfo dataset) : base(nameof(DartsSupernet))
    {
        this.options = options.Clone();
        this.dataset = dataset;
        operationSet = options.Operations;
        var names = DartsOperations.Names(options.Operations);
        operationCount = names.Count;
        long c = options.Channels;
        long cCurrent = 3 * c;
        stem = new Stem(dataset.Channels, cCurrent);
        long cPrevPrev = cCurrent, cPrev = cCurrent;
        cCurrent = c;
        cells = new ModuleList<DartsSearchCell>();
        bool reductionPrev = false;
        for (int i = 0; i < options.Cells; i++)
        {
            bool reduction = IsReduction(i, options.Cells);
            if (reduction) cCurrent *= 2;
            cells.Add(new DartsSearchCell(names, cPrevPrev, cPrev, cCurrent, reduction, reductionPrev, options.PartialChannels, options.TrackRunningStats));
            reductionPrev = reduction;
            cPrevPrev = cPrev;
            cPrev = 4 * cCurrent;
        }
        classifier = nn.Linear(cPrev, dataset.ClassCount);
        alphaNormal = nn.Parameter(torch.randn(EdgeCount, operationCount).mul_(1e-3));
        alphaReduce = nn.Parameter(torch.randn(EdgeCount, operationCount).mul_(1e-3));
        if (options.EdgeNormalization)
        {
            betaNormal = nn.Parameter(torch.randn(EdgeCount).mul_(1e-3));
            betaReduce = nn.Parameter(torch.randn(EdgeCount).mul_(1e-3));
        }
        RegisterComponents();
        TorchRuntime.EnsureCorrectCpuKernels(this);
    }

    /// <summary>True when cell <paramref name="index"/> of <paramref name="cellCount"/> is a reduction cell (index cells/3 or 2·cells/3).</summary>
    public static bool IsReduction(int index, int cellCount) => index == cellCount / 3 || index == 2 * cellCount / 3;

    /// <summary>Architecture logits of the normal cells, shape [14, |O|].</summary>
    public Parameter AlphaNormal => alphaNormal;

    /// <summary>Architecture logits of the reduction cells, shape [14, |O|].</summary>
    public Parameter AlphaReduce => alphaReduce;

    /// <summary>Edge-normalisation logits of the normal cells, shape [14]; null without edge normalisation.</summary>
    public Parameter? BetaNormal => betaNormal;

    /// <summary>Edge-normalisation logits of the reduction cells, shape [14]; null without edge normalisation.</summary>
    public Parameter? BetaReduce => betaReduce;

    /// <summary>The candidate operations (the column order of α).</summary>
    public DartsOperationSet OperationSet => operationSet;

    /// <summary>
    /// The architecture parameters: <c>[α_normal, α_reduce]</c>, plus <c>[β_normal, β_reduce]</c> with edge normalisation.
    /// </summary>
    public override IReadOnlyList<Parameter> ArchitectureParameters() =>
        betaNormal is null ? [alphaNormal, alphaReduce] : [alphaNormal, alphaReduce, betaNormal, betaReduce!];

    /// <inheritdoc />
    public override Tensor Forward(Tensor input, IReadOnlyList<Tensor> architecture, IArchitectureActivation activation)
    {
        CheckArchitecture(architecture);
        ArgumentNullException.ThrowIfNull(activation);
        var normalWeights = OperationWeights(activation.Activate(architecture[0]));
        var reduceWeights = OperationWeights(activation.Activate(architecture[1]));
        Tensor[]? normalEdges = architecture.Count == 4 ? EdgeWeights(architecture[2]) : null;
        Tensor[]? reduceEdges = architecture.Count == 4 ? EdgeWeights(architecture[3]) : null;

        var s0 = stem.call(input);
        var s1 = s0;
        for (int i = 0; i < cells.Count; i++)
        {
            var cell = cells[i];
            var next = cell.IsReduction ? cell.Forward(s0, s1, reduceWeights, reduceEdges) : cell.Forward(s0, s1, normalWeights, normalEdges);
            if (!ReferenceEquals(s0, s1)) s0.Dispose();
            s0 = s1;
            s1 = next;
        }
        s0.Dispose();
        using (s1)
        {
            using var pooled = s1.mean([2, 3]);
            return classifier.call(pooled);
        }
    }

    /// <summary>The mixing weights row-wise, as one scalar tensor per (edge, operation). Left to the caller's dispose scope.</summary>
    private static Tensor[][] OperationWeights(Tensor weights)
    {
        var rows = weights.unbind(0);
        var result = new Tensor[rows.Length][];
        for (int e = 0; e < rows.Length; e++) result[e] = rows[e].unbind(0);
        return result;
    }

    /// <summary>softmax(β) over the incoming edges of every node, one scalar tensor per edge.</summary>
    private static Tensor[] EdgeWeights(Tensor beta)
    {
        var result = new List<Tensor>(EdgeCount);
        int start = 0;
        for (int node = 0; node < DartsGenotype.NodeCount; node++)
        {
            int n = node + 2;
            result.AddRange(beta[start..(start + n)].softmax(-1).unbind(0));
            start += n;
        }
        return [.. result];
    }

    private void CheckArchitecture(IReadOnlyList<Tensor> architecture)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        int expected = betaNormal is null ? 2 : 4;
        if (architecture.Count != expected)
            throw new ArgumentException(
                betaNormal is null
                    ? $"The DARTS supernet takes two architecture tensors [α_normal, α_reduce] of shape [14, {operationCount}], got {architecture.Count}."
                    : $"The DARTS supernet with edge normalisation takes four architecture tensors [α_normal, α_reduce, β_normal, β_reduce], got {architecture.Count}.",
                nameof(architecture));
        for (int i = 0; i < 2; i++)
        {
            var a = architecture[i];
            if (a.dim() != 2 || a.shape[0] != EdgeCount || a.shape[1] != operationCount)
                throw new ArgumentException($"{(i == 0 ? "α_normal" : "α_reduce")} must have shape [14, {operationCount}], got [{string.Join(", ", a.shape)}].", nameof(architecture));
        }
        for (int i = 2; i < architecture.Count; i++)
        {
            var b = architecture[i];
            if (b.dim() != 1 || b.shape[0] != EdgeCount)
                throw new ArgumentException($"{(i == 2 ? "β_normal" : "β_reduce")} must have shape [14], got [{string.Join(", ", b.shape)}].", nameof(architecture));
        }
    }

    /// <inheritdoc />
    public override Genotype DeriveGenotype(IReadOnlyList<Tensor> architecture, IArchitectureActivation activation)
    {
        CheckArchitecture(architecture);
        ArgumentNullException.ThrowIfNull(activation);
        using var scope = torch.NewDisposeScope();
        return DartsSearchSpace.DeriveFromWeights(activation.Activate(architecture[0].detach().to(float64)), activation.Activate(architecture[1].detach().to(float64)), operationSet,
            architecture.Count == 4 ? architecture[2] : null, architecture.Count == 4 ? architecture[3] : null);
    }

    /// <summary>
    /// The DARTS discretisation as an indicator (DARTS-PRIME's D(p)): for each of α_normal and α_reduce, 1 at (edge,
    /// operation) for the two incoming edges of every node that <see cref="DeriveGenotype(IReadOnlyList{Tensor}, IArchitectureActivation)"/> keeps,
    /// each at its strongest non-<c>none</c> operation, and 0 elsewhere (so rows of dropped edges are all zero). The rule is
    /// the derivation's, applied to the given mixing weights (with edge normalisation, β is <paramref name="mixingWeights"/>[2]
    /// and [3], which <see cref="Supernet.MixingWeights"/> passes through unchanged). β tensors are returned as detached copies.
    /// </summary>
    public override IReadOnlyList<Tensor> DiscreteIndicator(IReadOnlyList<Tensor> mixingWeights)
    {
        CheckArchitecture(mixingWeights);
        using var noGrad = torch.no_grad();
        var names = DartsOperations.Names(operationSet);
        var genotype = DartsSearchSpace.DeriveFromWeights(mixingWeights[0], mixingWeights[1], operationSet,
            mixingWeights.Count == 4 ? mixingWeights[2] : null, mixingWeights.Count == 4 ? mixingWeights[3] : null);
        var result = new Tensor[mixingWeights.Count];
        result[0] = Indicator(genotype.Normal, mixingWeights[0], names);
        result[1] = Indicator(genotype.Reduce, mixingWeights[1], names);
        for (int i = 2; i < result.Length; i++) result[i] = mixingWeights[i].detach().clone();
        return result;
    }

    private static Tensor Indicator(IReadOnlyList<DartsEdge> cell, Tensor like, IReadOnlyList<string> names)
    {
        var values = new double[EdgeCount * names.Count];
        int start = 0;
        for (int node = 0; node < DartsGenotype.NodeCount; node++)
        {
            for (int k = 0; k < 2; k++)
            {
                var edge = cell[2 * node + k];
                int column = -1;
                for (int o = 0; o < names.Count; o++) if (names[o] == edge.Operation) column = o;
                values[(start + edge.Input) * names.Count + column] = 1.0;
            }
            start += node + 2;
        }
        return torch.tensor(values, [EdgeCount, names.Count], dtype: like.dtype, device: like.device);
    }

    /// <inheritdoc />
    protected override Supernet CreateEmptyCopy() => new DartsSupernet(options, dataset);
}

/// <summary>A DARTS search cell: preprocessing of the two inputs, 4 intermediate nodes fed by 14 mixed edges, output = concat of the 4 nodes.</summary>
internal sealed class DartsSearchCell : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> preprocess0;
    private readonly ReluConvBn preprocess1;
    private readonly ModuleList<DartsMixedOp> edges;

    public DartsSearchCell(IReadOnlyList<string> names, long cPrevPrev, long cPrev, long channels, bool reduction, bool reductionPrev, int partialChannels, bool trackRunningStats)
        : base(nameof(DartsSearchCell))
    {
        IsReduction = reduction;
        preprocess0 = reductionPrev
            ? new FactorizedReduce(cPrevPrev, channels, affine: false, trackRunningStats)
            : new ReluConvBn(cPrevPrev, channels, 1, 1, 0, 1, affine: false, trackRunningStats);
        preprocess1 = new ReluConvBn(cPrev, channels, 1, 1, 0, 1, affine: false, trackRunningStats);
        edges = new ModuleList<DartsMixedOp>();
        for (int node = 0; node < DartsGenotype.NodeCount; node++)
            for (int j = 0; j < node + 2; j++)
                edges.Add(new DartsMixedOp(names, channels, reduction && j < 2 ? 2 : 1, partialChannels, trackRunningStats));
        RegisterComponents();
    }

    public bool IsReduction { get; }

    public override Tensor forward(Tensor input) =>
        throw new InvalidOperationException("A search cell needs two inputs and the mixing weights; call Forward(s0, s1, weights, edgeWeights).");

    public Tensor Forward(Tensor s0, Tensor s1, Tensor[][] weights, Tensor[]? edgeWeights)
    {
        var states = new List<Tensor>(DartsGenotype.NodeCount + 2) { preprocess0.call(s0), preprocess1.call(s1) };
        int e = 0;
        for (int node = 0; node < DartsGenotype.NodeCount; node++)
        {
            Tensor? sum = null;
            for (int j = 0; j < node + 2; j++, e++)
            {
                var y = edges[e].Forward(states[j], weights[e]);
                if (edgeWeights is not null)
                {
                    var scaled = y * edgeWeights[e];
                    y.Dispose();
                    y = scaled;
                }
                Sums.Accumulate(ref sum, y);
            }
            states.Add(sum!);
        }
        var output = torch.cat(states.Skip(2).ToArray(), 1);
        foreach (var s in states) s.Dispose();
        return output;
    }
}

/// <summary>
/// A mixed edge: <c>Σ_o p_o · o(x)</c> over the candidate operations (<c>none</c> skipped). With partial
/// channels K &gt; 1 only the first C/K channels are mixed; the rest bypass (max-pooled 2×2 on stride-2 edges),
/// are concatenated after the mixed part and the result is channel-shuffled with K groups (PC-DARTS).
/// </summary>
internal sealed class DartsMixedOp : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> ops;
    private readonly int[] columns;
    private readonly long stride;
    private readonly long partial;

    public DartsMixedOp(IReadOnlyList<string> names, long channels, long stride, int partialChannels, bool trackRunningStats) : base(nameof(DartsMixedOp))
    {
        this.stride = stride;
        partial = partialChannels;
        ops = new ModuleList<nn.Module<Tensor, Tensor>>();
        var cols = new List<int>();
        for (int o = 0; o < names.Count; o++)
        {
            if (names[o] == DartsOperations.None) continue; // contributes zeros: skipped
            ops.Add(DartsOperations.Create(names[o], channels / partialChannels, stride, affine: false, trackRunningStats, searchPoolBn: true));
            cols.Add(o);
        }
        columns = [.. cols];
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) =>
        throw new InvalidOperationException("A mixed operation needs its mixing weights; call Forward(x, weights).");

    public Tensor Forward(Tensor x, Tensor[] weights)
    {
        if (partial == 1) return Mix(x, weights);
        long c = x.shape[1], part = c / partial;
        var mixedPart = x[.., ..(int)part];
        var bypass = x[.., (int)part..];
        using var mixed = Mix(mixedPart, weights);
        using var pooled = stride == 2 ? nn.functional.max_pool2d(bypass, kernel_size: 2, stride: 2) : null;
        return PartialChannelShuffle.Interleave(mixed, pooled ?? bypass, partial);
    }

    private Tensor Mix(Tensor x, Tensor[] weights)
    {
        Tensor? sum = null;
        for (int i = 0; i < ops.Count; i++)
        {
            using var y = ops[i].call(x);
            Sums.Accumulate(ref sum, y * weights[columns[i]]);
        }
        return sum ?? throw new InvalidOperationException("A mixed operation needs at least one operation besides none.");
    }
}
