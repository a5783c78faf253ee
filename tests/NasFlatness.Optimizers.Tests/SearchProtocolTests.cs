using Xunit;

namespace NasFlatness.Optimizers.Tests;

public sealed class SearchProtocolTests
{
    [Fact]
    public void CpuProtocolKeepsThePapersProductOfAlphaLearningRateAndAlphaSteps()
    {
        var p = SearchProtocols.Get("CPU-NB201");
        Assert.Empty(p.Validate());
        Assert.Equal(40, p.StepsPerEpoch); // ⌈2500 / 64⌉
        // DARTS: paper 3e-4 × 391 × 50 = 5.865; protocol 40 × 40 = 1,600 steps → 3.666e-3.
        Assert.Equal(19_550, SearchProtocol.PaperArchitectureSteps(MethodPresets.Darts));
        Assert.Equal(1_600, p.ArchitectureSteps(MethodPresets.Darts));
        Assert.Equal(3e-4 * 19_550 / 1_600, p.ArchitectureLearningRate(MethodPresets.Darts), 15);
        // PC-DARTS: batch 256 → 98 steps × 35 α epochs × 6e-4 = 2.058; protocol warm-up round(15·40/50) = 12 → 40 × 28 steps.
        Assert.Equal(12, p.WarmupEpochs(MethodPresets.PcDarts));
        Assert.Equal(98L * 35, SearchProtocol.PaperArchitectureSteps(MethodPresets.PcDarts));
        Assert.Equal(6e-4 * 98 * 35 / (40 * 28), p.ArchitectureLearningRate(MethodPresets.PcDarts), 15);
        foreach (var preset in MethodPresets.All)
            Assert.Equal(preset.Apply().ArchitectureLearningRate * SearchProtocol.PaperArchitectureSteps(preset),
                p.ArchitectureLearningRate(preset) * p.ArchitectureSteps(preset), 9);
        var o = p.CreateOptions(MethodPresets.PcDarts, seed: 3);
        Assert.Equal((40, 64, 12, 3, 16), (o.Epochs, o.BatchSize, o.WarmupEpochs, o.Seed, o.EpochValidationBatches));
        Assert.Equal(0.1, o.WeightLearningRate); // the preset's own settings stay
        Assert.Equal(0.625, p.BetaDecaySlope);
        Assert.Contains("cpu-nb201", Assert.Throws<ArgumentException>(() => SearchProtocols.Get("gpu")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void QuickProtocolDerivesTheAlphaLearningRateFromPlainSettingsToo()
    {
        var q = SearchProtocols.Get("quick-nb201");
        Assert.Empty(q.Validate());
        Assert.Equal(20, q.StepsPerEpoch); // 1,280 / 64
        var dartsDefaults = new NasFlatness.Search.SearchOptions(); // the DARTS paper settings: 3e-4, batch 64, no warm-up
        Assert.Equal(19_550, SearchProtocol.PaperArchitectureSteps(dartsDefaults));
        Assert.Equal(320, q.ArchitectureSteps(dartsDefaults));
        Assert.Equal(3e-4 * 19_550 / 320, q.ArchitectureLearningRate(dartsDefaults), 15);
        Assert.Equal(q.ArchitectureLearningRate(MethodPresets.Darts), q.ArchitectureLearningRate(dartsDefaults), 15);
        Assert.Equal(5, q.WarmupEpochs(MethodPresets.PcDarts)); // round(15 × 16 / 50 = 4.8)
    }
}
