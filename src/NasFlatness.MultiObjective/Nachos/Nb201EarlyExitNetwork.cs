using NasFlatness.Genotypes;
using NasFlatness.SearchSpaces.Operations;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.MultiObjective.Nachos;

/// <summary>
/// A NACHOS exit classifier (EEC): [MaxPool(k)] → ReLU → Conv3×3(→32) → ReLU → Conv3×3(→64) → ReLU → Conv3×3(→128) → ReLU →
/// flatten → ReLU → Linear(→ classes + 1). The last output is the confidence logit. Convolutions have bias and padding 1;
/// layers are invoked with <c>call</c> so MAC hooks see them.
/// </summary>
public sealed class ExitClassifier : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly Conv2d conv2;
    private readonly Conv2d conv3;
    private readonly Linear linear;
    private readonly int pool;

    /// <summary>Creates the classifier for a [channels, height, width] feature map.</summary>
    /// <param name="channels">Input channels.</param>
    /// <param name="height">Input height.</param>
    /// <param name="width">Input width.</param>
    /// <param name="classes">Classes (the linear layer has one more output).</param>
    /// <param name="pool">Max-pool kernel and stride applied first (1 = none).</param>
    public ExitClassifier(long channels, int height, int width, int classes, int pool) : base(nameof(ExitClassifier))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pool, 1);
        if (height / pool < 1 || width / pool < 1) throw new ArgumentOutOfRangeException(nameof(pool), pool, $"A {height}×{width} map cannot be pooled by {pool}.");
        var f = Nb201EarlyExitCostModel.ClassifierFilters;
        conv1 = nn.Conv2d(channels, f[0], 3, padding: 1);
        conv2 = nn.Conv2d(f[0], f[1], 3, padding: 1);
        conv3 = nn.Conv2d(f[1], f[2], 3, padding: 1);
        linear = nn.Linear((long)f[2] * (height / pool) * (width / pool), classes + 1);
        this.pool = pool;
        Pool = pool;
        RegisterComponents();
    }

    /// <summary>The max-pool kernel (1 = none).</summary>
    public int Pool { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        var x = pool > 1 ? nn.functional.max_pool2d(input, pool, pool) : input;
        x = conv1.call(nn.functional.relu(x));
        x = conv2.call(nn.functional.relu(x));
        x = conv3.call(nn.functional.relu(x));
        x = nn.functional.relu(nn.functional.relu(x).flatten(1));
        return linear.call(x).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// The NB201 network of a genotype (the benchmark's discrete network, built from <see cref="Nb201Skeleton"/>) with NACHOS early
/// exits after chosen cells: each exit is an <see cref="ExitClassifier"/> whose max-pooling is chosen so that leaving at an exit
/// costs fewer MACs than leaving at the next (<see cref="Nb201EarlyExitCostModel.PoolKernels"/>). The final exit is the benchmark's
/// classifier head with confidence 1; <c>forward</c> returns its logits, so without exits this is <see cref="Nb201Network"/>.
/// </summary>
public sealed class Nb201EarlyExitNetwork : nn.Module<Tensor, Tensor>, IEarlyExitNetwork
{
    private readonly Stem stem;
    private readonly ModuleList<nn.Module<Tensor, Tensor>> layers;
    private readonly ClassifierHead head;
    private readonly ModuleList<ExitClassifier> exits;
    private readonly int[] segmentEnds; // last layer index (inclusive) of each segment
    private readonly int classes;

    /// <summary>Builds the network (initial weights from torch's generator: seed it first for a reproducible network).</summary>
    /// <param name="genotype">The cell.</param>
    /// <param name="placement">Where the early exits are; its N must equal the options'.</param>
    /// <param name="options">Shape (C, N); null uses C = 16, N = 5.</param>
    /// <param name="dataset">Images and classes; null uses CIFAR-10.</param>
    /// <exception cref="ArgumentException">The placement's N differs from the options', or the shape is invalid.</exception>
    public Nb201EarlyExitNetwork(Nb201Genotype genotype, Nb201ExitPlacement placement, Nb201Options? options = null, DatasetInfo? dataset = null)
        : base(nameof(Nb201EarlyExitNetwork))
    {
        ArgumentNullException.ThrowIfNull(genotype);
        ArgumentNullException.ThrowIfNull(placement);
        var o = (options ?? new Nb201Options()).Clone();
        var d = dataset ?? DatasetInfo.Cifar10;
        if (placement.CellsPerStage != o.CellsPerStage)
            throw new ArgumentException($"The placement is for N = {placement.CellsPerStage} but the network has N = {o.CellsPerStage}.", nameof(placement));
        var costs = new Nb201EarlyExitCostModel(o, d);
        Genotype = genotype;
        Placement = placement;
        classes = d.ClassCount;
        (stem, layers, head) = Nb201Skeleton.Build(o.Channels, o.CellsPerStage, d, channels => new Nb201Cell(genotype, channels));
        var kernels = costs.PoolKernels(genotype, placement);
        exits = new ModuleList<ExitClassifier>();
        for (int i = 0; i < kernels.Length; i++)
        {
            int cell = placement.Cells[i];
            var (h, w) = costs.SizeAt(cell);
            exits.Add(new ExitClassifier(costs.ChannelsAt(cell), h, w, d.ClassCount, kernels[i]));
        }
        int n = o.CellsPerStage;
        segmentEnds = [.. placement.Cells.Select(cell => cell + cell / n), layers.Count - 1];
        PoolKernels = kernels;
        ExpectedCumulativeMultiplyAccumulates = costs.CumulativeCosts(genotype, placement);
        RegisterComponents();
    }

    /// <summary>The cell.</summary>
    public Nb201Genotype Genotype { get; }

    /// <summary>Where the early exits are.</summary>
    public Nb201ExitPlacement Placement { get; }

    /// <summary>The max-pool kernel of each early exit.</summary>
    public IReadOnlyList<int> PoolKernels { get; }

    /// <summary>The closed-form cost of leaving at each exit (<see cref="Nb201EarlyExitCostModel.CumulativeCosts"/>); <see cref="EarlyExitCosts.Measure"/> measures the same with hooks.</summary>
    public IReadOnlyList<long> ExpectedCumulativeMultiplyAccumulates { get; }

    /// <inheritdoc />
    public int ExitCount => segmentEnds.Length;

    /// <inheritdoc />
    public int ClassCount => classes;

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => Nb201Skeleton.Forward(stem, layers, head, input);

    /// <inheritdoc />
    public Tensor ForwardSegment(int segment, Tensor input)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(segment);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(segment, segmentEnds.Length);
        ArgumentNullException.ThrowIfNull(input);
        int first = segment == 0 ? 0 : segmentEnds[segment - 1] + 1;
        var x = segment == 0 ? stem.forward(input) : input;
        for (int l = first; l <= segmentEnds[segment]; l++)
        {
            var next = layers[l].forward(x);
            if (!ReferenceEquals(x, input)) x.Dispose(); // autograd keeps what it needs
            x = next;
        }
        return ReferenceEquals(x, input) ? input.alias() : x;
    }

    /// <inheritdoc />
    public ExitOutput ForwardExit(int exit, Tensor features)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(exit);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(exit, segmentEnds.Length);
        ArgumentNullException.ThrowIfNull(features);
        if (exit == segmentEnds.Length - 1)
        {
            var logits = head.forward(features);
            return new ExitOutput(logits, torch.ones(features.shape[0], dtype: logits.dtype, device: logits.device));
        }
        using var raw = exits[exit].forward(features);
        return new ExitOutput(raw.narrow(1, 0, classes), raw.select(1, classes).sigmoid());
    }

    /// <inheritdoc />
    public IEnumerable<Parameter> BackboneParameters() => stem.parameters().Concat(layers.parameters());

    /// <inheritdoc />
    public IEnumerable<Parameter> ExitParameters(int exit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(exit);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(exit, segmentEnds.Length);
        return exit == segmentEnds.Length - 1 ? head.parameters() : exits[exit].parameters();
    }

    /// <inheritdoc />
    public void SetModes(bool backboneTraining, bool exitsTraining)
    {
        train(exitsTraining);
        stem.train(backboneTraining);
        layers.train(backboneTraining);
    }
}
