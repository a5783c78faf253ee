using NasFlatness.Genotypes;
using NasFlatness.SearchSpaces.Operations;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using NasFlatness.Advanced;

namespace NasFlatness.SearchSpaces.ZoDartsPlusPlus;

/// <summary>
/// The ZO-DARTS++ size-variable supernet: stem, three stages of N search cells separated by residual reduction blocks, classifier;
/// α [18, 5] (operations <c>none, skip_connect, nor_conv_1x1, kernel_variable_conv, avg_pool_3x3</c>). From
/// <see cref="ZoDartsPlusPlusOptions.SwitchEpoch"/> on, α_mix [18, 3] mixes the kernel sizes and α_exit [3, N] the stage depths;
/// before it both are inactive (<see cref="IsArchitectureTensorActive"/>) and the network is the largest one. The switch is a
/// buffer, so clones and checkpoints keep it. Structure and departures from the code: docs/methods-zo.md.
/// </summary>
public sealed class ZoDartsPlusPlusSupernet : Supernet, IParameterBudgetModel
{
    private readonly Stem stem;
    private readonly ModuleList<ZoDartsPlusPlusSearchCell> cells;
    private readonly ModuleList<ResNetBasicBlock> reductions;
    private readonly ClassifierHead head;
    private readonly Parameter alpha;
    private readonly Parameter alpha_mix;
    private readonly Parameter alpha_exit;
    private readonly Tensor switched;
    private readonly ZoDartsPlusPlusOptions options;
    private readonly DatasetInfo dataset;

    internal ZoDartsPlusPlusSupernet(ZoDartsPlusPlusOptions options, DatasetInfo dataset) : base(nameof(ZoDartsPlusPlusSupernet))
    {
        this.options = options.Clone();
        this.dataset = dataset;
        ResourceModel = new ZoDartsPlusPlusResourceModel(options, dataset);
        long c = options.Channels;
        stem = new Stem(dataset.Channels, c);
        cells = new ModuleList<ZoDartsPlusPlusSearchCell>();
        reductions = new ModuleList<ResNetBasicBlock>();
        for (int s = 0; s < ZoDartsPlusPlusGenotype.StageCount; s++)
        {
            long width = c << s;
            if (s > 0) reductions.Add(new ResNetBasicBlock(width / 2, width));
            for (int i = 0; i < options.CellsPerStage; i++) cells.Add(new ZoDartsPlusPlusSearchCell(width, options.TrackRunningStats));
        }
        head = new ClassifierHead(4 * c, dataset.ClassCount);
        alpha = nn.Parameter(torch.randn(ZoDartsPlusPlusGenotype.StageCount * ZoDartsPlusPlusGenotype.EdgeCount, ZoDartsPlusPlusGenotype.OperationNames.Length).mul_(1e-3));
        alpha_mix = nn.Parameter(torch.randn(ZoDartsPlusPlusGenotype.StageCount * ZoDartsPlusPlusGenotype.EdgeCount, ZoDartsPlusPlusGenotype.KernelSizes.Length).mul_(1e-3));
        alpha_exit = nn.Parameter(torch.randn(ZoDartsPlusPlusGenotype.StageCount, options.CellsPerStage).mul_(1e-3));
        switched = torch.zeros(1);
        RegisterComponents();
        TorchRuntime.EnsureCorrectCpuKernels(this);
    }

    /// <summary>α, shape [18, 5] (3 stages × 6 edges, operations).</summary>
    public Parameter Alpha => alpha;

    /// <summary>α_mix, shape [18, 3] over the kernels 7, 5, 3 (active from the switch epoch).</summary>
    public Parameter AlphaMix => alpha_mix;

    /// <summary>α_exit, shape [3, N] over "1..N cells in this stage" (active from the switch epoch).</summary>
    public Parameter AlphaExit => alpha_exit;

