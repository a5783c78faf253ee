using NasFlatness.Data;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace NasFlatness.Tests;

[Collection(TorchCollection.Name)]
public sealed class CifarTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("nasflatness-cifar-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private static byte[] RawRecord(string file, int record)
    {
        using var stream = File.OpenRead(Path.Combine(TestData.Cifar10, file));
        stream.Seek((long)record * 3073, SeekOrigin.Begin);
        var buffer = new byte[3073];
        stream.ReadExactly(buffer);
        return buffer;
    }

    [Theory]
    [InlineData("data_batch_1.bin", 0, 0)]
    [InlineData("data_batch_1.bin", 9_999, 9_999)]
    [InlineData("data_batch_2.bin", 0, 10_000)]
    [InlineData("data_batch_5.bin", 1_234, 41_234)]
    public void KnownRecordsHaveTheFilesLabelAndPixels(string file, int record, int index)
    {
        var raw = RawRecord(file, record);
        var images = TestData.Cifar10Train;
        Assert.Equal(raw[0], images.Labels[index]);
        Assert.True(raw.AsSpan(1).SequenceEqual(images.Image(index)));
    }

    [Fact]
    public void TrainAndTestSetsAreClassBalanced()
    {
        var train = TestData.Cifar10Train;
        Assert.Equal(50_000, train.Count);
        Assert.All(train.Labels.GroupBy(l => l), g => Assert.Equal(5_000, g.Count()));
        var test = CifarImages.Load(TestData.Cifar10, CifarKind.Cifar10, train: false);
        Assert.Equal(10_000, test.Count);
        Assert.All(test.Labels.GroupBy(l => l), g => Assert.Equal(1_000, g.Count()));
    }

    [Fact]
    public void ParentFolderIsAcceptedToo()
    {
        var images = CifarImages.Load(Path.GetDirectoryName(TestData.Cifar10)!, CifarKind.Cifar10, train: false);
        Assert.Equal(10_000, images.Count);
    }

    [Fact]
    public void MissingFolderIsNamed()
    {
        var missing = Path.Combine(_temp, "nope");
        var ex = Assert.Throws<DirectoryNotFoundException>(() => CifarImages.Load(missing));
        Assert.Contains(missing, ex.Message);
    }

    [Fact]
    public void MissingFileIsNamed()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => CifarImages.Load(_temp));
        Assert.Contains("data_batch_1.bin", ex.Message);
    }

    private void WriteBatches(Func<int, byte[]> content)
    {
        for (int i = 1; i <= 5; i++) File.WriteAllBytes(Path.Combine(_temp, $"data_batch_{i}.bin"), content(i));
    }

    [Fact]
    public void TruncatedFileIsNamed()
    {
        WriteBatches(i => new byte[i == 3 ? 3073 * 2 + 100 : 3073 * 2]);
        var ex = Assert.Throws<InvalidDataException>(() => CifarImages.Load(_temp));
        Assert.Contains("data_batch_3.bin", ex.Message);
        Assert.Contains("6,246 bytes", ex.Message);
        Assert.Contains("3,073-byte", ex.Message);
    }

    [Fact]
    public void WrongRecordSizeIsReported()
    {
        // Ten CIFAR-100 records (3,074 bytes) are not a whole number of CIFAR-10 records.
        WriteBatches(_ => new byte[3074 * 10]);
        var ex = Assert.Throws<InvalidDataException>(() => CifarImages.Load(_temp));
        Assert.Contains("30,740 bytes", ex.Message);
    }

    [Fact]
    public void OutOfRangeLabelIsReportedWithItsRecord()
    {
        WriteBatches(i =>
        {
            var bytes = new byte[3073 * 3];
            if (i == 2) bytes[3073 * 1] = 12;
            return bytes;
        });
        var ex = Assert.Throws<InvalidDataException>(() => CifarImages.Load(_temp));
        Assert.Contains("data_batch_2.bin", ex.Message);
        Assert.Contains("record 1 has label 12", ex.Message);
    }

    [Fact]
    public void SplitIsHalfAndHalfByIndex()
    {
        using var data = new CifarSearchData(TestData.Cifar10Train);
        Assert.Equal(25_000, data.Count(SearchSplit.Train));
        Assert.Equal(25_000, data.Count(SearchSplit.Validation));
        using var scope = torch.NewDisposeScope();
        // Validation index 0 is training-set image 25,000.
        var b = data.GetBatch(SearchSplit.Validation, new[] { 0 }, false, new Random(0), torch.CPU);
        Assert.Equal(TestData.Cifar10Train.Labels[25_000], (byte)b.Labels[0].item<long>());
    }

    private static float Expected(CifarImages images, int index, int channel, int y, int x)
    {
        if (y < 0 || y >= 32 || x < 0 || x >= 32) return (0f - CifarImages.Mean(CifarKind.Cifar10)[channel]) / CifarImages.Std(CifarKind.Cifar10)[channel];
        byte v = images.Image(index)[channel * 1024 + y * 32 + x];
        return (v / 255f - CifarImages.Mean(CifarKind.Cifar10)[channel]) / CifarImages.Std(CifarKind.Cifar10)[channel];
    }

    [Fact]
    public void PlainBatchIsTheNormalisedImage()
    {
        var images = TestData.Cifar10Train;
        using var data = new CifarSearchData(images, new CifarSearchDataOptions { MaxTrainExamples = 100, MaxValidationExamples = 10 });
        using var scope = torch.NewDisposeScope();
        var b = data.GetBatch(SearchSplit.Train, new[] { 7, 3 }, false, new Random(0), torch.CPU);
        Assert.Equal(new long[] { 2, 3, 32, 32 }, b.Images.shape);
        var values = b.Images.data<float>().ToArray();
        for (int c = 0; c < 3; c++)
            foreach (var (y, x) in new[] { (0, 0), (5, 17), (31, 31) })
                Assert.Equal(Expected(images, 3, c, y, x), values[((1 * 3 + c) * 32 + y) * 32 + x], 5);
        Assert.Equal(images.Labels[7], (byte)b.Labels[0].item<long>());
    }

    [Fact]
    public void AugmentedBatchIsTheSeededCropAndFlip()
    {
        var images = TestData.Cifar10Train;
        using var data = new CifarSearchData(images, new CifarSearchDataOptions { MaxTrainExamples = 100, MaxValidationExamples = 10 });
        using var scope = torch.NewDisposeScope();
        int[] idx = [11, 42, 5, 99];
        var b = data.GetBatch(SearchSplit.Train, idx, true, new Random(1234), torch.CPU);
        var values = b.Images.data<float>().ToArray();

        // Independent replay of the documented draw order: per example dy, dx in 0..8, then flip.
        var rng = new Random(1234);
        bool anyFlip = false, anyShift = false;
        for (int i = 0; i < idx.Length; i++)
        {
            int dy = rng.Next(9), dx = rng.Next(9);
            bool flip = rng.Next(2) == 1;
            anyFlip |= flip;
            anyShift |= dy != 4 || dx != 4;
            for (int c = 0; c < 3; c++)
            for (int y = 0; y < 32; y += 3)
            for (int x = 0; x < 32; x += 3)
            {
                int srcX = (flip ? 31 - x : x) + dx - 4, srcY = y + dy - 4;
                Assert.Equal(Expected(images, idx[i], c, srcY, srcX), values[((i * 3 + c) * 32 + y) * 32 + x], 5);
            }
        }
        Assert.True(anyFlip && anyShift);
    }

    [Fact]
    public void BadOptionsAreNamed()
    {
        var ex = Assert.Throws<ArgumentException>(() => new CifarSearchData(TestData.Cifar10Train, new CifarSearchDataOptions { TrainPortion = 1.5 }));
        Assert.Contains("TrainPortion = 1.5", ex.Message);
    }
}
