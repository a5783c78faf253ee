using System.Globalization;

namespace NasFlatness.Onnx;

/// <summary>Options of <see cref="OnnxExporter.Export(TorchSharp.torch.nn.Module, IReadOnlyList{long}, Stream, OnnxExportOptions?)"/>.</summary>
public sealed class OnnxExportOptions
{
    /// <summary>The lowest ONNX opset the exporter writes (ONNX Runtime 1.14+ and ML.NET's OnnxTransformer read it).</summary>
    public const int MinimumOpset = 17;

    /// <summary>The highest ONNX opset the exporter writes (every operator it emits is unchanged from 17 to 21).</summary>
    public const int MaximumOpset = 21;

    /// <summary>Name of the graph input, a float32 tensor [batch, C, H, W] with a dynamic batch axis. Default <c>input</c>.</summary>
    public string InputName { get; set; } = "input";

    /// <summary>Name of the graph output: the network's <c>forward</c> output (class logits, [batch, classes]). Default <c>logits</c>.</summary>
    public string OutputName { get; set; } = "logits";

    /// <summary>ONNX opset of the default domain, <see cref="MinimumOpset"/>..<see cref="MaximumOpset"/>. Default 17.</summary>
    public int Opset { get; set; } = MinimumOpset;

    /// <summary>
    /// Whether a BatchNorm directly after a convolution is folded into the convolution's weight and bias (default true);
    /// false writes every BatchNorm as an ONNX <c>BatchNormalization</c> node. docs/export.md says why folding is the default.
    /// </summary>
    public bool FoldBatchNorm { get; set; } = true;

    /// <summary>Search-space name for the metadata; null takes it from the network's genotype (built-in networks).</summary>
    public string? SpaceName { get; set; }

    /// <summary>Genotype text for the metadata; null takes it from the network's genotype (built-in networks).</summary>
    public string? Genotype { get; set; }

    /// <summary>SHA-256 (hex) of the run manifest the network came from, recorded in the metadata; null records none.</summary>
    public string? RunManifestSha256 { get; set; }

    /// <summary>Per-channel mean the input images were normalised with (<c>(x/255 − mean)/std</c>); recorded in the metadata. Null records none.</summary>
    public IReadOnlyList<float>? InputMean { get; set; }

    /// <summary>Per-channel standard deviation of the input normalisation; recorded in the metadata. Null records none.</summary>
    public IReadOnlyList<float>? InputStd { get; set; }

    /// <summary>Class labels in logit order, recorded in the metadata; null records none. Must have one label per class.</summary>
    public IReadOnlyList<string>? ClassLabels { get; set; }

    /// <summary>
    /// Early-exit networks only: the confidence thresholds ε of the early exits (one per early exit; a last one for the final
    /// exit may be given and is ignored). With them the model also outputs <c>exit</c> (int64 [batch], the exit each image leaves
    /// at under the cumulative rule of <c>ExitThresholdTuner.ExitOf</c>) and <c>exit_logits</c> (that exit's logits).
    /// </summary>
    public IReadOnlyList<double>? ExitThresholds { get; set; }

    /// <summary>Extra metadata entries (key → value) written into the model's <c>metadata_props</c>.</summary>
    public IDictionary<string, string> Metadata { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// Exporters for module types the exporter does not know (or to replace a built-in one): the exporter calls the one
    /// registered for a module's exact type. The alternative for a block you write is to implement <see cref="IOnnxExportable"/>.
    /// </summary>
    public IDictionary<Type, OnnxModuleExporter> Exporters { get; } = new Dictionary<Type, OnnxModuleExporter>();

    /// <summary>The problems with these options, each naming the option; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(InputName)) errors.Add($"{nameof(InputName)} must not be empty.");
        if (string.IsNullOrWhiteSpace(OutputName)) errors.Add($"{nameof(OutputName)} must not be empty.");
        if (InputName == OutputName) errors.Add($"{nameof(InputName)} and {nameof(OutputName)} must differ (both '{InputName}').");
        if (Opset is < MinimumOpset or > MaximumOpset)
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(Opset)} = {Opset} is invalid: must be {MinimumOpset}..{MaximumOpset}."));
        if ((InputMean is null) != (InputStd is null)) errors.Add($"{nameof(InputMean)} and {nameof(InputStd)} must be given together.");
        if (InputMean is not null && InputStd is not null && InputMean.Count != InputStd.Count)
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(InputMean)} has {InputMean.Count} values but {nameof(InputStd)} has {InputStd.Count}."));
        if (InputStd?.Any(s => !(s > 0)) == true) errors.Add($"{nameof(InputStd)} values must be positive.");
        if (ExitThresholds?.Any(t => double.IsNaN(t) || t < 0 || t > 1) == true) errors.Add($"{nameof(ExitThresholds)} must be in [0, 1].");
        if (RunManifestSha256 is { } hash && (hash.Length != 64 || !hash.All(Uri.IsHexDigit)))
            errors.Add($"{nameof(RunManifestSha256)} must be 64 hexadecimal digits, got '{hash}'.");
        return errors;
    }
}