    /// <summary>Whether the kernel and depth mixtures are on (the switch epoch has started).</summary>
    public bool Switched => switched.item<float>() != 0;

    /// <summary>The parameter-count model of this supernet's evaluation networks.</summary>
    public ZoDartsPlusPlusResourceModel ResourceModel { get; }

    /// <summary>The options (a copy).</summary>
    public ZoDartsPlusPlusOptions Options => options.Clone();

    /// <inheritdoc />
    public override IReadOnlyList<Parameter> ArchitectureParameters() => [alpha, alpha_mix, alpha_exit];

    /// <inheritdoc />
    public override bool IsArchitectureTensorActive(int index) => index == 0 || Switched;

    /// <summary>Turns the kernel and depth mixtures on at <see cref="ZoDartsPlusPlusOptions.SwitchEpoch"/> (once; the 5×5 and 3×3 kernels inherit the 7×7 centre).</summary>
    public override void OnEpochStarting(EpochStart epoch)
    {
        ArgumentNullException.ThrowIfNull(epoch);
        if (epoch.Clock.Epoch >= options.SwitchEpoch && !Switched) Switch();
    }

    /// <summary>Turns the kernel and depth mixtures on now (the runner does it at the switch epoch); the 5×5 and 3×3 kernels inherit the 7×7 centre.</summary>
    public void Switch()
    {
        using var noGrad = torch.no_grad();
        foreach (var cell in cells) cell.InheritKernels();
        switched.fill_(1);
    }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input, IReadOnlyList<Tensor> architecture, IArchitectureActivation activation)
    {
        var (a, m, x) = Check(architecture);
        ArgumentNullException.ThrowIfNull(activation);
        bool on = Switched;
        var p = activation.Activate(a);
        var mix = on ? activation.Activate(m) : null;
        var exit = on ? activation.Activate(x) : null;
        var feature = stem.forward(input);
        int n = options.CellsPerStage;
        for (int s = 0; s < ZoDartsPlusPlusGenotype.StageCount; s++)
        {
            if (s > 0)
            {
                var reduced = reductions[s - 1].forward(feature);
                feature.Dispose();
                feature = reduced;
            }
            var ps = p.narrow(0, s * ZoDartsPlusPlusGenotype.EdgeCount, ZoDartsPlusPlusGenotype.EdgeCount);
            var ms = mix?.narrow(0, s * ZoDartsPlusPlusGenotype.EdgeCount, ZoDartsPlusPlusGenotype.EdgeCount);
            Tensor? stage = null;
            for (int i = 0; i < n; i++)
            {
                var next = cells[s * n + i].Forward(feature, ps, ms);
                if (exit is not null)
                {
                    var weighted = next * exit[s, i];
                    Sums.Accumulate(ref stage, weighted);
                }
                feature.Dispose();
                feature = next;
            }
            if (stage is not null)
            {
                feature.Dispose();
                feature = stage;
            }
        }
        using (feature) return head.forward(feature);
    }

    private (Tensor A, Tensor Mix, Tensor Exit) Check(IReadOnlyList<Tensor> architecture)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        if (architecture.Count != 3)
            throw new ArgumentException($"The varied supernet takes three architecture tensors (α [18, 5], α_mix [18, 3], α_exit [3, {options.CellsPerStage}]), got {architecture.Count}.", nameof(architecture));
        for (int i = 0; i < 3; i++)
        {
            var expected = ArchitectureParameters()[i].shape;
            if (!architecture[i].shape.SequenceEqual(expected))
                throw new ArgumentException($"Architecture tensor {i} must have shape [{string.Join(", ", expected)}], got [{string.Join(", ", architecture[i].shape)}].", nameof(architecture));
        }
        return (architecture[0], architecture[1], architecture[2]);
    }

    /// <inheritdoc />
    public override Genotype DeriveGenotype(IReadOnlyList<Tensor> architecture, IArchitectureActivation activation)
    {
        var (a, m, x) = Check(architecture);
        ArgumentNullException.ThrowIfNull(activation);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        bool on = Switched;
        static double[][] Rows(Tensor t)
        {
            using var cpu = t.detach().to(float64).cpu().contiguous();
            var values = cpu.data<double>().ToArray();
            int cols = (int)t.shape[1];
            return Enumerable.Range(0, (int)t.shape[0]).Select(r => values.AsSpan(r * cols, cols).ToArray()).ToArray();
        }
        bool sample = options.Derivation == VariedDerivation.Sampled;
        var ops = Rows(sample ? activation.Activate(a.detach()) : a);
        var mixes = on ? Rows(sample ? activation.Activate(m.detach()) : m) : null;
        var exits = on ? Rows(sample ? activation.Activate(x.detach()) : x) : null;
        return sample ? Sample(ops, mixes, exits, new Random(options.DerivationSeed), options.CellsPerStage)
                      : Choose(ops, mixes, exits, options.CellsPerStage);
    }

    /// <summary>The argmax genotype (ties to the lower column); without the mixtures, 7×7 kernels and <paramref name="cellsPerStage"/> cells.</summary>
    internal static ZoDartsPlusPlusGenotype Choose(double[][] ops, double[][]? mixes, double[][]? exits, int cellsPerStage) =>
        Build(ops, mixes, exits, cellsPerStage, Argmax);

    /// <summary>
    /// The sampled genotype: every edge's operation from its row of p, then every kernel-variable edge's kernel from its row of the
    /// kernel mixture, then every stage's cell count from its row of the exit mixture (the code's order); without the mixtures,
    /// 7×7 kernels and <paramref name="cellsPerStage"/> cells.
    /// </summary>
    internal static ZoDartsPlusPlusGenotype Sample(double[][] ops, double[][]? mixes, double[][]? exits, Random random, int cellsPerStage) =>
        Build(ops, mixes, exits, cellsPerStage, row => Draw(row, random));

    private static ZoDartsPlusPlusGenotype Build(double[][] ops, double[][]? mixes, double[][]? exits, int cellsPerStage, Func<double[], int> pick)
    {
        var op = ops.Select(pick).ToArray();
        var kernels = new int[op.Length];
        for (int i = 0; i < op.Length; i++)
            if (op[i] == ZoDartsPlusPlusGenotype.KernelVariable)
                kernels[i] = mixes is null ? ZoDartsPlusPlusGenotype.KernelSizes[0] : ZoDartsPlusPlusGenotype.KernelSizes[pick(mixes[i])];
        var cells = exits is null ? [cellsPerStage, cellsPerStage, cellsPerStage] : exits.Select(r => pick(r) + 1).ToArray();
        return new ZoDartsPlusPlusGenotype(op, kernels, cells);
    }

    private static int Argmax(double[] row)
    {
        int best = 0;
        for (int j = 1; j < row.Length; j++) if (row[j] > row[best]) best = j;
        return best;
    }

    private static int Draw(double[] p, Random random)
    {
        double total = 0;
        foreach (var v in p) total += Math.Max(v, 0);
        if (!(total > 0)) return Argmax(p);
        double u = random.NextDouble() * total, cumulative = 0;
        int last = 0;
        for (int j = 0; j < p.Length; j++)
        {
            if (p[j] <= 0) continue;
            last = j;
            cumulative += p[j];
            if (u < cumulative) return j;
        }
        return last;
    }

    /// <inheritdoc />
    public Tensor ExpectedParameters(IReadOnlyList<Tensor> mixingWeights)
    {
        ArgumentNullException.ThrowIfNull(mixingWeights);
        if (mixingWeights.Count != 3) throw new ArgumentException($"Three mixing-weight tensors are expected, got {mixingWeights.Count}.", nameof(mixingWeights));
        return ResourceModel.ExpectedParameters(mixingWeights[0], mixingWeights[1], mixingWeights[2]);
    }

    /// <inheritdoc />
    public (double Lower, double Upper) ParameterBudget(ParameterBudgetSize size) => ResourceModel.Budget(size);

    /// <inheritdoc />
    protected override Supernet CreateEmptyCopy() => new ZoDartsPlusPlusSupernet(options, dataset);
}

