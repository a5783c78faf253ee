using NasFlatness.Evaluation;
using NasFlatness.Genotypes;
using NasFlatness.SearchSpaces.Operations;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.SearchSpaces.Darts;

/// <summary>
/// The DARTS evaluation network of a genotype (quark0/darts <c>model.py</c>, docs/spec/algorithms.md §1.2/§11.2–11.3):
/// CIFAR (<c>NetworkCIFAR</c>: stem Conv3×3(3→3C) + BN, default C = 36, 20 cells) or ImageNet mobile setting
/// (<c>NetworkImageNet</c>: two stride-2 stems, C = 48, 14 cells); reductions at cells/3 and 2·cells/3; an
/// optional auxiliary head after cell 2·cells/3; drop-path on every non-identity operation output during
/// training. All BatchNorms are affine; pools have no BN.
/// </summary>
public sealed class DartsNetwork : nn.Module<Tensor, Tensor>, IEvaluationNetwork
{
    private readonly nn.Module<Tensor, Tensor> stem0;
    private readonly nn.Module<Tensor, Tensor>? stem1;
    private readonly ModuleList<DartsCell> cells;
    private readonly DartsAuxiliaryHead? auxiliary;
    private readonly Linear classifier;
    private readonly int auxiliaryIndex;

    internal DartsNetwork(DartsGenotype genotype, DartsSpaceOptions options, DatasetInfo dataset) : base(nameof(DartsNetwork))
    {
        Genotype = genotype;
        Kind = options.NetworkKind;
        long c = options.NetworkChannels;
        int layers = options.NetworkCells;
        long cPrevPrev, cPrev, cCurrent;
        bool reductionPrev;
        if (Kind == DartsNetworkKind.Cifar)
        {
            cCurrent = 3 * c;
            stem0 = new Stem(dataset.Channels, cCurrent);
            cPrevPrev = cCurrent;
            cPrev = cCurrent;
            cCurrent = c;
            reductionPrev = false;
        }
        else
        {
            stem0 = new ImageNetStem0(dataset.Channels, c);
            stem1 = new ImageNetStem1(c);
            cPrevPrev = c;
            cPrev = c;
            cCurrent = c;
            reductionPrev = true;
        }
        cells = new ModuleList<DartsCell>();
        auxiliaryIndex = 2 * layers / 3;
        long auxiliaryChannels = 0;
        for (int i = 0; i < layers; i++)
        {
            bool reduction = DartsSupernet.IsReduction(i, layers);
            if (reduction) cCurrent *= 2;
            var cell = new DartsCell(genotype, cPrevPrev, cPrev, cCurrent, reduction, reductionPrev);
            cells.Add(cell);
            reductionPrev = reduction;
            cPrevPrev = cPrev;
            cPrev = cell.Multiplier * cCurrent;
            if (i == auxiliaryIndex) auxiliaryChannels = cPrev;
        }
        if (options.AuxiliaryHead)
            auxiliary = new DartsAuxiliaryHead(auxiliaryChannels, dataset.ClassCount, imageNet: Kind == DartsNetworkKind.ImageNet);
        classifier = nn.Linear(cPrev, dataset.ClassCount);
        RegisterComponents();
    }

    /// <summary>The genotype this network was built from.</summary>
    public DartsGenotype Genotype { get; }

    /// <summary>CIFAR or ImageNet macro shape.</summary>
    public DartsNetworkKind Kind { get; }

    /// <summary>Number of cells.</summary>
    public int CellCount => cells.Count;

    /// <inheritdoc />
    public double DropPathProbability { get; set; }

    /// <inheritdoc />
    public bool HasAuxiliaryHead => auxiliary is not null;

    /// <inheritdoc />
    public IEnumerable<Parameter> AuxiliaryParameters() => auxiliary?.parameters() ?? [];

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        var (logits, aux) = Run(input, withAuxiliary: false);
        aux?.Dispose();
        return logits;
    }

    /// <inheritdoc />
    public (Tensor Logits, Tensor? AuxiliaryLogits) ForwardWithAuxiliary(Tensor input) => Run(input, withAuxiliary: training && auxiliary is not null);

    private (Tensor, Tensor?) Run(Tensor input, bool withAuxiliary)
    {
        double dropPath = training ? DropPathProbability : 0.0;
        Tensor s0, s1;
        if (stem1 is null)
        {
            s0 = stem0.call(input);
            s1 = s0;
        }
        else
        {
            s0 = stem0.call(input);
            s1 = stem1.call(s0);
        }
        Tensor? aux = null;
        for (int i = 0; i < cells.Count; i++)
        {
            var next = cells[i].Forward(s0, s1, dropPath);
            if (!ReferenceEquals(s0, s1)) s0.Dispose();
            s0 = s1;
            s1 = next;
            if (i == auxiliaryIndex && withAuxiliary) aux = auxiliary!.call(s1);
        }
        s0.Dispose();
        using (s1)
        {
            using var pooled = s1.mean([2, 3]);
            return (classifier.call(pooled), aux);
        }
    }
}

