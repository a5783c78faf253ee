using NasFlatness.Genotypes;
using NasFlatness.SearchSpaces.Darts;
using NasFlatness.SearchSpaces.Nb201;
using NasFlatness.MultiObjective.Nachos;
using NasFlatness.SearchSpaces.ZoDartsPlusPlus;
using NasFlatness.SearchSpaces.Operations;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.Onnx;

/// <summary>
/// The exporters of the library's networks and public building blocks, and of the TorchSharp layers they use. Each writes the
/// nodes of the module's eval-mode <c>forward</c> (see the module's own code): submodules are found by their registered names
/// (the names its weights are saved under), the wiring of a cell from the network's genotype.
/// </summary>
internal static class BuiltInExporters
{
    public static bool TryExport(OnnxGraphBuilder g, nn.Module module, string x, out string output)
    {
        output = module switch
        {
            Nb201Network or ZoDartsPlusPlusNetwork or Nb201EarlyExitNetwork => Nb201Shaped(g, module, x),
            DartsNetwork darts => Darts(g, darts, x),
            Stem => g.Conv(Conv(module, "conv"), x, Bn(module, "bn")),
            ReluConvBn => g.Conv(Conv(module, "conv"), g.Relu(x), Bn(module, "bn")),
            SkipConnect or Identity or Dropout => g.Node("Identity", [x]),
            AvgPool3x3 pool => g.Node("AveragePool", [x], OnnxAttribute.Ints("kernel_shape", 3, 3), OnnxAttribute.Ints("strides", Stride(pool), Stride(pool)),
                OnnxAttribute.Ints("pads", 1, 1, 1, 1), OnnxAttribute.Int("count_include_pad", 0)),
            MaxPool3x3 pool => g.Node("MaxPool", [x], OnnxAttribute.Ints("kernel_shape", 3, 3), OnnxAttribute.Ints("strides", Stride(pool), Stride(pool)),
                OnnxAttribute.Ints("pads", 1, 1, 1, 1)),
            Zero zero => ZeroOp(g, zero, x),
            ResNetBasicBlock => ResNetBlock(g, module, x),
            ClassifierHead => g.Linear(Child<Linear>(module, "classifier"), g.SpatialMean(g.Relu(g.BatchNorm(Bn(module, "bn"), x)))),
            SepConv => SeparableConv(g, module, x),
            DilConv => g.Conv(Conv(module, "pointwise"), g.Conv(Conv(module, "depthwise"), g.Relu(x)), Bn(module, "bn")),
            FactorizedReduce => Factorized(g, module, x),
            PoolBn => g.BatchNorm(Bn(module, "bn"), g.Child(module, "pool", x)),
            ExitClassifier exit => ExitHead(g, exit, x),
            Sequential => SequentialChain(g, module, x),
            Conv2d conv => g.Conv(conv, x),
            BatchNorm2d bn => g.BatchNorm(bn, x),
            Linear linear => g.Linear(linear, x),
            ReLU => g.Relu(x),
            _ => "",
        };
        return output.Length > 0;
    }

    /// <summary>The NAS-Bench-201 macro skeleton (stem, layers, head): Nb201Network, the ZO-DARTS++ space's network, and the final exit of an early-exit network.</summary>
    private static string Nb201Shaped(OnnxGraphBuilder g, nn.Module network, string x)
    {
        var features = Nb201Features(g, network, x);
        return g.Child(network, "head", features[^1]);
    }

    /// <summary>Stem and layers; returns the output of every layer (the stem's output first).</summary>
    internal static List<string> Nb201Features(OnnxGraphBuilder g, nn.Module network, string x)
    {
        var outputs = new List<string> { g.Child(network, "stem", x) };
        int stage = 0;
        foreach (var layer in OnnxGraphBuilder.Children(OnnxGraphBuilder.ChildModule(network, "layers")))
        {
            var input = outputs[^1];
            if (layer is ResNetBasicBlock) stage++;
            bool cell = layer is not IOnnxExportable && layer.named_children().Any(c => c.name == "ops");
            if (!cell)
            {
                outputs.Add(g.Module(layer, input));
                continue;
            }
            IReadOnlyList<bool> none = network switch
            {
                Nb201Network n => n.Genotype.Operations.Select(IsNb201None).ToArray(),
                Nb201EarlyExitNetwork n => n.Genotype.Operations.Select(IsNb201None).ToArray(),
                ZoDartsPlusPlusNetwork n => Enumerable.Range(stage * ZoDartsPlusPlusGenotype.EdgeCount, ZoDartsPlusPlusGenotype.EdgeCount)
                    .Select(i => n.Genotype.Operations[i] == ZoDartsPlusPlusGenotype.None).ToArray(),
                _ => throw new InvalidOperationException($"Unexpected network {network.GetType().Name}."),
            };
            outputs.Add(Nb201Cell(g, layer, none, input));
        }
        return outputs;
    }

