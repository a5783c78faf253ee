using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;

// Deploy sample, step 2: classify the CIFAR-10 test images with the exported model in ML.NET (ApplyOnnxModel), with no
// TorchSharp and no NasFlatness reference, and compare with TorchSharp's predictions written by step 1.
// Usage: NasFlatness.Deploy.Inference [folder of step 1 (default deploy)] [--data <cifar-10-batches-bin>]
var positional = args.Where((a, i) => !a.StartsWith("--", StringComparison.Ordinal) && (i == 0 || args[i - 1] != "--data")).ToArray();
string folder = positional.ElementAtOrDefault(0) ?? "deploy";
int dataIndex = Array.IndexOf(args, "--data");
string cifar = dataIndex >= 0 && dataIndex + 1 < args.Length ? args[dataIndex + 1] : FindCifar()
    ?? throw new DirectoryNotFoundException("No CIFAR-10 binary folder found above the current folder: pass --data <cifar-10-batches-bin>.");
string model = Path.Combine(folder, "model.onnx");
var torchPredictions = File.ReadAllLines(Path.Combine(folder, "torchsharp-predictions.txt")).Select(l => int.Parse(l, CultureInfo.InvariantCulture)).ToArray();
int count = torchPredictions.Length;

// The model says how its input was normalised, and what its classes are (metadata written by the exporter).
Dictionary<string, string> metadata;
string inputName, outputName;
using (var session = new InferenceSession(model))
{
    metadata = session.ModelMetadata.CustomMetadataMap;
    inputName = session.InputMetadata.Keys.Single();
    outputName = session.OutputMetadata.Keys.First();
}
var mean = JsonSerializer.Deserialize<float[]>(metadata["nasflatness.input_mean"])!;
var std = JsonSerializer.Deserialize<float[]>(metadata["nasflatness.input_std"])!;
var labels = JsonSerializer.Deserialize<string[]>(metadata["nasflatness.class_labels"])!;
Console.WriteLine($"model:    {model}: {metadata["nasflatness.genotype"]} ({metadata["nasflatness.space"]}, NasFlatness {metadata["nasflatness.version"]})");

// CIFAR-10 test_batch.bin: records of 1 label byte + 3×32×32 pixel bytes (channel-major), normalised as in training.
var bytes = File.ReadAllBytes(Path.Combine(cifar, "test_batch.bin"));
const int Pixels = 3 * 32 * 32, Record = 1 + Pixels;
var images = new List<CifarImage>(count);
var truth = new int[count];
for (int i = 0; i < count; i++)
{
    truth[i] = bytes[i * Record];
    var x = new float[Pixels];
    for (int p = 0; p < Pixels; p++) x[p] = (bytes[i * Record + 1 + p] / 255f - mean[p / 1024]) / std[p / 1024];
    images.Add(new CifarImage { Pixels = x });
}

// ML.NET: ApplyOnnxModel over an IDataView; the batch axis is dynamic in the model and fixed to 1 here (one row at a time).
var ml = new MLContext(seed: 0);
var view = ml.Data.LoadFromEnumerable(images);
var pipeline = ml.Transforms.ApplyOnnxModel(
    outputColumnNames: [outputName], inputColumnNames: [inputName], modelFile: model,
    shapeDictionary: new Dictionary<string, int[]> { [inputName] = [1, 3, 32, 32] }, gpuDeviceId: null, fallbackToCpu: true);
var scored = pipeline.Fit(view).Transform(view);
var logits = scored.GetColumn<float[]>(outputName).ToArray();
var mlnet = logits.Select(l => Array.IndexOf(l, l.Max())).ToArray();

double Accuracy(int[] predicted) => predicted.Where((p, i) => p == truth[i]).Count() / (double)count;
int agree = mlnet.Where((p, i) => p == torchPredictions[i]).Count();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ML.NET:     {Accuracy(mlnet):P2} on {count:N0} CIFAR-10 test images"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"TorchSharp: {Accuracy(torchPredictions):P2} on the same images"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"same class: {agree:N0} / {count:N0} images; first image: {labels[mlnet[0]]} (truth {labels[truth[0]]})"));
return agree == count ? 0 : 1;

static string? FindCifar()
{
    for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
    {
        var candidate = Path.Combine(dir.FullName, "shared", "data", "cifar10", "cifar-10-batches-bin");
        if (Directory.Exists(candidate)) return candidate;
    }
    return null;
}

/// <summary>One normalised image, [1, 3, 32, 32] for the model's input.</summary>
internal sealed class CifarImage
{
    [VectorType(1, 3, 32, 32)]
    [ColumnName("input")]
    public float[] Pixels { get; set; } = [];
}
