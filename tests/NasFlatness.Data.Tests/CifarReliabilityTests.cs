using NasFlatness.Data;
using Xunit;

namespace NasFlatness.Tests;

/// <summary>Issue 11's data cases: symbolic links, cut files, image counts beyond the data, the data fingerprint.</summary>
[Collection(TorchCollection.Name)]
public sealed class CifarReliabilityTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("nasflatness-cifar-rel-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private static readonly string[] Batches = ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"];

    private void LinkAll(params string[] except)
    {
        foreach (var file in Batches.Except(except))
            File.CreateSymbolicLink(Path.Combine(_temp, file), Path.Combine(TestData.Cifar10, file));
    }

    [Fact]
    public void SymlinkedFilesAreMeasuredAsTheirTargets()
    {
        LinkAll();
        var images = CifarImages.Load(_temp);
        Assert.Equal(50_000, images.Count);
        Assert.Equal(TestData.Cifar10Train.Labels, images.Labels);
        Assert.StartsWith(Path.GetFullPath(_temp), images.Source);
    }

    [Fact]
    public void BatchCutToHalfItsRecordsIsRejectedNamingTheFileAndCount()
    {
        LinkAll(except: "data_batch_2.bin");
        using (var source = File.OpenRead(Path.Combine(TestData.Cifar10, "data_batch_2.bin")))
        using (var cut = File.Create(Path.Combine(_temp, "data_batch_2.bin")))
        {
            var buffer = new byte[5_000 * 3073];
            source.ReadExactly(buffer);
            cut.Write(buffer);
        }
        var ex = Assert.Throws<InvalidDataException>(() => CifarImages.Load(_temp));
        Assert.Contains("data_batch_2.bin' (5,000 records)", ex.Message);
        Assert.Contains("10,000 each, as the official files", ex.Message);
    }

    [Fact]
    public void FileWithMoreRecordsThanTheOfficialOneIsRejected()
    {
        foreach (var file in Batches) File.WriteAllBytes(Path.Combine(_temp, file), new byte[3073 * 2]);
        File.WriteAllBytes(Path.Combine(_temp, "data_batch_4.bin"), new byte[3073 * 10_001]);
        var ex = Assert.Throws<InvalidDataException>(() => CifarImages.Load(_temp));
        Assert.Contains("data_batch_4.bin' holds 10,001 records, more than the 10,000", ex.Message);
    }

    [Theory]
    [InlineData(1_000_000, null, "MaxTrainExamples = 1,000,000 is more than the 25,000 images of the weight-training split")]
    [InlineData(null, 25_001, "MaxValidationExamples = 25,001 is more than the 25,000 images of the validation split")]
    public void MoreImagesThanTheDataHoldsIsAnError(int? train, int? valid, string expected)
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            new CifarSearchData(TestData.Cifar10Train, new CifarSearchDataOptions { MaxTrainExamples = train, MaxValidationExamples = valid }));
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void MoreTestImagesThanTheTestSetHoldsIsAnError()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            new CifarClassificationData(TestData.Cifar10Train, TestData.Cifar10Test, new CifarClassificationDataOptions { MaxTestExamples = 20_000 }));
        Assert.Contains("MaxTestExamples = 20,000 is more than the 10,000 test images", ex.Message);
    }

    [Fact]
    public void FingerprintNamesTheFolderTheFilesAndTheSplits()
    {
        using var data = new CifarSearchData(TestData.Cifar10Train, new CifarSearchDataOptions { MaxTrainExamples = 64, MaxValidationExamples = 32 });
        ISearchDataset search = data;
        Assert.Contains(Path.GetFullPath(TestData.Cifar10), search.Fingerprint);
        Assert.Contains("data_batch_5.bin 30730000", search.Fingerprint);
        Assert.Contains("train [0, 64), validation [25000, 25032)", search.Fingerprint);
    }
}
