using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NasFlatness.Data;
using NasFlatness.Genotypes;
using NasFlatness.Onnx;
using NasFlatness.Reproducibility;
using NasFlatness.SearchSpaces.Nb201;
using TorchSharp;
using Xunit;

namespace NasFlatness.Cli.Tests;

/// <summary>One short NB201 evaluation with <c>--onnx</c>, shared by the export tests.</summary>
public sealed class EvaluatedFolder : IDisposable
{
    public const string Cell = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|";

    public EvaluatedFolder()
    {
        Folder = Path.Combine(Path.GetTempPath(), "nasflatness-export-" + Guid.NewGuid().ToString("N"));
        var (code, _, err) = Tool.Run("evaluate", "--genotype", Cell, "--channels", "4", "--cells", "1", "--epochs", "1", "--train-examples", "64",
            "--test-examples", "64", "--data", TestData.Cifar10, "--output", Folder, "--threads", "1", "--onnx", "--json");
        Assert.True(code == 0, err);
    }

    public string Folder { get; }

    public string Weights => Path.Combine(Folder, ExportCommand.WeightsFile);

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}

[Collection(TorchCollection.Name)]
public sealed class ExportCommandTests(EvaluatedFolder evaluated) : IClassFixture<EvaluatedFolder>
{
    private static float[] Images(int count)
    {
        var test = CifarImages.Load(TestData.Cifar10, train: false);
        var mean = CifarImages.Mean(CifarKind.Cifar10);
        var std = CifarImages.Std(CifarKind.Cifar10);
        var images = new float[count * CifarImages.ImageBytes];
        for (int i = 0; i < images.Length; i++) images[i] = (test.Pixels[i] / 255f - mean[i % CifarImages.ImageBytes / 1024]) / std[i % CifarImages.ImageBytes / 1024];
        return images;
    }

    /// <summary>The trained network rebuilt from the folder's weights, run by TorchSharp in eval mode.</summary>
    private float[] TorchLogits(float[] images, int count)
    {
        using var scope = torch.NewDisposeScope();
        using var network = new Nb201SearchSpace(new Nb201Options { Channels = 4, CellsPerStage = 1 }).CreateNetwork(Nb201Genotype.Parse(EvaluatedFolder.Cell), DatasetInfo.Cifar10);
        network.load(evaluated.Weights);
        network.eval();
        using var _ = torch.no_grad();
        return network.forward(torch.tensor(images, [count, 3, 32, 32])).data<float>().ToArray();
    }

    private static float[] OnnxLogits(string model, float[] images, int count)
    {
        using var session = new InferenceSession(model, new SessionOptions { IntraOpNumThreads = 1 });
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(images, [count, 3, 32, 32]))]);
        return results.Single(r => r.Name == "logits").AsTensor<float>().ToArray();
    }

    [Fact]
    public void Evaluate_onnx_and_export_write_models_that_match_the_trained_weights()
    {
        const int count = 16;
        var images = Images(count);
        var expected = TorchLogits(images, count);
        var fromEvaluate = Path.Combine(evaluated.Folder, ExportCommand.ModelFile);
        var fromFolder = Path.Combine(evaluated.Folder, "exported.onnx");
        var fromGenotype = Path.Combine(evaluated.Folder, "from-genotype.onnx");
        var (code, _, err) = Tool.Run("export", evaluated.Folder, "-o", fromFolder);
        Assert.True(code == 0, err);
        (code, _, err) = Tool.Run("export", "--genotype", EvaluatedFolder.Cell, "--weights", evaluated.Weights, "--channels", "4", "-o", fromGenotype);
        Assert.True(code == 0, err);
        foreach (var model in new[] { fromEvaluate, fromFolder, fromGenotype })
        {
            var actual = OnnxLogits(model, images, count);
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4, $"{Path.GetFileName(model)}: logit {i} differs: {expected[i]} vs {actual[i]}");
        }

        // The folder's models carry the manifest's hash; all carry the genotype and CIFAR-10's normalisation and labels.
        var manifestHash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(evaluated.Folder, RunManifest.FileName))));
        using var session = new InferenceSession(fromFolder);
        var meta = session.ModelMetadata.CustomMetadataMap;
        Assert.Equal(manifestHash, meta[OnnxExporter.ManifestKey]);
        Assert.Equal(EvaluatedFolder.Cell, meta[OnnxExporter.GenotypeKey]);
        Assert.Equal(CifarImages.Mean(CifarKind.Cifar10), JsonSerializer.Deserialize<float[]>(meta[OnnxExporter.MeanKey]));
        Assert.Equal("airplane", JsonSerializer.Deserialize<string[]>(meta[OnnxExporter.LabelsKey])![0]);
        // Exporting the folder again gives the very model evaluate --onnx wrote (same weights, same metadata).
        Assert.Equal(File.ReadAllBytes(fromEvaluate), File.ReadAllBytes(fromFolder));
    }

    public static TheoryData<string[], string> BadInputs => new()
    {
        { ["export", "--genotype", "|bogus_op~0|+|none~0|none~1|+|none~0|none~1|none~2|", "--weights", "WEIGHTS", "-o", "OUT"], "bogus_op" },
        { ["export", "--genotype", "|nor_conv_1x1~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|", "--weights", "WEIGHTS", "--channels", "4", "-o", "OUT"], "do not fit" },
        { ["export", "--genotype", EvaluatedFolder.Cell, "--weights", "WEIGHTS", "--channels", "8", "-o", "OUT"], "do not fit" },
        { ["export", "--genotype", "DARTS_V2", "--weights", "WEIGHTS", "--channels", "4", "-o", "OUT"], "do not fit" },
        { ["export", "--genotype", EvaluatedFolder.Cell, "--weights", "WEIGHTS", "--channels", "4", "-o", "WEIGHTS/model.onnx"], "does not exist" },
        { ["export", "--genotype", EvaluatedFolder.Cell, "--weights", "WEIGHTS", "--channels", "4", "-o", "FOLDER"], "is a folder" },
        { ["export", "--genotype", EvaluatedFolder.Cell, "-o", "OUT"], "--weights" },
        { ["export", "FOLDER/nothing-here", "-o", "OUT"], "does not exist" },
        { ["export", "FOLDER", "--genotype", EvaluatedFolder.Cell, "-o", "OUT"], "not both" },
        { ["export", "--genotype", EvaluatedFolder.Cell, "--weights", "WEIGHTS", "--opset", "9", "-o", "OUT"], "--opset" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Bad_input_is_one_error_line_with_exit_code_2_and_writes_nothing(string[] args, string expected)
    {
        var output = Path.Combine(evaluated.Folder, "bad-" + Guid.NewGuid().ToString("N") + ".onnx");
        var resolved = args.Select(a => a.Replace("WEIGHTS", evaluated.Weights, StringComparison.Ordinal)
            .Replace("FOLDER", evaluated.Folder, StringComparison.Ordinal).Replace("OUT", output, StringComparison.Ordinal)).ToArray();
        var (code, _, err) = Tool.Run(resolved);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.StartsWith("error:", err, StringComparison.Ordinal);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(expected, err, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
        Assert.Empty(Directory.GetFiles(evaluated.Folder, "*.tmp"));
    }
}
