using System.Globalization;
using Google.Protobuf;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.Onnx;

/// <summary>
/// Builds the ONNX graph of one export: adds nodes and weights (initializers) with unique names derived from the module
/// path (<c>layers.3.ops.1.conv.weight</c>). Modules call it from <see cref="IOnnxExportable.ExportOnnx"/>; every method
/// returns the name of the value it produces. Weights are copied as float32 from the modules' eval-mode state.
/// </summary>
public sealed class OnnxGraphBuilder
{
    private readonly global::Onnx.GraphProto _graph = new();
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<nn.Module, string> _paths = new(ReferenceEqualityComparer.Instance);
    private readonly OnnxExportOptions _options;
    private readonly Stack<string> _scope = new();

    internal OnnxGraphBuilder(nn.Module root, OnnxExportOptions options)
    {
        _options = options;
        _paths[root] = "";
        foreach (var (name, module) in root.named_modules()) _paths.TryAdd(module, name);
    }

    internal global::Onnx.GraphProto Graph => _graph;

    internal bool FoldBatchNorm => _options.FoldBatchNorm;

    /// <summary>Reserves a value name (unique in the graph) built from the current module path and <paramref name="hint"/>.</summary>
    public string NewName(string hint)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(hint);
        var prefix = _scope.Count > 0 && _scope.Peek().Length > 0 ? _scope.Peek() + "." : "";
        return Unique(prefix + hint);
    }

    private string Unique(string name)
    {
        var candidate = name;
        for (int i = 1; !_names.Add(candidate); i++) candidate = string.Create(CultureInfo.InvariantCulture, $"{name}_{i}");
        return candidate;
    }

    internal void Reserve(string name)
    {
        if (!_names.Add(name)) throw new InvalidOperationException($"The ONNX value name '{name}' is used twice.");
    }

    /// <summary>
    /// Exports <paramref name="module"/> on <paramref name="input"/>: an exporter registered for its type in
    /// <see cref="OnnxExportOptions.Exporters"/>, else its own <see cref="IOnnxExportable"/>, else the built-in exporter of a
    /// NasFlatness building block or TorchSharp layer.
    /// </summary>
    /// <exception cref="NotSupportedException">The module's type is not exportable; the message names it and how to make it exportable.</exception>
    public string Module(nn.Module module, string input)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentException.ThrowIfNullOrWhiteSpace(input);
        _scope.Push(_paths.TryGetValue(module, out var path) ? path : (_scope.Count > 0 ? _scope.Peek() : ""));
        try
        {
            if (_options.Exporters.TryGetValue(module.GetType(), out var exporter)) return exporter(this, module, input);
            if (module is IOnnxExportable exportable) return exportable.ExportOnnx(this, input);
            if (BuiltInExporters.TryExport(this, module, input, out var output)) return output;
            throw NotExportable(module);
        }
        finally
        {
            _scope.Pop();
        }
    }

    /// <summary>Exports the child named <paramref name="name"/> of <paramref name="parent"/> (see <see cref="Module"/>).</summary>
    public string Child(nn.Module parent, string name, string input) => Module(ChildModule(parent, name), input);

    /// <summary>The direct child named <paramref name="name"/> of <paramref name="parent"/> (its field name, or index in a list).</summary>
    /// <exception cref="InvalidOperationException">There is no such child.</exception>
    public static nn.Module ChildModule(nn.Module parent, string name)
    {
        ArgumentNullException.ThrowIfNull(parent);
        foreach (var (n, m) in parent.named_children())
            if (n == name) return m;
        throw new InvalidOperationException(
            $"{parent.GetType().Name} has no submodule '{name}' (it has: {string.Join(", ", parent.named_children().Select(c => c.name))}); the exporter does not match this version of the module.");
    }

    /// <summary>The direct children of <paramref name="parent"/> in registration order.</summary>
    public static IReadOnlyList<nn.Module> Children(nn.Module parent)
    {
        ArgumentNullException.ThrowIfNull(parent);
        return parent.named_children().Select(c => c.module).ToArray();
    }

    /// <summary>Adds one node with one output and returns the output's name.</summary>
    /// <param name="opType">ONNX operator of the default domain (e.g. <c>Relu</c>).</param>
    /// <param name="inputs">Input value names in the operator's order (an empty string leaves an optional input out).</param>
    /// <param name="attributes">The node's attributes.</param>
    public string Node(string opType, IReadOnlyList<string> inputs, params OnnxAttribute[] attributes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(opType);
        ArgumentNullException.ThrowIfNull(inputs);
        var output = NewName(opType.ToLowerInvariant());
        AddNode(opType, inputs, [output], attributes);
        return output;
    }

    internal void AddNode(string opType, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, IReadOnlyList<OnnxAttribute> attributes)
    {
        var node = new global::Onnx.NodeProto { OpType = opType, Name = outputs[0] + "/" + opType };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        foreach (var a in attributes ?? []) node.Attribute.Add(ToProto(a));
        _graph.Node.Add(node);
    }

    /// <summary>Adds a float32 weight (copied from <paramref name="value"/>, any device and type) and returns its name.</summary>
    public string Initializer(Tensor value, string nameHint) => Weight(value, NewName(nameHint));

    private string Weight(Tensor value, string name)
    {
        ArgumentNullException.ThrowIfNull(value);
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var cpu = value.detach().to(float32).cpu().contiguous();
        return AddInitializer(name, global::Onnx.TensorProto.Types.DataType.Float, cpu.shape,
            ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(cpu.data<float>().ToArray().AsSpan())));
    }

    /// <summary>Adds a float32 constant of the given shape and returns its name.</summary>
    public string Floats(float[] values, long[] shape, string nameHint)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Aggregate(1L, (a, b) => a * b) != values.Length) throw new ArgumentException("The shape does not match the number of values.", nameof(shape));
        return AddInitializer(NewName(nameHint), global::Onnx.TensorProto.Types.DataType.Float, shape,
            ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())));
    }

    /// <summary>Adds a 1-D int64 constant (shapes, axes, indices) and returns its name.</summary>
    public string Int64s(string nameHint, params long[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return AddInitializer(NewName(nameHint), global::Onnx.TensorProto.Types.DataType.Int64, [values.Length],
            ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())));
    }

    private string AddInitializer(string name, global::Onnx.TensorProto.Types.DataType type, long[] shape, ByteString raw)
    {
        var tensor = new global::Onnx.TensorProto { Name = name, DataType = (int)type, RawData = raw };
        tensor.Dims.AddRange(shape);
        _graph.Initializer.Add(tensor);
        return name;
    }

    /// <summary>
    /// A 2-D convolution with the layer's kernel, stride, padding, dilation and groups; with <paramref name="batchNorm"/> (the
    /// BatchNorm applied right after it) and <see cref="OnnxExportOptions.FoldBatchNorm"/>, the eval-mode BatchNorm is folded
    /// into the weight and bias (in float64, then rounded to float32); without folding it follows as its own node.
    /// </summary>
    public string Conv(Conv2d conv, string input, BatchNorm2d? batchNorm = null)
    {
        ArgumentNullException.ThrowIfNull(conv);
        if (batchNorm is null || !_options.FoldBatchNorm)
        {
            var output = ScaledConv(conv, input, null, null);
            return batchNorm is null ? output : BatchNorm(batchNorm, output);
        }
        using var scope = torch.NewDisposeScope();
        var (scale, shift) = BatchNormScaleShift(batchNorm);
        return ScaledConv(conv, input, scale, shift);
    }

    /// <summary>A convolution whose output channels are then multiplied by <paramref name="scale"/> and shifted by
    /// <paramref name="shift"/> (float64 [out], both or neither), folded into its weight and bias.</summary>
    internal string ScaledConv(Conv2d conv, string input, Tensor? scale, Tensor? shift)
    {
        if (conv.transposed) throw new NotSupportedException("Transposed convolutions are not exportable.");
        if (conv.padding_mode != PaddingModes.Zeros) throw new NotSupportedException($"Convolution padding mode {conv.padding_mode} is not exportable (only zeros).");
        long[] kernel = conv.kernel_size, stride = conv.stride, dilation = conv.dilation;
        long[] pads = Pads(conv, kernel, dilation);
        var prefix = PathOf(conv);
        string weight, bias;
        if (scale is not null && shift is not null)
        {
            using var scope = torch.NewDisposeScope();
            using var _ = torch.no_grad();
            var w = conv.weight!.detach().to(float64).cpu() * scale.reshape(-1, 1, 1, 1);
            var b = conv.bias is null ? shift : conv.bias.detach().to(float64).cpu() * scale + shift;
            weight = ModuleWeight(w, prefix + "weight_bn_folded");
            bias = ModuleWeight(b, prefix + "bias_bn_folded");
        }
        else
        {
            weight = ModuleWeight(conv.weight!, prefix + "weight");
            bias = conv.bias is null ? "" : ModuleWeight(conv.bias, prefix + "bias");
        }
        return Node("Conv", bias.Length == 0 ? [input, weight] : [input, weight, bias],
            OnnxAttribute.Ints("kernel_shape", kernel), OnnxAttribute.Ints("strides", stride), OnnxAttribute.Ints("pads", pads),
            OnnxAttribute.Ints("dilations", dilation), OnnxAttribute.Int("group", conv.groups));
    }

    private static long[] Pads(Conv2d conv, long[] kernel, long[] dilation)
    {
        if (conv.padding_type == Padding.Valid) return [0, 0, 0, 0];
        if (conv.padding_type == Padding.Same)
        {
            long th = dilation[0] * (kernel[0] - 1), tw = dilation[1] * (kernel[1] - 1);
            return [th / 2, tw / 2, th - th / 2, tw - tw / 2];
        }
        var p = conv.padding ?? throw new NotSupportedException("The convolution has neither explicit padding nor a padding type.");
        return p.Length == 1 ? [p[0], p[0], p[0], p[0]] : [p[0], p[1], p[0], p[1]];
    }

    /// <summary>An eval-mode BatchNorm (running statistics) as an ONNX <c>BatchNormalization</c> node.</summary>
    /// <exception cref="NotSupportedException">The BatchNorm keeps no running statistics (its eval output depends on the batch).</exception>
    public string BatchNorm(BatchNorm2d batchNorm, string input)
    {
        ArgumentNullException.ThrowIfNull(batchNorm);
        RequireRunningStats(batchNorm);
        var prefix = PathOf(batchNorm);
        long c = batchNorm.num_features;
        using var scope = torch.NewDisposeScope();
        var gamma = batchNorm.weight is null ? torch.ones(c) : (Tensor)batchNorm.weight;
        var beta = batchNorm.bias is null ? torch.zeros(c) : (Tensor)batchNorm.bias;
        var inputs = new[]
        {
            input, ModuleWeight(gamma, prefix + "weight"), ModuleWeight(beta, prefix + "bias"),
            ModuleWeight(batchNorm.running_mean!, prefix + "running_mean"), ModuleWeight(batchNorm.running_var!, prefix + "running_var"),
        };
        return Node("BatchNormalization", inputs, OnnxAttribute.Float("epsilon", (float)batchNorm.eps));
    }

    /// <summary>A fully connected layer on a [batch, features] value (<c>Gemm</c> with the weight transposed).</summary>
    public string Linear(Linear linear, string input)
    {
        ArgumentNullException.ThrowIfNull(linear);
        var prefix = PathOf(linear);
        var weight = ModuleWeight(linear.weight!, prefix + "weight");
        return linear.bias is null
            ? Node("Gemm", [input, weight], OnnxAttribute.Int("transB", 1))
            : Node("Gemm", [input, weight, ModuleWeight(linear.bias, prefix + "bias")], OnnxAttribute.Int("transB", 1));
    }

    /// <summary>ReLU.</summary>
    public string Relu(string input) => Node("Relu", [input]);

    /// <summary>Element-wise sum of two values.</summary>
    public string Add(string a, string b) => Node("Add", [a, b]);

    /// <summary>Concatenation along <paramref name="axis"/> (1 = channels).</summary>
    public string Concat(IReadOnlyList<string> inputs, long axis = 1) => Node("Concat", inputs, OnnxAttribute.Int("axis", axis));

    /// <summary>Mean over the spatial axes of [batch, C, H, W], giving [batch, C] (TorchSharp's <c>x.mean([2, 3])</c>).</summary>
    public string SpatialMean(string input) => Node("Flatten", [Node("GlobalAveragePool", [input])], OnnxAttribute.Int("axis", 1));

    /// <summary>Zeros of the shape of <paramref name="input"/> (<c>torch.zeros_like</c>).</summary>
    public string ZerosLike(string input)
    {
        var shape = Node("Shape", [input]);
        var zero = new global::Onnx.TensorProto { DataType = (int)global::Onnx.TensorProto.Types.DataType.Float, Dims = { 1 }, FloatData = { 0f } };
        var output = NewName("zeros");
        var node = new global::Onnx.NodeProto { OpType = "ConstantOfShape", Name = output + "/ConstantOfShape", Input = { shape }, Output = { output } };
        node.Attribute.Add(new global::Onnx.AttributeProto { Name = "value", Type = global::Onnx.AttributeProto.Types.AttributeType.Tensor, T = zero });
        _graph.Node.Add(node);
        return output;
    }

    internal static (Tensor Scale, Tensor Shift) BatchNormScaleShift(BatchNorm2d bn)
    {
        RequireRunningStats(bn);
        var mean = bn.running_mean!.detach().to(float64).cpu();
        var variance = bn.running_var!.detach().to(float64).cpu();
        var gamma = bn.weight is null ? torch.ones_like(mean) : bn.weight.detach().to(float64).cpu();
        var beta = bn.bias is null ? torch.zeros_like(mean) : bn.bias.detach().to(float64).cpu();
        var scale = gamma / (variance + bn.eps).sqrt();
        return (scale, beta - mean * scale);
    }

    private static void RequireRunningStats(BatchNorm2d bn)
    {
        if (!bn.track_running_stats || bn.running_mean is null || bn.running_var is null)
            throw new NotSupportedException("A BatchNorm without running statistics normalises each batch by itself even in eval mode; it is not exportable. Build the network with trackRunningStats: true.");
    }

    private string ModuleWeight(Tensor value, string path) => Weight(value, Unique(path));

    private string PathOf(nn.Module module) => _paths.TryGetValue(module, out var path) && path.Length > 0 ? path + "." : "";

    private static global::Onnx.AttributeProto ToProto(OnnxAttribute a)
    {
        var p = new global::Onnx.AttributeProto { Name = a.Name };
        switch (a.Value)
        {
            case long i:
                p.Type = global::Onnx.AttributeProto.Types.AttributeType.Int;
                p.I = i;
                break;
            case float f:
                p.Type = global::Onnx.AttributeProto.Types.AttributeType.Float;
                p.F = f;
                break;
            case string s:
                p.Type = global::Onnx.AttributeProto.Types.AttributeType.String;
                p.S = ByteString.CopyFromUtf8(s);
                break;
            case long[] ints:
                p.Type = global::Onnx.AttributeProto.Types.AttributeType.Ints;
                p.Ints.AddRange(ints);
                break;
            default:
                throw new InvalidOperationException($"Unexpected attribute value {a.Value.GetType().Name}.");
        }
        return p;
    }

    internal static NotSupportedException NotExportable(nn.Module module) => new(
        $"Module '{module.GetType().FullName}' is not exportable to ONNX: NasFlatness.Onnx knows the library's networks and public building blocks " +
        "(Stem, ReluConvBn, ResNetBasicBlock, ClassifierHead, SkipConnect, AvgPool3x3, MaxPool3x3, Zero, SepConv, DilConv, FactorizedReduce, PoolBn, ExitClassifier) " +
        "and TorchSharp's Sequential, Conv2d, BatchNorm2d, Linear, ReLU, Identity and Dropout. To export it, implement NasFlatness.Onnx.IOnnxExportable on " +
        $"{module.GetType().Name} (emit its nodes through the OnnxGraphBuilder), or register an exporter for its type in OnnxExportOptions.Exporters.");
}
