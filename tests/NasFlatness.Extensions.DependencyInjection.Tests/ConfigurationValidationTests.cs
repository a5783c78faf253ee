using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NasFlatness.Evaluation;
using NasFlatness.Search;
using Xunit;

namespace NasFlatness.Tests;

/// <summary>Configuration never silently ignores the user: typos, presets over explicit values, paths in messages, knock-ons.</summary>
[Collection(TorchCollection.Name)]
public sealed partial class ConfigurationValidationTests
{
    private static ServiceProvider Build(Dictionary<string, string?> values) =>
        new ServiceCollection().AddNasFlatness(new ConfigurationBuilder().AddInMemoryCollection(values).Build().GetSection("NasFlatness")).Services.BuildServiceProvider();

    private static OptionsValidationException StartFails(ServiceProvider provider) =>
        Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

    [Fact]
    public void UnknownTopLevelKeyFailsNamingTheClosestValidKey()
    {
        using var provider = Build(new() { ["NasFlatness:Optimiser"] = "darts-1st", ["NasFlatness:Serach:Epochs"] = "3" });
        var ex = StartFails(provider);
        Assert.Contains("NasFlatness:Optimiser is not a NasFlatness setting; did you mean 'NasFlatness:Optimizer'?", ex.Message);
        Assert.Contains("NasFlatness:Serach is not a NasFlatness setting; did you mean 'NasFlatness:Search'?", ex.Message);
    }

    [Fact]
    public void UnknownNestedKeyFailsWithItsFullPath()
    {
        using var provider = Build(new() { ["NasFlatness:Search:Epoch"] = "3", ["NasFlatness:Nb201:Chanels"] = "8" });
        var ex = StartFails(provider);
        Assert.Contains("NasFlatness:Search:Epoch is not a NasFlatness setting; did you mean 'NasFlatness:Search:Epochs'?", ex.Message);
        Assert.Contains("NasFlatness:Nb201:Chanels is not a NasFlatness setting; did you mean 'NasFlatness:Nb201:Channels'?", ex.Message);
    }

    [Fact]
    public void KeysMatchCaseInsensitivelyAndListsAreNotWalked()
    {
        using var provider = Build(new()
        {
            ["NasFlatness:search:epochs"] = "3", ["NasFlatness:Regularizers:0"] = "beta-decay", ["NasFlatness:NB201:channels"] = "8",
        });
        provider.GetRequiredService<IStartupValidator>().Validate();
        Assert.Equal(3, provider.GetRequiredService<SearchRunner>().Options.Epochs);
    }

    [Fact]
    public void AnExplicitValueWinsOverThePresetAndUnsetValuesComeFromThePreset()
    {
        using var provider = Build(new()
        {
            ["NasFlatness:Method"] = "pc-darts",
            ["NasFlatness:Search:BatchSize"] = "32",
            ["NasFlatness:Search:Epochs"] = "20",
        });
        provider.GetRequiredService<IStartupValidator>().Validate();
        var options = provider.GetRequiredService<SearchRunner>().Options;
        Assert.Equal(32, options.BatchSize);                 // user's value, not PC-DARTS' 256
        Assert.Equal(6e-4, options.ArchitectureLearningRate); // preset's
        Assert.Equal(15, options.WarmupEpochs);               // preset's
        Assert.Equal(0.1, options.WeightLearningRate);        // preset's
    }

    [Fact]
    public void InCodeAValueOtherThanTheDefaultWinsOverThePreset()
    {
        using var provider = new ServiceCollection().AddNasFlatness(o =>
        {
            o.Method = "pc-darts";
            o.Search.ArchitectureLearningRate = 1e-2;
            o.Search.Epochs = 20;
        }).Services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        var options = provider.GetRequiredService<SearchRunner>().Options;
        Assert.Equal(1e-2, options.ArchitectureLearningRate);
        Assert.Equal(256, options.BatchSize);
    }

    [Fact]
    public void AnExplicitWarmupAboveEpochsIsAConflictNamedAtStart()
    {
        using var provider = Build(new() { ["NasFlatness:Method"] = "pc-darts", ["NasFlatness:Search:Epochs"] = "10", ["NasFlatness:Search:WarmupEpochs"] = "12" });
        var ex = StartFails(provider);
        Assert.Contains("NasFlatness:Search:WarmupEpochs = 12 is invalid", ex.Message);
    }

    [Fact]
    public void MethodWithAConflictingOptimizerFailsNamingThePath()
    {
        using var provider = Build(new() { ["NasFlatness:Method"] = "beta-darts", ["NasFlatness:Optimizer"] = "darts-2nd" });
        var ex = StartFails(provider);
        Assert.Contains("NasFlatness:Optimizer = 'darts-2nd' contradicts Method = 'beta-darts'", ex.Message);
    }

    [Fact]
    public void AKnockOnErrorIsNotReportedTwice()
    {
        using var provider = Build(new() { ["NasFlatness:Search:Epochs"] = "0", ["NasFlatness:Search:WarmupEpochs"] = "5" });
        var ex = StartFails(provider);
        Assert.Contains("NasFlatness:Search:Epochs = 0 is invalid", ex.Message);
        Assert.DoesNotContain("WarmupEpochs", ex.Message);
        Assert.Single(ex.Failures);
    }

    [Fact]
    public void PartialChannelsThatDoNotDivideTheChannelsFailAtStart()
    {
        // PC-DARTS samples 1/4 of the channels: C = 6 cannot be split into 4 parts.
        using var provider = Build(new() { ["NasFlatness:Method"] = "pc-darts", ["NasFlatness:Nb201:Channels"] = "6" });
        var ex = StartFails(provider);
        Assert.Contains("NasFlatness:Nb201:", ex.Message);
        Assert.Contains("6", ex.Message);
    }

    [Fact]
    public void LevenshteinDistanceMatchesHandWorkedExamples()
    {
        Assert.Equal(3, ErrorText.EditDistance("kitten", "sitting"));
        Assert.Equal(2, ErrorText.EditDistance("serach", "search"));
        Assert.Equal(0, ErrorText.EditDistance("", ""));
        Assert.Equal(4, ErrorText.EditDistance("", "abcd"));
    }

    [Fact]
    public void TheSharpnessAwareWeightStepBindsFromConfigurationAndItsRadiusIsNamedByPath()
    {
        using (var provider = Build(new() { ["NasFlatness:Search:WeightSharpness"] = "asam", ["NasFlatness:Search:WeightSharpnessRho"] = "2" }))
        {
            provider.GetRequiredService<IStartupValidator>().Validate();
            var options = provider.GetRequiredService<SearchRunner>().Options;
            Assert.Equal((SharpnessAwareness.Asam, 2.0), (options.WeightSharpness, options.WeightSharpnessRho));
        }
        using var invalid = Build(new() { ["NasFlatness:Search:WeightSharpness"] = "sam", ["NasFlatness:Search:WeightSharpnessRho"] = "0" });
        Assert.Contains("NasFlatness:Search:WeightSharpnessRho = 0 is invalid", StartFails(invalid).Message);
    }
}
