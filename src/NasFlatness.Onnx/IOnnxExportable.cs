using TorchSharp;

namespace NasFlatness.Onnx;

/// <summary>
/// A module that writes its own ONNX nodes: implement it on a block the exporter does not know (or register an
/// <see cref="OnnxModuleExporter"/> for its type in <see cref="OnnxExportOptions.Exporters"/>). The implementation adds the
/// nodes that compute its eval-mode <c>forward</c> through the <see cref="OnnxGraphBuilder"/>, exporting its submodules with
/// <see cref="OnnxGraphBuilder.Module"/> or <see cref="OnnxGraphBuilder.Child"/>, and returns the name of its output value.
/// </summary>
public interface IOnnxExportable
{
    /// <summary>Adds the nodes of this module's eval-mode forward on <paramref name="input"/> and returns its output's name.</summary>
    /// <param name="graph">The graph being built.</param>
    /// <param name="input">Name of the input value ([batch, …] float32).</param>
    string ExportOnnx(OnnxGraphBuilder graph, string input);
}

/// <summary>Exports a module of a registered type (see <see cref="OnnxExportOptions.Exporters"/>); same contract as <see cref="IOnnxExportable.ExportOnnx"/>.</summary>
/// <param name="graph">The graph being built.</param>
/// <param name="module">The module to export.</param>
/// <param name="input">Name of the input value.</param>
/// <returns>Name of the module's output value.</returns>
public delegate string OnnxModuleExporter(OnnxGraphBuilder graph, torch.nn.Module module, string input);

/// <summary>An attribute of an ONNX node (see <see cref="OnnxGraphBuilder.Node"/>); create it with the factory methods.</summary>
public sealed class OnnxAttribute
{
    private OnnxAttribute(string name, object value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        Value = value;
    }

    /// <summary>The attribute's name.</summary>
    public string Name { get; }

    /// <summary>The value: a long, a float, a string or a long[].</summary>
    public object Value { get; }

    /// <summary>An integer attribute.</summary>
    public static OnnxAttribute Int(string name, long value) => new(name, value);

    /// <summary>A float attribute.</summary>
    public static OnnxAttribute Float(string name, float value) => new(name, value);

    /// <summary>A string attribute.</summary>
    public static OnnxAttribute String(string name, string value) => new(name, value ?? throw new ArgumentNullException(nameof(value)));

    /// <summary>A list-of-integers attribute.</summary>
    public static OnnxAttribute Ints(string name, params long[] values) => new(name, (long[])(values ?? throw new ArgumentNullException(nameof(values))).Clone());
}