/// <summary>A discrete DARTS cell: 4 nodes, each the sum of two operations on earlier states; output = concat of the genotype's concat states.</summary>
internal sealed class DartsCell : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> preprocess0;
    private readonly ReluConvBn preprocess1;
    private readonly ModuleList<nn.Module<Tensor, Tensor>> ops;
    private readonly int[] inputs;
    private readonly bool[] identity;
    private readonly int[] concat;

    public DartsCell(DartsGenotype genotype, long cPrevPrev, long cPrev, long channels, bool reduction, bool reductionPrev) : base(nameof(DartsCell))
    {
        preprocess0 = reductionPrev
            ? new FactorizedReduce(cPrevPrev, channels, affine: true, trackRunningStats: true)
            : new ReluConvBn(cPrevPrev, channels, 1, 1, 0, 1, affine: true, trackRunningStats: true);
        preprocess1 = new ReluConvBn(cPrev, channels, 1, 1, 0, 1, affine: true, trackRunningStats: true);
        var edges = genotype.Cell(reduction);
        concat = [.. (reduction ? genotype.ReduceConcat : genotype.NormalConcat)];
        ops = new ModuleList<nn.Module<Tensor, Tensor>>();
        inputs = new int[edges.Count];
        identity = new bool[edges.Count];
        for (int k = 0; k < edges.Count; k++)
        {
            long stride = reduction && edges[k].Input < 2 ? 2 : 1;
            ops.Add(DartsOperations.Create(edges[k].Operation, channels, stride, affine: true, trackRunningStats: true));
            inputs[k] = edges[k].Input;
            identity[k] = DartsOperations.IsIdentity(edges[k].Operation, stride);
        }
        RegisterComponents();
    }

    public int Multiplier => concat.Length;

    public override Tensor forward(Tensor input) =>
        throw new InvalidOperationException("A DARTS cell takes two inputs; call Forward(s0, s1, dropPath).");

    public Tensor Forward(Tensor s0, Tensor s1, double dropPath)
    {
        var states = new List<Tensor>(DartsGenotype.NodeCount + 2) { preprocess0.call(s0), preprocess1.call(s1) };
        for (int node = 0; node < DartsGenotype.NodeCount; node++)
        {
            var h1 = Apply(2 * node, states, dropPath);
            var h2 = Apply(2 * node + 1, states, dropPath);
            states.Add(h1 + h2);
            h1.Dispose();
            h2.Dispose();
        }
        var output = torch.cat(concat.Select(i => states[i]).ToArray(), 1);
        foreach (var s in states) s.Dispose();
        return output;
    }

    private Tensor Apply(int k, List<Tensor> states, double dropPath)
    {
        var y = ops[k].call(states[inputs[k]]);
        if (dropPath > 0 && !identity[k])
        {
            var dropped = DropPath.Apply(y, dropPath);
            y.Dispose();
            y = dropped;
        }
        return y;
    }
}

/// <summary>
/// The DARTS auxiliary classifier: ReLU → AvgPool(5, stride 3 for CIFAR / 2 for ImageNet, no padding counted) →
/// Conv1×1(→128) → BN → ReLU → Conv2×2(→768) → BN (CIFAR only; the reference ImageNet head omits it) → ReLU → Linear.
/// </summary>
internal sealed class DartsAuxiliaryHead : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d? bn2;
    private readonly Linear classifier;
    private readonly long poolStride;

    public DartsAuxiliaryHead(long channels, long classes, bool imageNet) : base(nameof(DartsAuxiliaryHead))
    {
        poolStride = imageNet ? 2 : 3;
        conv1 = nn.Conv2d(channels, 128, 1, bias: false);
        bn1 = nn.BatchNorm2d(128);
        conv2 = nn.Conv2d(128, 768, 2, bias: false);
        bn2 = imageNet ? null : nn.BatchNorm2d(768);
        classifier = nn.Linear(768, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var r0 = nn.functional.relu(input);
        using var p = nn.functional.avg_pool2d(r0, kernel_size: 5, stride: poolStride, padding: 0, count_include_pad: false);
        using var c1 = conv1.call(p);
        using var b1 = bn1.call(c1);
        using var r1 = nn.functional.relu(b1);
        using var c2 = conv2.call(r1);
        using var b2 = bn2 is null ? c2.alias() : bn2.call(c2);
        using var r2 = nn.functional.relu(b2);
        using var flat = r2.flatten(1);
        return classifier.call(flat);
    }
}

/// <summary>DARTS ImageNet <c>stem0</c>: Conv3×3(→C/2, stride 2) → BN → ReLU → Conv3×3(→C, stride 2) → BN.</summary>
internal sealed class ImageNetStem0 : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;

    public ImageNetStem0(long inChannels, long channels) : base(nameof(ImageNetStem0))
    {
        conv1 = nn.Conv2d(inChannels, channels / 2, 3, stride: 2, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(channels / 2);
        conv2 = nn.Conv2d(channels / 2, channels, 3, stride: 2, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(channels);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var c1 = conv1.call(input);
        using var b1 = bn1.call(c1);
        using var r1 = nn.functional.relu(b1);
        using var c2 = conv2.call(r1);
        return bn2.call(c2);
    }
}

/// <summary>DARTS ImageNet <c>stem1</c>: ReLU → Conv3×3(C→C, stride 2) → BN.</summary>
internal sealed class ImageNetStem1 : nn.Module<Tensor, Tensor>
{
    private readonly ReluConvBn body;

    public ImageNetStem1(long channels) : base(nameof(ImageNetStem1))
    {
        body = new ReluConvBn(channels, channels, 3, 2, 1, 1, affine: true, trackRunningStats: true);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => body.call(input);
}
