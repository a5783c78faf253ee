using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NasFlatness.Data;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace NasFlatness.Onnx.Tests;

/// <summary>The first 64 CIFAR-10 test images (test_batch.bin), normalised as the library's CIFAR data does: (x/255 − mean)/std.</summary>
internal static class Cifar64
{
    public const int Count = 64;

    private static readonly Lazy<float[]> ImagesLazy = new(() =>
    {
        var images = TestData.Cifar10Test;
        var mean = CifarImages.Mean(CifarKind.Cifar10);
        var std = CifarImages.Std(CifarKind.Cifar10);
        var result = new float[Count * CifarImages.ImageBytes];
        for (int i = 0; i < result.Length; i++)
        {
            int channel = i % CifarImages.ImageBytes / 1024;
            result[i] = (images.Pixels[i] / 255f - mean[channel]) / std[channel];
        }
        return result;
    });

    /// <summary>[64, 3, 32, 32] row-major.</summary>
    public static float[] Images => ImagesLazy.Value;

    public static Tensor Tensor(int count = Count) => torch.tensor(Images.AsSpan(0, count * CifarImages.ImageBytes).ToArray(), [count, 3, 32, 32]);
}

/// <summary>Compares a network's TorchSharp eval outputs with ONNX Runtime's outputs of its exported model.</summary>
internal static class OnnxParity
{
    public const float Tolerance = 1e-4f;

    /// <summary>
    /// Random BatchNorm scales and shifts, then three training-mode forwards on the real images so the running statistics move
    /// away from (0, 1): the exported BatchNorms are not the identity. Leaves the network in eval mode.
    /// </summary>
    public static void PrepareBatchNorms(nn.Module<Tensor, Tensor> network, int seed)
    {
        torch.manual_seed(seed);
        using var scope = torch.NewDisposeScope();
        using (torch.no_grad())
        {
            foreach (var bn in network.modules().OfType<BatchNorm2d>())
            {
                bn.weight?.uniform_(0.5, 1.5);
                bn.bias?.normal_(0, 0.2);
            }
            network.train();
            using var images = Cifar64.Tensor();
            for (int i = 0; i < 3; i++) network.forward(images).Dispose();
        }
        network.eval();
    }

    /// <summary>TorchSharp eval logits for the first <paramref name="count"/> images, row-major [count, classes].</summary>
    public static float[] TorchLogits(nn.Module<Tensor, Tensor> network, int count = Cifar64.Count)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        network.eval();
        return network.forward(Cifar64.Tensor(count)).contiguous().data<float>().ToArray();
    }

    public static InferenceSession Session(byte[] model, GraphOptimizationLevel level) =>
        new(model, new SessionOptions { GraphOptimizationLevel = level, IntraOpNumThreads = 1, InterOpNumThreads = 1 });

    /// <summary>Runs the model on the first <paramref name="count"/> images; every output by name, flattened.</summary>
    public static Dictionary<string, Array> Run(InferenceSession session, int count = Cifar64.Count, string input = "input")
    {
        var tensor = new DenseTensor<float>(Cifar64.Images.AsMemory(0, count * CifarImages.ImageBytes), [count, 3, 32, 32]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(input, tensor)]);
        return results.ToDictionary(r => r.Name, r => r.Value switch
        {
            Microsoft.ML.OnnxRuntime.Tensors.Tensor<float> f => (Array)f.ToArray(),
            Microsoft.ML.OnnxRuntime.Tensors.Tensor<long> l => l.ToArray(),
            var other => throw new InvalidOperationException($"Unexpected output type {other?.GetType().Name}."),
        });
    }

    /// <summary>Max absolute difference ≤ 1e-4 and the same argmax per row.</summary>
    public static void AssertSameLogits(float[] expected, float[] actual, int classes, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        float worst = 0;
        for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
        Assert.True(worst <= Tolerance, $"{what}: max |ONNX − TorchSharp| = {worst:E2} > {Tolerance:E0}");
        for (int row = 0; row < expected.Length / classes; row++)
            Assert.True(ArgMax(expected, row, classes) == ArgMax(actual, row, classes), $"{what}: image {row} has a different argmax");
    }

    public static int ArgMax(float[] logits, int row, int classes)
    {
        int best = 0;
        for (int c = 1; c < classes; c++)
            if (logits[row * classes + c] > logits[row * classes + best]) best = c;
        return best;
    }

    /// <summary>
    /// Exports the network, runs the model with ONNX Runtime's graph optimisations on and off on 64 real images, and checks
    /// the logits against TorchSharp's; checks batch 1 from the same model too. Returns the model's bytes.
    /// </summary>
    public static byte[] ExportAndCompare(nn.Module<Tensor, Tensor> network, OnnxExportOptions? options = null, string what = "")
    {
        var expected = TorchLogits(network);
        var model = OnnxExporter.ExportToBytes(network, [3, 32, 32], options);
        int classes = expected.Length / Cifar64.Count;
        foreach (var level in new[] { GraphOptimizationLevel.ORT_ENABLE_ALL, GraphOptimizationLevel.ORT_DISABLE_ALL })
        {
            using var session = Session(model, level);
            var logits = (float[])Run(session)[options?.OutputName ?? "logits"];
            AssertSameLogits(expected, logits, classes, $"{what} ({level}, batch 64)");
            var single = (float[])Run(session, count: 1)[options?.OutputName ?? "logits"];
            AssertSameLogits(expected.AsSpan(0, classes).ToArray(), single, classes, $"{what} ({level}, batch 1)");
        }
        return model;
    }
}
