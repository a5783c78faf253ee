using NasFlatness.Evaluation;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace NasFlatness.Data.Tests;

/// <summary>The CIFAR-style corruptions, the corrupted dataset wrapper and the mean corruption error.</summary>
[Collection(TorchCollection.Name)]
public sealed class CorruptionTests
{
    private static readonly IReadOnlyList<float> Mean = CifarImages.Mean(CifarKind.Cifar10), Std = CifarImages.Std(CifarKind.Cifar10);

    /// <summary>The first <paramref name="count"/> CIFAR-10 test images in [0, 1], [B, 3, 32, 32].</summary>
    private static Tensor CifarImages01(int count)
    {
        var test = TestData.Cifar10Test;
        return torch.tensor(test.Pixels.AsSpan(0, count * CifarImages.ImageBytes).ToArray(), [count, 3, 32, 32], dtype: uint8).to(float32).div_(255f);
    }

    public static TheoryData<Corruption> AllCorruptions() => [.. ImageCorruptions.All];

    [Fact]
    public void ConstantsAreThoseOfCifar10C()
    {
        Assert.Equal(9, ImageCorruptions.All.Count);
        Assert.Equal([80.0, 65, 58, 50, 40], Enumerable.Range(1, 5).Select(s => ImageCorruptions.Parameter(Corruption.JpegCompression, s)));
        Assert.Equal([0.04, 0.06, 0.08, 0.09, 0.10], Enumerable.Range(1, 5).Select(s => ImageCorruptions.Parameter(Corruption.GaussianNoise, s)));
        Assert.Equal([500.0, 250, 100, 75, 50], Enumerable.Range(1, 5).Select(s => ImageCorruptions.Parameter(Corruption.ShotNoise, s)));
        Assert.Equal([0.75, 0.5, 0.4, 0.3, 0.15], Enumerable.Range(1, 5).Select(s => ImageCorruptions.Parameter(Corruption.Contrast, s)));
        Assert.Equal([0.4, 0.6, 0.7, 0.8, 1.0], Enumerable.Range(1, 5).Select(s => ImageCorruptions.Parameter(Corruption.GaussianBlur, s)));
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageCorruptions.Parameter(Corruption.Pixelate, 6));
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageCorruptions.Parameter(Corruption.Pixelate, 0));
    }

    [Fact]
    public void ContrastOfAConstantImageIsTheIdentity()
    {
        using var scope = torch.NewDisposeScope();
        var images = torch.stack([torch.full([3, 8, 8], 0.37f), torch.full([3, 8, 8], 0.9f)]);
        images[1, 2] = torch.full([8, 8], 0.1f); // constant per channel, different across channels
        for (int s = 1; s <= 5; s++)
            Assert.True(ImageCorruptions.Apply(images, Corruption.Contrast, s).allclose(images, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void GaussianNoiseIsReproducibleAndIsClippedAdditiveNoise()
    {
        using var scope = torch.NewDisposeScope();
        var x = CifarImages01(4);
        var a = ImageCorruptions.Apply(x, Corruption.GaussianNoise, 3, seed: 12);
        var b = ImageCorruptions.Apply(x, Corruption.GaussianNoise, 3, seed: 12);
        Assert.True(a.eq(b).all().item<bool>());
        Assert.False(ImageCorruptions.Apply(x, Corruption.GaussianNoise, 3, seed: 13).eq(a).all().item<bool>());
        for (int i = 0; i < 4; i++)
        {
            using var g = new torch.Generator((ulong)ImageCorruptions.ExampleSeed(12, i));
            var xi = torch.randn([3, 32, 32], dtype: float32, generator: g);
            var expected = x[i].add(xi.mul(0.08)).clamp(0.0, 1.0);
            Assert.True(expected.allclose(a[i], rtol: 0, atol: 1e-7));
        }
    }

    [Theory]
    [MemberData(nameof(AllCorruptions))]
    public void HigherSeverityChangesTheImagesMore(Corruption corruption)
    {
        using var scope = torch.NewDisposeScope();
        var x = CifarImages01(64);
        var changes = Enumerable.Range(1, 5).Select(s => ImageCorruptions.Apply(x, corruption, s, seed: 3).sub(x).abs().mean().item<float>()).ToArray();
        for (int s = 1; s < 5; s++)
            Assert.True(changes[s] > changes[s - 1], $"{corruption}: severity {s + 1} changes {changes[s]} ≤ severity {s}'s {changes[s - 1]}");
        Assert.True(changes[0] > 0);
    }

    [Theory]
    [MemberData(nameof(AllCorruptions))]
    public void ValuesStayInTheUnitIntervalAndShapeIsKept(Corruption corruption)
    {
        using var scope = torch.NewDisposeScope();
        var x = CifarImages01(16);
        var grey = x.mean([1], keepdim: true);
        for (int s = 1; s <= 5; s++)
        {
            foreach (var input in new[] { x, grey })
            {
                var y = ImageCorruptions.Apply(input, corruption, s, seed: 1);
                Assert.Equal(input.shape, y.shape);
                Assert.Equal(ScalarType.Float32, y.dtype);
                Assert.True(y.min().item<float>() >= 0f && y.max().item<float>() <= 1f);
                Assert.False(y.isnan().any().item<bool>());
            }
        }
    }

    [Fact]
    public void BrightnessEqualsTheHsvRoundTrip()
    {
        using var scope = torch.NewDisposeScope();
        var x = CifarImages01(3);
        x[0, .., 0, 0] = torch.zeros(3); // a black pixel: V' in every channel
        var y = ImageCorruptions.Apply(x, Corruption.Brightness, 4);
        var xs = x.data<float>().ToArray();
        var ys = y.data<float>().ToArray();
        for (int i = 0; i < 3; i++)
        {
            for (int p = 0; p < 1024; p += 7)
            {
                int o = i * 3072 + p;
                var (h, s, v) = RgbToHsv(xs[o], xs[o + 1024], xs[o + 2048]);
                var (r, g, b) = HsvToRgb(h, s, Math.Min(v + 0.2, 1.0));
                Assert.Equal(r, ys[o], 5);
                Assert.Equal(g, ys[o + 1024], 5);
                Assert.Equal(b, ys[o + 2048], 5);
            }
        }
        Assert.Equal(0.2f, y[0, 1, 0, 0].item<float>(), 6);
    }

    /// <summary>The textbook conversion (as skimage.color.rgb2hsv): V = max, S = (max − min)/max (0 when max = 0), H in [0, 1).</summary>
    private static (double H, double S, double V) RgbToHsv(double r, double g, double b)
    {
        double max = Math.Max(r, Math.Max(g, b)), min = Math.Min(r, Math.Min(g, b)), delta = max - min;
        double s = max == 0 ? 0 : delta / max;
        double h = delta == 0 ? 0 : max == r ? (g - b) / delta : max == g ? 2 + (b - r) / delta : 4 + (r - g) / delta;
        h = (h / 6) % 1;
        if (h < 0) h += 1;
        return (h, s, max);
    }

    private static (double R, double G, double B) HsvToRgb(double h, double s, double v)
    {
        int i = (int)Math.Floor(h * 6) % 6;
        double f = h * 6 - Math.Floor(h * 6), p = v * (1 - s), q = v * (1 - f * s), t = v * (1 - (1 - f) * s);
        return i switch { 0 => (v, t, p), 1 => (q, v, p), 2 => (p, v, t), 3 => (p, q, v), 4 => (t, p, v), _ => (v, p, q) };
    }

    [Fact]
    public void BlurAndPixelateKeepConstantImagesAndPixelateMakesBlocks()
    {
        using var scope = torch.NewDisposeScope();
        var constant = torch.full([2, 3, 32, 32], 0.6f);
        Assert.True(ImageCorruptions.Apply(constant, Corruption.GaussianBlur, 5).allclose(constant, rtol: 0, atol: 1e-6));
        Assert.True(ImageCorruptions.Apply(constant, Corruption.Pixelate, 5).allclose(constant, rtol: 0, atol: 1e-6));
        // Severity 5 pixelates 32 → 20 → 32: at most 20 distinct columns per row.
        var y = ImageCorruptions.Apply(CifarImages01(1), Corruption.Pixelate, 5);
        var row = y[0, 0, 10].data<float>().ToArray();
        Assert.True(row.Distinct().Count() <= 20);
        // Blur preserves the mean of an image away from its border up to the replicated edges; check a centred impulse spreads symmetrically.
        var impulse = torch.zeros([1, 1, 15, 15]);
        impulse[0, 0, 7, 7] = torch.tensor(1f);
        var blurred = ImageCorruptions.Apply(impulse, Corruption.GaussianBlur, 5);
        Assert.Equal(1.0, blurred.sum().item<float>(), 5);
        Assert.Equal(blurred[0, 0, 7, 5].item<float>(), blurred[0, 0, 5, 7].item<float>(), 6);
        double w0 = 1, w1 = Math.Exp(-0.5);
        double norm = Enumerable.Range(-4, 9).Sum(k => Math.Exp(-0.5 * k * k));
        Assert.Equal(w0 * w0 / (norm * norm), blurred[0, 0, 7, 7].item<float>(), 6);
        Assert.Equal(w0 * w1 / (norm * norm), blurred[0, 0, 7, 8].item<float>(), 6);
    }

    [Fact]
    public void CorruptedDatasetCorruptsOnlyTheTestSplitAndPerExample()
    {
        using var scope = torch.NewDisposeScope();
        using var clean = new CifarClassificationData(TestData.Cifar10Test, TestData.Cifar10Test,
            new CifarClassificationDataOptions { MaxTrainExamples = 8, MaxTestExamples = 16 });
        using var corrupted = new CorruptedDataset(clean, Corruption.GaussianNoise, 5, Mean, Std, seed: 2);
        Assert.Equal(clean.Info, corrupted.Info);
        Assert.Equal(16, corrupted.Count(EvaluationSplit.Test));
        var train1 = clean.GetBatch(EvaluationSplit.Train, [1, 2], true, new Random(4), torch.CPU);
        var train2 = corrupted.GetBatch(EvaluationSplit.Train, [1, 2], true, new Random(4), torch.CPU);
        Assert.True(train1.Images.eq(train2.Images).all().item<bool>());

        var alone = corrupted.GetBatch(EvaluationSplit.Test, [5], false, new Random(0), torch.CPU);
        var inBatch = corrupted.GetBatch(EvaluationSplit.Test, [3, 5, 9], false, new Random(0), torch.CPU);
        Assert.True(alone.Images[0].eq(inBatch.Images[1]).all().item<bool>());
        Assert.Equal(alone.Labels[0].item<long>(), inBatch.Labels[1].item<long>());

        // Un-normalised, the corrupted test image is the corruption of the clean one with example 5's noise.
        var mean = torch.tensor(Mean.ToArray(), [1, 3, 1, 1]);
        var std = torch.tensor(Std.ToArray(), [1, 3, 1, 1]);
        var x = CifarImages01(16)[5].unsqueeze(0);
        // (Gaussian noise: continuous in x, so the un-normalisation's rounding cannot flip a discrete draw as it could for shot noise.)
        var seed = ImageCorruptions.ExampleSeed(unchecked((2L * 1_000_003 + (int)Corruption.GaussianNoise) * 8 + 5), 5);
        var expected = ImageCorruptions.Apply(x, Corruption.GaussianNoise, 5, [seed]);
        Assert.True(alone.Images.mul(std).add(mean).allclose(expected, rtol: 0, atol: 1e-5));
        Assert.False(clean.GetBatch(EvaluationSplit.Test, [5], false, new Random(0), torch.CPU).Images.allclose(alone.Images, rtol: 0, atol: 1e-3));
    }

    [Fact]
    public void BoxResizeWeightsAreThoseOfPil()
    {
        // 32 → 30: scale 16/15, support 8/15; output pixel i averages the inputs j with |j + ½ − (i + ½)·16/15| < 8/15.
        var down = ImageCorruptions.BoxResize(32, 30);
        Assert.Equal([1.0, 0, 0], [down[0, 0], down[0, 1], down[0, 2]]);
        Assert.Equal([0.5, 0.5], [down[7, 7], down[7, 8]]);
        for (int i = 0; i < 30; i++) Assert.Equal(1.0, Enumerable.Range(0, 32).Sum(j => down[i, j]), 12);
        // Up-scaling 20 → 32 picks the input pixel under each output centre: ⌊(i + ½)·20/32⌋.
        var up = ImageCorruptions.BoxResize(20, 32);
        for (int i = 0; i < 32; i++) Assert.Equal(1.0, up[i, (int)((i + 0.5) * 20 / 32)]);
    }

    [Fact]
    public void CorruptedDatasetWorksOnGreyMedMnist()
    {
        using var scope = torch.NewDisposeScope();
        var data = MedMnistData.Load(NpyFiles.MedMnist("breastmnist"));
        using var clean = new MedMnistClassificationData(data, new MedMnistClassificationDataOptions { MaxTestExamples = 20 });
        using var corrupted = new CorruptedDataset(clean, Corruption.Brightness, 3, data.Train.Mean(), data.Train.Std());
        var batch = corrupted.GetBatch(EvaluationSplit.Test, [0, 1], false, new Random(0), torch.CPU);
        Assert.Equal([2, 1, 28, 28], batch.Images.shape);
        // Grey brightness is min(x + 0.15, 1).
        float m = data.Train.Mean()[0], s = data.Train.Std()[0];
        float x = data.Test.Pixel(1, 0, 14, 14) / 255f;
        Assert.Equal(Math.Min(x + 0.15f, 1f), batch.Images[1, 0, 14, 14].item<float>() * s + m, 4);
        Assert.Throws<ArgumentException>(() => new CorruptedDataset(clean, Corruption.Contrast, 1, Mean, Std));
    }

    /// <summary>A two-class dataset of random images whose last batch's labels a <see cref="Oracle"/> network can read.</summary>
    private sealed class LabelledNoise : IClassificationDataset
    {
        private readonly Tensor _x, _y;

        public LabelledNoise(int count)
        {
            var g = new torch.Generator(5);
            _x = torch.rand([count, 3, 8, 8], generator: g).sub_(0.5f).div_(0.25f);
            _y = torch.randint(0, 2, [count], generator: g);
        }

        public Tensor? LastLabels { get; private set; }

        public DatasetInfo Info => new(3, 8, 8, 2);

        public int Count(EvaluationSplit split) => (int)_y.shape[0];

        public Batch GetBatch(EvaluationSplit split, ReadOnlySpan<int> indices, bool augment, Random random, Device device)
        {
            var rows = torch.tensor(indices.ToArray().Select(i => (long)i).ToArray());
            var labels = _y.index_select(0, rows);
            LastLabels?.Dispose();
            LastLabels = labels.clone().DetachFromDisposeScope();
            return new Batch(_x.index_select(0, rows), labels);
        }

        public void Dispose()
        {
            _x.Dispose();
            _y.Dispose();
            LastLabels?.Dispose();
        }
    }

    /// <summary>Returns the true labels (one-hot) of the dataset's last batch, or always class 0.</summary>
    private sealed class Oracle(LabelledNoise data, bool perfect) : nn.Module<Tensor, Tensor>("oracle")
    {
        public override Tensor forward(Tensor input) => perfect
            ? nn.functional.one_hot(data.LastLabels!, 2).to(float32)
            : torch.tensor(new[] { 1f, 0f }).expand(input.shape[0], 2);
    }

    [Fact]
    public void PerfectClassifierHasZeroMeanCorruptionError()
    {
        using var scope = torch.NewDisposeScope();
        using var data = new LabelledNoise(40);
        var mean = new[] { 0.5f, 0.5f, 0.5f };
        var std = new[] { 0.25f, 0.25f, 0.25f };
        var report = MeanCorruptionError.Evaluate(new Oracle(data, perfect: true), data, mean, std, new MeanCorruptionErrorOptions { BatchSize = 16 });
        Assert.Equal(0.0, report.Mean);
        Assert.Equal(0.0, report.CleanError);
        Assert.Equal(ImageCorruptions.All, report.Errors.Keys.OrderBy(c => c));
        Assert.All(report.Errors.Values, e => Assert.Equal(new double[5], e));

        // Always "class 0": the error is the share of class 1, at every corruption and severity.
        double share = 100.0 * data.GetBatch(EvaluationSplit.Test, Enumerable.Range(0, 40).ToArray(), false, new Random(0), torch.CPU).Labels.sum().item<long>() / 40;
        var constant = MeanCorruptionError.Evaluate(new Oracle(data, perfect: false), data, mean, std,
            new MeanCorruptionErrorOptions { Corruptions = [Corruption.Contrast, Corruption.ShotNoise], Severities = [1, 5] });
        Assert.Equal(share, constant.Mean, 10);
        Assert.Equal(2, constant.MeanErrors.Count);
        Assert.Equal([1, 5], constant.Severities);
    }
}
