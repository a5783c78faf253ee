using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Microsoft.ML.OnnxRuntime;
using NasFlatness.Advanced;
using NasFlatness.Genotypes;
using NasFlatness.Onnx;
using NasFlatness.SearchSpaces.Darts;
using NasFlatness.SearchSpaces.Nb201;
using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.Benchmarks.Onnx;

/// <summary>
/// Inference latency of a found network: TorchSharp's eval-mode forward against ONNX Runtime (CPU, default graph optimisations)
/// running the model NasFlatness.Onnx exported from the same network, at batch 1 and 64, one thread each. Networks: the
/// NAS-Bench-201 network of the benchmark's best CIFAR-10 cell at the benchmark's size (C = 16, N = 5) and the DARTS_V2
/// network at a CPU-sized C = 16, 8 cells (the paper trains C = 36, 20 cells). Random weights; 3×32×32 random inputs.
/// TorchSharp runs with oneDNN where the library's kernel check allows it (the setup prints which). Short in-process job
/// (docs/performance.md, docs/export.md).
/// </summary>
[Config(typeof(ShortInProcess))]
[MedianColumn]
public class OnnxInferenceBenchmarks
{
    private sealed class ShortInProcess : ManualConfig
    {
        public ShortInProcess() => AddJob(Job.ShortRun.WithToolchain(new InProcessEmitToolchain(TimeSpan.FromHours(1), logOutput: false)));
    }

    private nn.Module<Tensor, Tensor> _network = null!;
    private Tensor _images = null!;
    private InferenceSession _session = null!;
    private OrtValue _input = null!;
    private readonly RunOptions _run = new();

    /// <summary>Which network.</summary>
    [Params("nb201", "darts")]
    public string Network { get; set; } = "nb201";

    /// <summary>Images per forward.</summary>
    [Params(1, 64)]
    public int Batch { get; set; } = 1;

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(1);
        torch.manual_seed(0);
        _network = Network == "nb201"
            ? new Nb201SearchSpace(new Nb201Options { Channels = 16, CellsPerStage = 5 })
                .CreateNetwork(Nb201Genotype.Parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"), DatasetInfo.Cifar10)
            : new DartsSearchSpace(new DartsSpaceOptions { NetworkChannels = 16, NetworkCells = 8, AuxiliaryHead = false })
                .CreateNetwork(DartsGenotype.DartsV2, DatasetInfo.Cifar10);
        _network.eval();
        // TorchSharp at its best here: oneDNN on when every convolution shape of this network passes the library's check.
        TorchRuntime.EnsureCorrectCpuKernels(_network);
        Console.WriteLine($"// {Network}: oneDNN {(TorchRuntime.OneDnnDisabled ? "off (" + TorchRuntime.OneDnnFailure + ")" : "on")}");
        var model = OnnxExporter.ExportToBytes(_network, [3, 32, 32]);
        _session = new InferenceSession(model, new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL });
        var data = new float[Batch * 3 * 32 * 32];
        var random = new Random(0);
        for (int i = 0; i < data.Length; i++) data[i] = (float)(random.NextDouble() * 2 - 1);
        _images = torch.tensor(data, [Batch, 3, 32, 32]);
        _input = OrtValue.CreateTensorValueFromMemory(data, [Batch, 3, 32, 32]);
    }

    [Benchmark(Baseline = true)]
    public float TorchSharp()
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        return _network.forward(_images)[0, 0].item<float>();
    }

    [Benchmark]
    public float OnnxRuntime()
    {
        using var outputs = _session.Run(_run, ["input"], [_input], ["logits"]);
        return outputs[0].GetTensorDataAsSpan<float>()[0];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _input.Dispose();
        _session.Dispose();
        _run.Dispose();
        _images.Dispose();
        _network.Dispose();
    }
}
