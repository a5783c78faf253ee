using NasFlatness.Genotypes;
using NasFlatness.SearchSpaces.Operations;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.CustomSpace;

/// <summary>Builds the tiny space's candidate operations from the library's public building blocks.</summary>
internal static class TinyOperations
{
    /// <summary>Operation <paramref name="op"/> for C channels; search cells use affine-free BatchNorms.</summary>
    public static nn.Module<Tensor, Tensor> Create(int op, long channels, bool affine) => op switch
    {
        0 => new SkipConnect(),
        1 => new ReluConvBn(channels, channels, kernel: 3, stride: 1, padding: 1, dilation: 1, affine, trackRunningStats: true),
        2 => new AvgPool3x3(stride: 1),
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    /// <summary>Source node of each edge (1←0, 2←0, 2←1).</summary>
    public static readonly int[] Source = [0, 0, 1];

    /// <summary>Target node of each edge.</summary>
    public static readonly int[] Target = [1, 2, 2];
}

/// <summary>The tiny supernet: every edge mixes the three operations with the mixing weights of the search's activation.</summary>
public sealed class TinySupernet : Supernet
{
    private readonly Stem stem;
    private readonly ModuleList<ModuleList<nn.Module<Tensor, Tensor>>> cells;
    private readonly ClassifierHead head;
    private readonly Parameter alpha;

    internal TinySupernet(TinySearchSpaceOptions options, DatasetInfo dataset) : base(nameof(TinySupernet))
    {
        stem = new Stem(dataset.Channels, options.Channels);
        cells = new ModuleList<ModuleList<nn.Module<Tensor, Tensor>>>();
        for (int c = 0; c < options.Cells; c++)
        {
            var ops = new ModuleList<nn.Module<Tensor, Tensor>>();
            for (int e = 0; e < TinyGenotype.EdgeCount; e++)
                for (int o = 0; o < TinyGenotype.OperationNames.Count; o++) ops.Add(TinyOperations.Create(o, options.Channels, affine: false));
            cells.Add(ops);
        }
        head = new ClassifierHead(options.Channels, dataset.ClassCount);
        alpha = nn.Parameter(torch.randn(TinyGenotype.EdgeCount, TinyGenotype.OperationNames.Count).mul_(1e-3));
        RegisterComponents();
    }

    /// <inheritdoc />
    public override IReadOnlyList<Parameter> ArchitectureParameters() => [alpha];

    /// <inheritdoc />
    public override Tensor Forward(Tensor input, IReadOnlyList<Tensor> architecture, IArchitectureActivation activation)
    {
        var weights = activation.Activate(architecture[0]); // [3 edges, 3 ops]
        int opCount = TinyGenotype.OperationNames.Count;
        var x = stem.call(input);
        foreach (var ops in cells)
        {
            var nodes = new Tensor?[3];
            nodes[0] = x;
            for (int e = 0; e < TinyGenotype.EdgeCount; e++)
            {
                Tensor? mixed = null;
                for (int o = 0; o < opCount; o++)
                {
                    using var y = ops[e * opCount + o].call(nodes[TinyOperations.Source[e]]!);
                    Sums.Accumulate(ref mixed, y * weights[e, o]);
                }
                Sums.Accumulate(ref nodes[TinyOperations.Target[e]], mixed!);
            }
            x.Dispose();
            nodes[1]!.Dispose();
            x = nodes[2]!;
        }
        using (x) return head.call(x);
    }

    /// <inheritdoc />
    public override Genotype DeriveGenotype(IReadOnlyList<Tensor> architecture, IArchitectureActivation activation)
    {
        using var best = architecture[0].detach().argmax(-1).cpu();
        return new TinyGenotype(best.data<long>().Select(v => (int)v).ToArray());
    }
}

/// <summary>The discrete network of a tiny genotype (affine BatchNorms).</summary>
public sealed class TinyNetwork : nn.Module<Tensor, Tensor>
{
    private readonly Stem stem;
    private readonly ModuleList<ModuleList<nn.Module<Tensor, Tensor>>> cells;
    private readonly ClassifierHead head;

    internal TinyNetwork(TinyGenotype genotype, TinySearchSpaceOptions options, DatasetInfo dataset) : base(nameof(TinyNetwork))
    {
        stem = new Stem(dataset.Channels, options.Channels);
        cells = new ModuleList<ModuleList<nn.Module<Tensor, Tensor>>>();
        for (int c = 0; c < options.Cells; c++)
        {
            var ops = new ModuleList<nn.Module<Tensor, Tensor>>();
            foreach (var op in genotype.Operations) ops.Add(TinyOperations.Create(op, options.Channels, affine: true));
            cells.Add(ops);
        }
        head = new ClassifierHead(options.Channels, dataset.ClassCount);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        var x = stem.call(input);
        foreach (var ops in cells)
        {
            var nodes = new Tensor?[3];
            nodes[0] = x;
            for (int e = 0; e < TinyGenotype.EdgeCount; e++)
                Sums.Accumulate(ref nodes[TinyOperations.Target[e]], ops[e].call(nodes[TinyOperations.Source[e]]!));
            x.Dispose();
            nodes[1]!.Dispose();
            x = nodes[2]!;
        }
        using (x) return head.call(x);
    }
}