/// <summary>
/// A search cell of the varied space: every edge mixes skip, ReLU-Conv1×1-BN, the kernel-variable ReLU-Conv{7,5,3}-BN and the
/// 3×3 average pool with its row of p (<c>none</c> contributes zeros and is skipped). Affine-free BatchNorms.
/// </summary>
internal sealed class ZoDartsPlusPlusSearchCell : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<ReluConvBn> conv1x1 = new();
    private readonly ModuleList<ReluConvBn> conv7 = new();
    private readonly ModuleList<ReluConvBn> conv5 = new();
    private readonly ModuleList<ReluConvBn> conv3 = new();

    public ZoDartsPlusPlusSearchCell(long channels, bool trackRunningStats) : base(nameof(ZoDartsPlusPlusSearchCell))
    {
        for (int e = 0; e < ZoDartsPlusPlusGenotype.EdgeCount; e++)
        {
            conv1x1.Add(new ReluConvBn(channels, channels, 1, 1, 0, 1, affine: false, trackRunningStats));
            conv7.Add(new ReluConvBn(channels, channels, 7, 1, 3, 1, affine: false, trackRunningStats));
            conv5.Add(new ReluConvBn(channels, channels, 5, 1, 2, 1, affine: false, trackRunningStats));
            conv3.Add(new ReluConvBn(channels, channels, 3, 1, 1, 1, affine: false, trackRunningStats));
        }
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) =>
        throw new InvalidOperationException("A search cell needs the mixing weights; call Forward(input, p, mix).");

    /// <summary>Copies the centre 5×5 and 3×3 of every 7×7 kernel into the 5×5 and 3×3 convolutions.</summary>
    public void InheritKernels()
    {
        for (int e = 0; e < ZoDartsPlusPlusGenotype.EdgeCount; e++)
        {
            var w7 = conv7[e].ConvolutionWeight;
            conv5[e].ConvolutionWeight.copy_(w7[.., .., 1..6, 1..6]);
            conv3[e].ConvolutionWeight.copy_(w7[.., .., 2..5, 2..5]);
        }
    }

    /// <summary>Runs the cell with the stage's mixing weights p [6, 5] and kernel mixture [6, 3] (null before the switch: 7×7 only).</summary>
    public Tensor Forward(Tensor input, Tensor p, Tensor? mix)
    {
        var nodes = new Tensor[ZoDartsPlusPlusGenotype.NodeCount];
        nodes[0] = input;
        int e = 0;
        for (int node = 1; node < ZoDartsPlusPlusGenotype.NodeCount; node++)
        {
            Tensor? sum = null;
            for (int src = 0; src < node; src++, e++)
            {
                var x = nodes[src];
                Sums.Accumulate(ref sum, x * p[e, ZoDartsPlusPlusGenotype.Skip]);
                Sums.Accumulate(ref sum, conv1x1[e].forward(x) * p[e, ZoDartsPlusPlusGenotype.Conv1x1]);
                Tensor variable = mix is null
                    ? conv7[e].forward(x)
                    : conv7[e].forward(x) * mix[e, 0] + conv5[e].forward(x) * mix[e, 1] + conv3[e].forward(x) * mix[e, 2];
                Sums.Accumulate(ref sum, variable * p[e, ZoDartsPlusPlusGenotype.KernelVariable]);
                Sums.Accumulate(ref sum, AvgPool3x3.StrideOne(x) * p[e, ZoDartsPlusPlusGenotype.AvgPool]);
            }
            nodes[node] = sum!;
        }
        return nodes[^1];
    }
}
