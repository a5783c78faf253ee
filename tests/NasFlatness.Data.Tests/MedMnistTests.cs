using NasFlatness.Evaluation;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace NasFlatness.Data.Tests;

/// <summary>
/// The MedMNIST reader on the real files in shared/data/medmnist. Expected counts and label histograms are those of
/// medmnist/README.md; expected pixel values and sums were produced once by an independent reader written in plain Python
/// (zipfile + struct + ast.literal_eval of the .npy header, no numpy), indexing the raw channel-last bytes.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class MedMnistTests
{
    private static readonly Dictionary<string, MedMnistData> Cache = [];

    private static MedMnistData Load(string name)
    {
        lock (Cache)
        {
            if (!Cache.TryGetValue(name, out var data)) Cache[name] = data = MedMnistData.Load(NpyFiles.MedMnist(name));
            return data;
        }
    }

    [Theory]
    [InlineData("breastmnist", 546, 78, 156, 1, 2)]
    [InlineData("pneumoniamnist", 4_708, 524, 624, 1, 2)]
    [InlineData("retinamnist", 1_080, 120, 400, 3, 5)]
    public void SplitsChannelsAndClassesAreTheOfficialOnes(string name, int train, int val, int test, int channels, int classes)
    {
        var data = Load(name);
        Assert.Equal(name, data.Name);
        Assert.Equal((train, val, test), (data.Train.Count, data.Validation.Count, data.Test.Count));
        Assert.Equal(new DatasetInfo(channels, 28, 28, classes), data.Info);
        Assert.Equal(classes, data.ClassCount);
        foreach (var split in new[] { data.Train, data.Validation, data.Test })
        {
            Assert.Equal(channels, split.Channels);
            Assert.Equal(split.Count * channels * 28 * 28, split.Pixels.Length);
            Assert.All(split.Labels, l => Assert.InRange(l, 0, classes - 1));
        }
    }

    [Theory]
    [InlineData("breastmnist", new[] { 147, 399 }, new[] { 21, 57 }, new[] { 42, 114 })]
    [InlineData("pneumoniamnist", new[] { 1214, 3494 }, new[] { 135, 389 }, new[] { 234, 390 })]
    [InlineData("retinamnist", new[] { 486, 128, 206, 194, 66 }, new[] { 54, 12, 28, 20, 6 }, new[] { 174, 46, 92, 68, 20 })]
    public void LabelHistogramsMatchTheReadme(string name, int[] train, int[] val, int[] test)
    {
        var data = Load(name);
        static int[] Histogram(MedMnistImages s, int classes) => [.. Enumerable.Range(0, classes).Select(c => s.Labels.Count(l => l == c))];
        Assert.Equal(train, Histogram(data.Train, data.ClassCount));
        Assert.Equal(val, Histogram(data.Validation, data.ClassCount));
        Assert.Equal(test, Histogram(data.Test, data.ClassCount));
    }

    [Fact]
    public void GreyPixelsAndLabelsAreTheFilesBytes()
    {
        var data = Load("breastmnist");
        Assert.Equal([139, 139, 138, 139], Enumerable.Range(0, 4).Select(c => data.Train.Pixel(0, 0, 0, c)));
        Assert.Equal(85, data.Train.Pixel(1, 0, 14, 14));
        Assert.Equal(20, data.Train.Pixel(545, 0, 27, 27));
        Assert.Equal([177, 174, 172, 168], Enumerable.Range(0, 4).Select(c => data.Validation.Pixel(0, 0, 0, c)));
        Assert.Equal(45, data.Test.Pixel(1, 0, 14, 14));
        Assert.Equal(35_757_482L, data.Train.Pixels.Sum(b => (long)b));
        Assert.Equal(10_478_773L, data.Test.Pixels.Sum(b => (long)b));
        Assert.Equal([1, 1, 1, 1, 0], data.Train.Labels.Take(5));
        Assert.Equal([0, 1, 1, 1, 1], data.Test.Labels.Take(5));
        var pneumonia = Load("pneumoniamnist");
        Assert.Equal(207, pneumonia.Train.Pixel(1, 0, 14, 14));
        Assert.Equal(538_305_934L, pneumonia.Train.Pixels.Sum(b => (long)b));
    }

    [Fact]
    public void RgbPixelsAreTransposedToChannelMajor()
    {
        var data = Load("retinamnist");
        // The file's first bytes (channel-last) are R, G, B of pixel (0, 0), then R of pixel (0, 1).
        Assert.Equal((2, 0, 6), (data.Train.Pixel(0, 0, 0, 0), data.Train.Pixel(0, 1, 0, 0), data.Train.Pixel(0, 2, 0, 0)));
        Assert.Equal(4, data.Train.Pixel(0, 0, 0, 1));
        Assert.Equal((238, 151, 132), (data.Train.Pixel(1, 0, 14, 14), data.Train.Pixel(1, 1, 14, 14), data.Train.Pixel(1, 2, 14, 14)));
        Assert.Equal((138, 85, 41), (data.Test.Pixel(1, 0, 14, 14), data.Test.Pixel(1, 1, 14, 14), data.Test.Pixel(1, 2, 14, 14)));
        Assert.Equal(7, data.Train.Pixel(1_079, 2, 27, 27));
        Assert.Equal(172_486_755L, data.Train.Pixels.Sum(b => (long)b));
        Assert.Equal([0, 0, 0, 4, 3], data.Train.Labels.Take(5));
    }

    [Fact]
    public void StatisticsArePerChannelOverTheSplit()
    {
        var data = Load("retinamnist");
        var train = data.Train;
        for (int c = 0; c < 3; c++)
        {
            var values = Enumerable.Range(0, train.Count).SelectMany(i => train.Image(i).Slice(c * 784, 784).ToArray()).Select(b => b / 255.0).ToArray();
            double mean = values.Average();
            double std = Math.Sqrt(values.Select(v => (v - mean) * (v - mean)).Average());
            Assert.Equal(mean, train.Mean()[c], 5);
            Assert.Equal(std, train.Std()[c], 5);
        }
        // Grey: the sum from the independent reader.
        var breast = Load("breastmnist");
        Assert.Equal(35_757_482.0 / (546 * 784) / 255, breast.Train.Mean()[0], 5);
    }

    [Fact]
    public void SearchDataDefaultsToOfficialTrainAndValidation()
    {
        var data = Load("breastmnist");
        using var search = new MedMnistSearchData(data);
        Assert.Equal(546, search.Count(SearchSplit.Train));
        Assert.Equal(78, search.Count(SearchSplit.Validation));
        Assert.Equal(data.Info, search.Info);
        using var scope = torch.NewDisposeScope();
        var batch = search.GetBatch(SearchSplit.Validation, [0, 3], augment: false, new Random(0), torch.CPU);
        Assert.Equal([2, 1, 28, 28], batch.Images.shape);
        float mean = data.Train.Mean()[0], std = data.Train.Std()[0];
        Assert.Equal((data.Validation.Pixel(3, 0, 5, 7) / 255f - mean) / std, batch.Images[1, 0, 5, 7].item<float>(), 5);
        Assert.Equal(data.Validation.Labels[3], batch.Labels[1].item<long>());
    }

    [Fact]
    public void SplitTrainHalvesTheTrainingImagesByIndex()
    {
        var data = Load("breastmnist");
        using var search = new MedMnistSearchData(data, new MedMnistSearchDataOptions { Split = MedMnistSearchSplit.SplitTrain });
        Assert.Equal(273, search.Count(SearchSplit.Train));
        Assert.Equal(273, search.Count(SearchSplit.Validation));
        using var scope = torch.NewDisposeScope();
        var batch = search.GetBatch(SearchSplit.Validation, [0], augment: false, new Random(0), torch.CPU);
        Assert.Equal(data.Train.Labels[273], batch.Labels[0].item<long>());
        float mean = data.Train.Mean()[0], std = data.Train.Std()[0];
        Assert.Equal((data.Train.Pixel(273, 0, 10, 11) / 255f - mean) / std, batch.Images[0, 0, 10, 11].item<float>(), 5);
    }

    [Fact]
    public void AugmentedRgbBatchIsTheSeededCropAndFlip()
    {
        var data = Load("retinamnist");
        using var search = new MedMnistSearchData(data, new MedMnistSearchDataOptions { MaxTrainExamples = 8 });
        using var scope = torch.NewDisposeScope();
        var batch = search.GetBatch(SearchSplit.Train, [2, 5], augment: true, new Random(7), torch.CPU);
        Assert.Equal([2, 3, 28, 28], batch.Images.shape);
        var mean = data.Train.Mean();
        var std = data.Train.Std();
        // Replay the draws: per example dy, dx in 0..8, then the flip.
        var random = new Random(7);
        int[] rows = [2, 5];
        for (int e = 0; e < 2; e++)
        {
            int dy = random.Next(9), dx = random.Next(9);
            bool flip = random.Next(2) == 1;
            for (int c = 0; c < 3; c++)
            {
                for (int y = 0; y < 28; y += 9)
                {
                    for (int x = 0; x < 28; x += 5)
                    {
                        int sx = dx + (flip ? 27 - x : x) - 4, sy = dy + y - 4;
                        float raw = sy is >= 0 and < 28 && sx is >= 0 and < 28 ? data.Train.Pixel(rows[e], c, sy, sx) / 255f : 0f;
                        Assert.Equal((raw - mean[c]) / std[c], batch.Images[e, c, y, x].item<float>(), 5);
                    }
                }
            }
        }
    }

    [Fact]
    public void ClassificationDataTrainsOnTrainOptionallyWithValidation()
    {
        var data = Load("pneumoniamnist");
        using (var plain = new MedMnistClassificationData(data))
        {
            Assert.Equal(4_708, plain.Count(EvaluationSplit.Train));
            Assert.Equal(624, plain.Count(EvaluationSplit.Test));
        }
        using var withVal = new MedMnistClassificationData(data, new MedMnistClassificationDataOptions { IncludeValidationInTraining = true });
        Assert.Equal(4_708 + 524, withVal.Count(EvaluationSplit.Train));
        using var scope = torch.NewDisposeScope();
        var batch = withVal.GetBatch(EvaluationSplit.Train, [4_708 + 2], augment: false, new Random(0), torch.CPU);
        Assert.Equal(data.Validation.Labels[2], batch.Labels[0].item<long>());
        float mean = data.Train.Mean()[0], std = data.Train.Std()[0];
        Assert.Equal((data.Validation.Pixel(2, 0, 3, 4) / 255f - mean) / std, batch.Images[0, 0, 3, 4].item<float>(), 5);
        // The test split is never augmented.
        var test1 = withVal.GetBatch(EvaluationSplit.Test, [0, 1], augment: true, new Random(1), torch.CPU);
        var test2 = withVal.GetBatch(EvaluationSplit.Test, [0, 1], augment: false, new Random(2), torch.CPU);
        Assert.True(test1.Images.eq(test2.Images).all().item<bool>());
        Assert.Equal((data.Test.Pixel(1, 0, 14, 14) / 255f - mean) / std, test2.Images[1, 0, 14, 14].item<float>(), 5);
    }

    [Fact]
    public void NormalisedTrainingImagesHaveZeroMeanAndUnitStd()
    {
        var data = Load("breastmnist");
        using var eval = new MedMnistClassificationData(data);
        using var scope = torch.NewDisposeScope();
        var all = eval.GetBatch(EvaluationSplit.Train, Enumerable.Range(0, 546).ToArray(), augment: false, new Random(0), torch.CPU).Images.to(float64);
        Assert.Equal(0.0, all.mean().item<double>(), 4);
        Assert.Equal(1.0, all.std(unbiased: false).item<double>(), 4);
    }

    [Fact]
    public void BadOptionsAndIndicesAreNamed()
    {
        var data = Load("breastmnist");
        var ex = Assert.Throws<ArgumentException>(() => new MedMnistSearchData(data, new MedMnistSearchDataOptions { TrainPortion = 1.5 }));
        Assert.Contains("TrainPortion", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => new MedMnistClassificationData(data, new MedMnistClassificationDataOptions { CropPadding = -1 }));
        Assert.Contains("CropPadding", ex.Message);
        using var search = new MedMnistSearchData(data);
        Assert.Throws<ArgumentOutOfRangeException>(() => search.GetBatch(SearchSplit.Validation, [78], false, new Random(0), torch.CPU));
    }
}
