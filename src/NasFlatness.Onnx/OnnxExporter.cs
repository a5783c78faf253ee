using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using Google.Protobuf;
using NasFlatness.MultiObjective.Nachos;
using NasFlatness.Genotypes;
using NasFlatness.SearchSpaces.Darts;
using NasFlatness.SearchSpaces.Nb201;
using NasFlatness.SearchSpaces.ZoDartsPlusPlus;
using TorchSharp;
using static TorchSharp.torch;
using Proto = global::Onnx;

namespace NasFlatness.Onnx;

/// <summary>
/// Exports a NasFlatness network to ONNX (docs/export.md): the discrete NAS-Bench-201, DARTS (CIFAR shape; the auxiliary head
/// is not exported), ZO-DARTS++-space and NACHOS early-exit networks, and user networks built from the public building blocks
/// (or implementing <see cref="IOnnxExportable"/>). The model computes the network's eval-mode <c>forward</c> in float32 with
/// a dynamic batch axis, opset <see cref="OnnxExportOptions.Opset"/>, and carries the genotype, library version, input
/// normalisation and class labels as metadata. Metadata keys are the constants of this class.
/// </summary>
public static class OnnxExporter
{
    /// <summary>Metadata key: the search space's name (e.g. <c>nas-bench-201</c>).</summary>
    public const string SpaceKey = "nasflatness.space";

    /// <summary>Metadata key: the genotype in the community's text format.</summary>
    public const string GenotypeKey = "nasflatness.genotype";

    /// <summary>Metadata key: the NasFlatness version that wrote the model.</summary>
    public const string VersionKey = "nasflatness.version";

    /// <summary>Metadata key: SHA-256 of the run manifest the network came from.</summary>
    public const string ManifestKey = "nasflatness.run_manifest_sha256";

    /// <summary>Metadata key: per-channel input mean, a JSON array.</summary>
    public const string MeanKey = "nasflatness.input_mean";

    /// <summary>Metadata key: per-channel input standard deviation, a JSON array.</summary>
    public const string StdKey = "nasflatness.input_std";

    /// <summary>Metadata key: class labels in logit order, a JSON array.</summary>
    public const string LabelsKey = "nasflatness.class_labels";

    /// <summary>Metadata key: early-exit thresholds, a JSON array.</summary>
    public const string ThresholdsKey = "nasflatness.exit_thresholds";

    /// <summary>Output name of the exit each image leaves at (early-exit networks with thresholds).</summary>
    public const string ExitOutput = "exit";

    /// <summary>Output name of the logits of the exit each image leaves at (early-exit networks with thresholds).</summary>
    public const string ExitLogitsOutput = "exit_logits";

    /// <summary>Output name of early exit i's logits (<c>exit{i}_logits</c>), for early-exit networks.</summary>
    public static string EarlyExitLogits(int exit) => string.Create(CultureInfo.InvariantCulture, $"exit{exit}_logits");

    /// <summary>Output name of early exit i's confidence (<c>exit{i}_confidence</c>, sigmoid of its extra output), for early-exit networks.</summary>
    public static string EarlyExitConfidence(int exit) => string.Create(CultureInfo.InvariantCulture, $"exit{exit}_confidence");

    /// <summary>Exports <paramref name="network"/> to a file, written atomically and durably (<see cref="AtomicFile"/>: no partial model is left).</summary>
    /// <param name="network">The network (any device; put in eval mode for the export, its mode restored afterwards).</param>
    /// <param name="inputShape">The shape of one input example, [C, H, W] (a leading batch size is ignored: the batch axis is dynamic).</param>
    /// <param name="path">The .onnx file to write.</param>
    /// <param name="options">Names, opset, BatchNorm folding, metadata, early-exit thresholds, exporters of user modules; null uses the defaults.</param>
    /// <exception cref="ArgumentException">Invalid options, or the network does not run on inputs of <paramref name="inputShape"/>.</exception>
    /// <exception cref="NotSupportedException">A module of the network is not exportable (the message names its type and how to make it exportable).</exception>
    public static void Export(nn.Module network, IReadOnlyList<long> inputShape, string path, OnnxExportOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var model = Build(network, inputShape, options);
        AtomicFile.Write(path, model.WriteTo);
    }