    private static bool IsNb201None(int op) => Nb201Genotype.OperationNames[op] == "none";

    /// <summary>A discrete NAS-Bench-201 cell: node j = Σ_{i&lt;j} op_{j←i}(node i) over the edges in genotype order, none edges left out; a node without inputs is zeros.</summary>
    private static string Nb201Cell(OnnxGraphBuilder g, nn.Module cell, IReadOnlyList<bool> none, string x)
    {
        var ops = OnnxGraphBuilder.Children(OnnxGraphBuilder.ChildModule(cell, "ops"));
        var nodes = new string[Nb201Genotype.NodeCount];
        nodes[0] = x;
        int e = 0;
        for (int node = 1; node < Nb201Genotype.NodeCount; node++)
        {
            string? sum = null;
            for (int src = 0; src < node; src++, e++)
            {
                if (none[e]) continue;
                var term = g.Module(ops[e], nodes[src]);
                sum = sum is null ? term : g.Add(sum, term);
            }
            nodes[node] = sum ?? g.ZerosLike(x);
        }
        return nodes[^1];
    }

    /// <summary>The DARTS evaluation network in eval mode (CIFAR shape; no auxiliary head, no drop-path).</summary>
    private static string Darts(OnnxGraphBuilder g, DartsNetwork network, string x)
    {
        if (network.Kind != DartsNetworkKind.Cifar)
            throw new NotSupportedException("DARTS ImageNet-shaped networks (two stride-2 stems) are not exportable yet; the CIFAR-shaped DARTS network is.");
        string s0 = g.Child(network, "stem0", x), s1 = s0;
        var cells = OnnxGraphBuilder.Children(OnnxGraphBuilder.ChildModule(network, "cells"));
        for (int i = 0; i < cells.Count; i++)
        {
            bool reduction = DartsSupernet.IsReduction(i, cells.Count);
            var next = DartsCell(g, cells[i], network.Genotype, reduction, s0, s1);
            s0 = s1;
            s1 = next;
        }
        return g.Linear(Child<Linear>(network, "classifier"), g.SpatialMean(s1));
    }

    private static string DartsCell(OnnxGraphBuilder g, nn.Module cell, DartsGenotype genotype, bool reduction, string s0, string s1)
    {
        var edges = genotype.Cell(reduction);
        var concat = reduction ? genotype.ReduceConcat : genotype.NormalConcat;
        var ops = OnnxGraphBuilder.Children(OnnxGraphBuilder.ChildModule(cell, "ops"));
        var states = new List<string> { g.Child(cell, "preprocess0", s0), g.Child(cell, "preprocess1", s1) };
        for (int node = 0; node < DartsGenotype.NodeCount; node++)
        {
            var h1 = g.Module(ops[2 * node], states[edges[2 * node].Input]);
            var h2 = g.Module(ops[2 * node + 1], states[edges[2 * node + 1].Input]);
            states.Add(g.Add(h1, h2));
        }
        return g.Concat(concat.Select(i => states[i]).ToArray());
    }

    private static string ResNetBlock(OnnxGraphBuilder g, nn.Module block, string x)
    {
        var pooled = g.Node("AveragePool", [x], OnnxAttribute.Ints("kernel_shape", 2, 2), OnnxAttribute.Ints("strides", 2, 2));
        var residual = g.Conv(Conv(block, "shortcut"), pooled);
        var a = g.Child(block, "a", x);
        var b = g.Child(block, "b", a);
        return g.Add(residual, b);
    }

    private static string SeparableConv(OnnxGraphBuilder g, nn.Module op, string x)
    {
        var first = g.Conv(Conv(op, "pointwise1"), g.Conv(Conv(op, "depthwise1"), g.Relu(x)), Bn(op, "bn1"));
        return g.Conv(Conv(op, "pointwise2"), g.Conv(Conv(op, "depthwise2"), g.Relu(first)), Bn(op, "bn2"));
    }

