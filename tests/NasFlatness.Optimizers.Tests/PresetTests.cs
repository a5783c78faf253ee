using NasFlatness.Search;
using NasFlatness.SearchSpaces;
using NasFlatness.SearchSpaces.Nb201;
using Xunit;

namespace NasFlatness.Optimizers.Tests;

public sealed class PresetTests
{
    [Fact]
    public void EveryNameResolvesToItsPreset()
    {
        Assert.Equal(
            ["darts", "darts-2nd", "pc-darts", "pc-darts-a2m-repo", "beta-darts", "na-darts", "darts+a2m", "pc-darts+a2m", "pc-darts-a2m-repo+a2m", "beta-darts+a2m"],
            MethodPresets.Names);
        foreach (var name in MethodPresets.Names)
        {
            var preset = MethodPresets.Get(name);
            Assert.Equal(name, preset.Name);
            Assert.False(string.IsNullOrWhiteSpace(preset.Description));
            Assert.NotNull(preset.CreateOptimizer());
        }
        Assert.Same(MethodPresets.BetaDartsA2M, MethodPresets.Get("β-DARTS + A²M"));
        Assert.Same(MethodPresets.DartsSecondOrder, MethodPresets.Get("DARTS_V2"));
        Assert.Same(MethodPresets.PcDarts, MethodPresets.Get("PC-DARTS"));
        Assert.False(MethodPresets.TryGet("enas", out _));
        var unknown = Assert.Throws<ArgumentException>(() => MethodPresets.Get("enas"));
        Assert.Contains("beta-darts+a2m", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A2MIsRejectedWithSecondOrderDarts()
    {
        var ex = Assert.Throws<ArgumentException>(() => MethodPresets.Get("darts-2nd+a2m"));
        Assert.Contains("first-order", ex.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => MethodPresets.DartsSecondOrder.WithA2M());
        Assert.Throws<InvalidOperationException>(() => MethodPresets.DartsA2M.WithA2M());
    }

    [Fact]
    public void PresetsCarryTheirPapersSettings()
    {
        var user = new SearchOptions { Epochs = 10, Seed = 7, BatchSize = 32 };
        foreach (var preset in MethodPresets.All.Where(p => p.UsesA2M))
        {
            var o = preset.Apply(user);
            Assert.Equal(SelectionRule.BestSupernetValidationLoss, o.Selection);
            Assert.Equal(10, o.SelectionPatience);
            var regs = preset.CreateRegularizers("nas-bench-201");
            var a2m = Assert.IsType<A2MRegularizer>(regs[^1]);
            Assert.Equal(1e-2, a2m.Rho);
            Assert.Equal(1e-1, Assert.IsType<A2MRegularizer>(preset.CreateRegularizers("darts")[^1]).Rho);
        }
        Assert.Equal(SelectionRule.LastEpoch, MethodPresets.Darts.Apply(user).Selection);
        Assert.Equal(32, MethodPresets.Darts.Apply(user).BatchSize);
        Assert.Equal(10, user.Epochs); // not modified

        var pc = MethodPresets.PcDarts.Apply(new SearchOptions());
        Assert.Equal((256, 0.1, 0.0, 6e-4, 15), (pc.BatchSize, pc.WeightLearningRate, pc.WeightLearningRateMin, pc.ArchitectureLearningRate, pc.WarmupEpochs));
        Assert.Equal(SupernetFeatures.PartialChannels, MethodPresets.PcDarts.SupernetVariant);
        var pcSpace = new Nb201Options().WithSupernetVariant(MethodPresets.PcDarts);
        Assert.Equal((true, 4, PartialChannelScope.PerEdge, true), (pcSpace.PartialChannels, pcSpace.PartialChannelProportion, pcSpace.PartialChannelScope, pcSpace.EdgeNormalization));
        Assert.Equal(5, MethodPresets.PcDarts.Apply(new SearchOptions { Epochs = 5 }).WarmupEpochs); // clamped to the epochs

        var repo = MethodPresets.PcDartsA2MRepo.Apply(new SearchOptions());
        Assert.Equal((64, 0, SelectionRule.BestSupernetValidationLoss), (repo.BatchSize, repo.WarmupEpochs, repo.Selection));
        Assert.Equal(SupernetFeatures.PerCellPartialChannels, MethodPresets.PcDartsA2MRepo.SupernetVariant);
        var repoSpace = new Nb201Options().WithSupernetVariant(MethodPresets.PcDartsA2MRepo);
        Assert.Equal((true, 4, PartialChannelScope.PerCell, false), (repoSpace.PartialChannels, repoSpace.PartialChannelProportion, repoSpace.PartialChannelScope, repoSpace.EdgeNormalization));

        var beta = MethodPresets.BetaDartsA2M.CreateRegularizers();
        Assert.IsType<BetaDecayRegularizer>(beta[0]);
        Assert.IsType<A2MRegularizer>(beta[1]);
        Assert.Empty(MethodPresets.Darts.CreateRegularizers());
        Assert.IsType<NaDartsOptimizer>(MethodPresets.NaDarts.CreateOptimizer());
        Assert.False(MethodPresets.DartsSecondOrder.IsFirstOrder);
    }
}