    /// <summary>Exports <paramref name="network"/>'s eval-mode forward as an ONNX model written to <paramref name="stream"/> (left open).</summary>
    /// <param name="network">The network (any device; it is put in eval mode for the export and its mode restored afterwards).</param>
    /// <param name="inputShape">The shape of one input example, [C, H, W] (a leading batch size is allowed and ignored: the batch axis is dynamic).</param>
    /// <param name="stream">Where the model is written.</param>
    /// <param name="options">Names, opset, BatchNorm folding, metadata, early-exit thresholds, exporters of user modules; null uses the defaults.</param>
    /// <exception cref="ArgumentException">Invalid options, or the network does not run on inputs of <paramref name="inputShape"/>.</exception>
    /// <exception cref="NotSupportedException">A module of the network is not exportable (the message names its type and how to make it exportable).</exception>
    public static void Export(nn.Module network, IReadOnlyList<long> inputShape, Stream stream, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Build(network, inputShape, options).WriteTo(stream);
    }

    /// <summary>The exported model's bytes (see <see cref="Export(nn.Module, IReadOnlyList{long}, Stream, OnnxExportOptions?)"/>).</summary>
    public static byte[] ExportToBytes(nn.Module network, IReadOnlyList<long> inputShape, OnnxExportOptions? options = null) =>
        Build(network, inputShape, options).ToByteArray();

    internal static Proto.ModelProto Build(nn.Module network, IReadOnlyList<long> inputShape, OnnxExportOptions? options)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(inputShape);
        options ??= new OnnxExportOptions();
        var errors = options.Validate().ToList();
        if (inputShape.Count is not (3 or 4) || inputShape.Any(d => d < 1))
            errors.Add($"The input shape must be [C, H, W] (or [B, C, H, W]) with positive sizes, got [{string.Join(", ", inputShape)}].");
        if (errors.Count > 0) throw new ArgumentException(string.Join(" ", errors), nameof(options));
        long[] example = inputShape.Count == 4 ? [.. inputShape.Skip(1)] : [.. inputShape];
        var earlyExit = network as Nb201EarlyExitNetwork;
        if (options.ExitThresholds is { } t && (earlyExit is null || (t.Count != earlyExit.ExitCount - 1 && t.Count != earlyExit.ExitCount)))
            throw new ArgumentException(earlyExit is null
                ? "ExitThresholds apply to early-exit networks only."
                : $"ExitThresholds needs {earlyExit.ExitCount - 1} thresholds (one per early exit), got {t.Count}.", nameof(options));

