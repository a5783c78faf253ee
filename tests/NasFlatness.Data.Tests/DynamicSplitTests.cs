using NasFlatness.Data;
using TorchSharp;
using Xunit;

namespace NasFlatness.Tests;

[Collection(TorchCollection.Name)]
public sealed class DynamicSplitTests
{
    private static long[] ValidationLabels(CifarSearchData data)
    {
        using var scope = torch.NewDisposeScope();
        return data.GetBatch(SearchSplit.Validation, [0, 1, 2, 3], false, new Random(0), torch.CPU).Labels.data<long>().ToArray();
    }

    private static long[] Labels(NasFlatness.Data.CifarImages images, int start) => Enumerable.Range(start, 4).Select(i => (long)images.Labels[i]).ToArray();

    [Fact]
    public void TenElevenSplitHasTheCodesSizes()
    {
        Assert.Equal(10.0 / 11, CifarSearchDataOptions.DynamicSplitTrainPortion, 15);
        Assert.Equal(1 - 1 / (1 + 10.0), CifarSearchDataOptions.DynamicSplitTrainPortion);
        var images = TestData.Cifar10Train;
        using var data = new CifarSearchData(images, new CifarSearchDataOptions { TrainPortion = CifarSearchDataOptions.DynamicSplitTrainPortion });
        Assert.Equal(45_454, data.Count(SearchSplit.Train)); // ⌊50,000 · 10/11⌋, as the code's np.floor
        Assert.Equal(4_546, data.Count(SearchSplit.Validation));
    }

    [Fact]
    public void ValidationStartsAtTheSplitAndTheDefaultIsUnchanged()
    {
        var images = TestData.Cifar10Train;
        using (var dyno = new CifarSearchData(images, new CifarSearchDataOptions { TrainPortion = CifarSearchDataOptions.DynamicSplitTrainPortion, MaxTrainExamples = 4, MaxValidationExamples = 4 }))
        {
            Assert.Equal((4, 4), (dyno.Count(SearchSplit.Train), dyno.Count(SearchSplit.Validation)));
            Assert.Equal(Labels(images, 45_454), ValidationLabels(dyno));
        }
        var defaults = new CifarSearchDataOptions();
        Assert.Equal(0.5, defaults.TrainPortion);
        Assert.Empty(defaults.Validate());
        using var half = new CifarSearchData(images, new CifarSearchDataOptions { MaxTrainExamples = 4, MaxValidationExamples = 4 });
        Assert.Equal(Labels(images, 25_000), ValidationLabels(half));
        Assert.NotEqual(Labels(images, 25_000), Labels(images, 45_454)); // the two checks cannot pass by chance
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void TrainPortionOutsideTheOpenUnitIntervalIsNamed(double portion)
    {
        var errors = new CifarSearchDataOptions { TrainPortion = portion }.Validate();
        Assert.Contains(errors, e => e.StartsWith("TrainPortion = ", StringComparison.Ordinal) && e.Contains("must be in (0, 1)", StringComparison.Ordinal));
        var ex = Assert.Throws<ArgumentException>(() => new CifarSearchData(TestData.Cifar10Train, new CifarSearchDataOptions { TrainPortion = portion, MaxValidationExamples = 0 }));
        Assert.Contains("TrainPortion", ex.Message, StringComparison.Ordinal);
        Assert.Contains("MaxValidationExamples = 0", ex.Message, StringComparison.Ordinal);
    }
}
