using System.Diagnostics;
using System.Globalization;
using NasFlatness.Data;
using NasFlatness.Evaluation;
using NasFlatness.Genotypes;
using NasFlatness.Onnx;
using NasFlatness.Optimizers;
using NasFlatness.Search;
using NasFlatness.SearchSpaces.Nb201;
using TorchSharp;

// Deploy sample, step 1: search a NAS-Bench-201 cell (small), train its network briefly, export it to ONNX and record
// TorchSharp's predictions on the CIFAR-10 test images, for step 2 (NasFlatness.Deploy.Inference) to compare with ML.NET's.
// Usage: NasFlatness.Deploy.Train [output folder (default deploy)] [test images (default 10000)] [--data <cifar-10-batches-bin>]
var positional = args.Where((a, i) => !a.StartsWith("--", StringComparison.Ordinal) && (i == 0 || args[i - 1] != "--data")).ToArray();
string output = positional.ElementAtOrDefault(0) ?? "deploy";
int testImages = positional.Length > 1 ? int.Parse(positional[1], CultureInfo.InvariantCulture) : 10_000;
int dataIndex = Array.IndexOf(args, "--data");
string cifar = dataIndex >= 0 && dataIndex + 1 < args.Length ? args[dataIndex + 1] : FindCifar()
    ?? throw new DirectoryNotFoundException("No CIFAR-10 binary folder found above the current folder: pass --data <cifar-10-batches-bin>.");
Directory.CreateDirectory(output);
NasFlatness.Advanced.TorchRuntime.EnsureCorrectCpuKernels();
torch.set_num_threads(1); // one thread: many tiny kernels, and a machine shared with other jobs (docs/performance.md)
torch.manual_seed(0);
var clock = Stopwatch.StartNew();

// 1. Search (DARTS first order, CPU-sized).
var train = CifarImages.Load(cifar);
var test = CifarImages.Load(cifar, train: false);
var space = new Nb201SearchSpace(new Nb201Options { Channels = 8, CellsPerStage = 1 });
Nb201Genotype genotype;
using (var searchData = new CifarSearchData(train, new CifarSearchDataOptions { MaxTrainExamples = 640, MaxValidationExamples = 640 }))
{
    var result = new SearchRunner(space, new DartsFirstOrder(), options: new SearchOptions { Epochs = 2, Device = "cpu" }).Run(searchData);
    genotype = result.GetGenotype<Nb201Genotype>();
}
Console.WriteLine($"search:   {genotype} ({clock.Elapsed.TotalSeconds:F0} s)");

// 2. Train the found cell's network (short).
using var data = new CifarClassificationData(train, test, new CifarClassificationDataOptions { MaxTrainExamples = 5_000, MaxTestExamples = testImages });
using var network = space.CreateNetwork(genotype, data.Info);
var evaluation = new EvaluationTrainer(new EvaluationOptions { Epochs = 3, BatchSize = 64, LearningRate = 0.05, Seed = 0 }).Train(network, data);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"train:    3 epochs on 5,000 images, test accuracy {evaluation.TestAccuracy:P2} ({clock.Elapsed.TotalSeconds:F0} s)"));

// 3. Export to ONNX, with the input normalisation and the class labels in the metadata.
var model = Path.Combine(output, "model.onnx");
OnnxExporter.Export(network, [3, 32, 32], model, new OnnxExportOptions
{
    InputMean = CifarImages.Mean(CifarKind.Cifar10),
    InputStd = CifarImages.Std(CifarKind.Cifar10),
    ClassLabels = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
});
Console.WriteLine($"export:   {model} ({new FileInfo(model).Length / 1024.0:F0} KB)");

// 4. TorchSharp's eval-mode predictions on the same test images, one class index per line.
network.eval();
var predictions = new List<long>(testImages);
var random = new Random(0);
for (int start = 0; start < testImages; start += 500)
{
    using var scope = torch.NewDisposeScope();
    using var _ = torch.no_grad();
    var indices = Enumerable.Range(start, Math.Min(500, testImages - start)).ToArray();
    var batch = data.GetBatch(EvaluationSplit.Test, indices, augment: false, random, torch.CPU);
    predictions.AddRange(network.forward(batch.Images).argmax(1).data<long>().ToArray());
}
File.WriteAllLines(Path.Combine(output, "torchsharp-predictions.txt"), predictions.Select(p => p.ToString(CultureInfo.InvariantCulture)));
double accuracy = predictions.Where((p, i) => p == test.Labels[i]).Count() / (double)testImages;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"torch:    {accuracy:P2} on {testImages:N0} CIFAR-10 test images -> {Path.Combine(output, "torchsharp-predictions.txt")}"));

static string? FindCifar()
{
    for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
    {
        var candidate = Path.Combine(dir.FullName, "shared", "data", "cifar10", "cifar-10-batches-bin");
        if (Directory.Exists(candidate)) return candidate;
    }
    return null;
}