        // Each module's own mode, restored afterwards (an early-exit network may have its backbone and exits in different modes).
        var modes = network.modules().Prepend(network).Select(m => (Module: m, Training: m.training)).ToArray();
        network.eval();
        try
        {
            long[] outputShape = ProbeOutput(network, example);
            if (options.ClassLabels is { } labels && (outputShape.Length != 1 || labels.Count != outputShape[0]))
                throw new ArgumentException($"ClassLabels has {labels.Count} labels but the network's output has shape [batch, {string.Join(", ", outputShape)}].", nameof(options));
            var g = new OnnxGraphBuilder(network, options);
            g.Reserve(options.InputName);
            var outputs = new List<(string Name, Proto.TensorProto.Types.DataType Type, long[] Dims)>();
            using (torch.no_grad())
            {
                if (earlyExit is not null && !options.Exporters.ContainsKey(network.GetType()))
                    EarlyExits(g, earlyExit, options, outputs);
                else
                    Rename(g, g.Module(network, options.InputName), options.OutputName);
            }
            outputs.Insert(0, (options.OutputName, Proto.TensorProto.Types.DataType.Float, outputShape));
            var graph = g.Graph;
            graph.Name = network.GetType().Name;
            graph.Input.Add(ValueInfo(options.InputName, Proto.TensorProto.Types.DataType.Float, example));
            foreach (var (name, type, dims) in outputs) graph.Output.Add(ValueInfo(name, type, dims));
            return Model(network, graph, options);
        }
        finally
        {
            foreach (var (module, training) in modes) module.train(training);
        }
    }

    /// <summary>Runs the network once on zeros of one example's shape: checks the shape fits and reads the output's shape.</summary>
    private static long[] ProbeOutput(nn.Module network, long[] example)
    {
        if (network is not nn.Module<Tensor, Tensor> forward)
            throw new ArgumentException($"{network.GetType().Name} is not a Module<Tensor, Tensor>; the exporter exports single-input networks.", nameof(network));
        var parameter = network.parameters().FirstOrDefault();
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        Tensor output;
        try
        {
            output = forward.forward(torch.zeros([1, .. example], dtype: float32, device: parameter?.device ?? torch.CPU));
        }
        catch (Exception ex) when (ex is ExternalException or ArgumentException or InvalidOperationException)
        {
            throw new ArgumentException($"{network.GetType().Name} does not run on inputs of shape [batch, {string.Join(", ", example)}]: {ex.Message}", nameof(network), ex);
        }
        return [.. output.shape.Skip(1)];
    }

    /// <summary>The final exit as the main output, every early exit's logits and confidence, and with thresholds the exit decision.</summary>
    private static void EarlyExits(OnnxGraphBuilder g, Nb201EarlyExitNetwork network, OnnxExportOptions options,
        List<(string, Proto.TensorProto.Types.DataType, long[])> outputs)
    {
        var layerOutputs = BuiltInExporters.Nb201Features(g, network, options.InputName); // [stem, layer 0, layer 1, …]
        var final = g.Child(network, "head", layerOutputs[^1]);
        Rename(g, final, options.OutputName);
        var exits = OnnxGraphBuilder.Children(OnnxGraphBuilder.ChildModule(network, "exits"));
        int n = network.Placement.CellsPerStage, classes = network.ClassCount;
        var logits = new List<string>();
        var confidences = new List<string>();
        for (int i = 0; i < exits.Count; i++)
        {
            int cell = network.Placement.Cells[i];
            int layer = cell + cell / n; // a reduction block precedes every stage after the first
            var raw = g.Module(exits[i], layerOutputs[layer + 1]);
            var exitLogits = g.Node("Slice", [raw, g.Int64s("starts", 0), g.Int64s("ends", classes), g.Int64s("axes", 1)]);
            var confidenceLogit = g.Node("Slice", [raw, g.Int64s("starts", classes), g.Int64s("ends", classes + 1), g.Int64s("axes", 1)]);
            var confidence = g.Node("Squeeze", [g.Node("Sigmoid", [confidenceLogit]), g.Int64s("axes", 1)]);
            Rename(g, exitLogits, EarlyExitLogits(i));
            Rename(g, confidence, EarlyExitConfidence(i));
            outputs.Add((EarlyExitLogits(i), Proto.TensorProto.Types.DataType.Float, [classes]));
            outputs.Add((EarlyExitConfidence(i), Proto.TensorProto.Types.DataType.Float, []));
            logits.Add(EarlyExitLogits(i));
            confidences.Add(EarlyExitConfidence(i));
        }
        if (options.ExitThresholds is not { } thresholds) return;
        // Cumulative rule of ExitThresholdTuner.ExitOf: leave at the first exit i with Σ_{j≤i} c_j Π_{k<j}(1 − c_k) ≥ ε_i.
        var one = g.Floats([1f], [], "one");
        string? reach = null, sum = null;
        var leave = new List<string>();
        for (int i = 0; i < confidences.Count; i++)
        {
            var weighted = reach is null ? confidences[i] : g.Node("Mul", [confidences[i], reach]);
            sum = sum is null ? weighted : g.Add(sum, weighted);
            var stay = g.Node("Sub", [one, confidences[i]]);
            reach = reach is null ? stay : g.Node("Mul", [reach, stay]);
            leave.Add(g.Node("GreaterOrEqual", [sum, g.Floats([(float)thresholds[i]], [], "threshold")]));
        }
        // The exit index and logits start at the final exit and are overwritten from the last early exit back to the first.
        var exit = g.Node("Expand", [g.Int64s("final_exit", confidences.Count), g.Node("Slice", [g.Node("Shape", [final]), g.Int64s("starts", 0), g.Int64s("ends", 1)])]);
        string chosen = final;
        for (int i = confidences.Count - 1; i >= 0; i--)
        {
            exit = g.Node("Where", [leave[i], g.Int64s("exit_index", i), exit]);
            chosen = g.Node("Where", [g.Node("Unsqueeze", [leave[i], g.Int64s("axes", 1)]), logits[i], chosen]);
        }
        Rename(g, exit, ExitOutput);
        Rename(g, chosen, ExitLogitsOutput);
        outputs.Add((ExitOutput, Proto.TensorProto.Types.DataType.Int64, []));
        outputs.Add((ExitLogitsOutput, Proto.TensorProto.Types.DataType.Float, [classes]));
    }

    private static void Rename(OnnxGraphBuilder g, string value, string name)
    {
        g.Reserve(name);
        g.AddNode("Identity", [value], [name], []);
    }

    private static Proto.ValueInfoProto ValueInfo(string name, Proto.TensorProto.Types.DataType type, long[] perExample)
    {
        var shape = new Proto.TensorShapeProto();
        shape.Dim.Add(new Proto.TensorShapeProto.Types.Dimension { DimParam = "batch" });
        foreach (var d in perExample) shape.Dim.Add(new Proto.TensorShapeProto.Types.Dimension { DimValue = d });
        return new Proto.ValueInfoProto
        {
            Name = name,
            Type = new Proto.TypeProto { TensorType = new Proto.TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }

    private static Proto.ModelProto Model(nn.Module network, Proto.GraphProto graph, OnnxExportOptions options)
    {
        var genotype = network switch
        {
            Nb201Network n => (Genotype)n.Genotype,
            Nb201EarlyExitNetwork n => n.Genotype,
            ZoDartsPlusPlusNetwork n => n.Genotype,
            DartsNetwork n => n.Genotype,
            _ => null,
        };
        var version = LibraryVersion();
        var model = new Proto.ModelProto
        {
            IrVersion = 8, // ONNX 1.10+ (opset 17 needs IR ≥ 8)
            ProducerName = "NasFlatness",
            ProducerVersion = version,
            Domain = "ai.nasflatness",
            ModelVersion = 1,
            DocString = $"{network.GetType().Name} exported by NasFlatness.Onnx: input '{options.InputName}' [batch, C, H, W] float32 (normalised as in the metadata), output '{options.OutputName}' class logits.",
            Graph = graph,
        };
        model.OpsetImport.Add(new Proto.OperatorSetIdProto { Domain = "", Version = options.Opset });
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal) { [VersionKey] = version };
        if ((options.SpaceName ?? genotype?.SpaceName) is { } space) metadata[SpaceKey] = space;
        if ((options.Genotype ?? genotype?.ToString()) is { } text) metadata[GenotypeKey] = text;
        if (options.RunManifestSha256 is { } hash) metadata[ManifestKey] = hash.ToLowerInvariant();
        if (options.InputMean is { } mean) metadata[MeanKey] = JsonSerializer.Serialize(mean);
        if (options.InputStd is { } std) metadata[StdKey] = JsonSerializer.Serialize(std);
        if (options.ClassLabels is { } labels) metadata[LabelsKey] = JsonSerializer.Serialize(labels);
        if (options.ExitThresholds is { } thresholds) metadata[ThresholdsKey] = JsonSerializer.Serialize(thresholds);
        foreach (var (key, value) in options.Metadata) metadata[key] = value;
        foreach (var (key, value) in metadata) model.MetadataProps.Add(new Proto.StringStringEntryProto { Key = key, Value = value });
        return model;
    }

    private static string LibraryVersion()
    {
        var informational = typeof(Genotype).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "";
        int plus = informational.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? informational : informational[..plus];
    }
}