    /// <summary>ReLU → [conv1(x), conv2(x[:, :, 1:, 1:])] → BN; folded, each half of the BN goes into its convolution.</summary>
    private static string Factorized(OnnxGraphBuilder g, nn.Module op, string x)
    {
        Conv2d conv1 = Conv(op, "conv1"), conv2 = Conv(op, "conv2");
        var bn = Bn(op, "bn");
        var r = g.Relu(x);
        var shifted = g.Node("Slice", [r, g.Int64s("starts", 1, 1), g.Int64s("ends", long.MaxValue, long.MaxValue), g.Int64s("axes", 2, 3)]);
        if (!g.FoldBatchNorm) return g.BatchNorm(bn, g.Concat([g.Conv(conv1, r), g.Conv(conv2, shifted)]));
        using var scope = torch.NewDisposeScope();
        var (scale, shift) = OnnxGraphBuilder.BatchNormScaleShift(bn);
        long half = conv1.out_channels;
        var a = g.ScaledConv(conv1, r, scale.narrow(0, 0, half), shift.narrow(0, 0, half));
        var b = g.ScaledConv(conv2, shifted, scale.narrow(0, half, half), shift.narrow(0, half, half));
        return g.Concat([a, b]);
    }

    /// <summary>x·0 (a strided subsample first when the stride is 2), exactly as the module computes it.</summary>
    private static string ZeroOp(OnnxGraphBuilder g, Zero zero, string x)
    {
        long stride = Stride(zero);
        var input = stride == 1 ? x
            : g.Node("Slice", [x, g.Int64s("starts", 0, 0), g.Int64s("ends", long.MaxValue, long.MaxValue), g.Int64s("axes", 2, 3), g.Int64s("steps", stride, stride)]);
        return g.Node("Mul", [input, g.Floats([0f], [], "zero")]);
    }

    /// <summary>[MaxPool(k)] → ReLU → conv1 → ReLU → conv2 → ReLU → conv3 → ReLU → flatten → ReLU → Linear (classes + 1 outputs).</summary>
    private static string ExitHead(OnnxGraphBuilder g, ExitClassifier exit, string x)
    {
        var h = exit.Pool > 1
            ? g.Node("MaxPool", [x], OnnxAttribute.Ints("kernel_shape", exit.Pool, exit.Pool), OnnxAttribute.Ints("strides", exit.Pool, exit.Pool))
            : x;
        foreach (var name in new[] { "conv1", "conv2", "conv3" }) h = g.Conv(Conv(exit, name), g.Relu(h));
        var flat = g.Relu(g.Node("Flatten", [g.Relu(h)], OnnxAttribute.Int("axis", 1)));
        return g.Linear(Child<Linear>(exit, "linear"), flat);
    }

    /// <summary>The children in order; a Conv2d directly followed by a BatchNorm2d gets it folded.</summary>
    private static string SequentialChain(OnnxGraphBuilder g, nn.Module sequential, string x)
    {
        var children = OnnxGraphBuilder.Children(sequential);
        for (int i = 0; i < children.Count; i++)
        {
            if (children[i] is Conv2d conv && i + 1 < children.Count && children[i + 1] is BatchNorm2d bn)
            {
                x = g.Conv(conv, x, bn);
                i++;
            }
            else
            {
                x = g.Module(children[i], x);
            }
        }
        return x;
    }

    /// <summary>
    /// The stride (1 or 2) of a parameter-free pooling or zero operation, which the module keeps private: read from its output
    /// size on a 12×12 input (12 for stride 1, 6 for stride 2).
    /// </summary>
    private static long Stride(nn.Module<Tensor, Tensor> module)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var y = module.forward(torch.zeros(1, 1, 12, 12));
        long size = y.shape[^1];
        return size switch
        {
            12 => 1,
            6 => 2,
            _ => throw new NotSupportedException($"{module.GetType().Name} maps a 12×12 input to {size}×{size}: only strides 1 and 2 are exportable."),
        };
    }

    private static Conv2d Conv(nn.Module parent, string name) => Child<Conv2d>(parent, name);

    private static BatchNorm2d Bn(nn.Module parent, string name) => Child<BatchNorm2d>(parent, name);

    private static T Child<T>(nn.Module parent, string name) where T : nn.Module =>
        OnnxGraphBuilder.ChildModule(parent, name) as T
        ?? throw new InvalidOperationException($"{parent.GetType().Name}.{name} is not a {typeof(T).Name}; the exporter does not match this version of the module.");
}
