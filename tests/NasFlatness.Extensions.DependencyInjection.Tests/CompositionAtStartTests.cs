using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NasFlatness.Search;
using Xunit;

namespace NasFlatness.Tests;

/// <summary>Issue 24: a composition the runner would refuse fails at host start, naming the configuration path.</summary>
public sealed partial class ConfigurationValidationTests
{
    [Fact]
    public void SecondOrderDartsWithA2MFailsAtStartNamingThePaths()
    {
        using var provider = Build(new() { ["NasFlatness:Optimizer"] = "darts-2nd", ["NasFlatness:Regularizers:0"] = "a2m" });
        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("NasFlatness:Regularizers = 'a2m' needs a first-order optimizer", ex.Message);
        Assert.Contains("but Optimizer = 'darts-2nd' is not first order", ex.Message);
        // The runner itself refuses the same composition (the check at start says what resolving it would).
        Assert.ThrowsAny<Exception>(() => provider.GetRequiredService<SearchRunner>());
    }

    [Fact]
    public void FirstOrderDartsWithA2MStarts()
    {
        using var provider = Build(new() { ["NasFlatness:Optimizer"] = "darts-1st", ["NasFlatness:Regularizers:0"] = "a2m" });
        provider.GetRequiredService<IStartupValidator>().Validate();
        Assert.Equal(["a2m"], provider.GetRequiredService<SearchRunner>().Regularizers.Select(r => r.Name));
    }

    [Fact]
    public void AMistypedMethodGetsADidYouMean()
    {
        using var provider = Build(new() { ["NasFlatness:Method"] = "dartz" });
        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("NasFlatness:Method = 'dartz' is invalid (did you mean 'darts'?)", ex.Message);
    }
}
