using System.CommandLine;
using NasFlatness.Evaluation;
using Xunit;

namespace NasFlatness.Cli.Tests;

/// <summary><c>--weight-sharpness</c> and <c>--weight-rho</c>: the search's SAM / ASAM weight step from the command line.</summary>
[Collection(TorchCollection.Name)]
public sealed class WeightSharpnessOptionTests
{
    private static ParseResult Parse(SearchArguments a, params string[] args)
    {
        var command = new Command("search");
        a.AddTo(command);
        var parse = command.Parse([.. args, "--data", TestData.Cifar10]);
        Assert.Empty(parse.Errors);
        return parse;
    }

    private static SearchPlan Resolve(params string[] args)
    {
        var a = new SearchArguments();
        return SearchJob.Resolve(a.Read(Parse(a, args)));
    }

    [Fact]
    public void The_options_set_the_weight_step_and_the_default_is_plain_sgd()
    {
        Assert.Equal(SharpnessAwareness.None, Resolve("--method", "darts").Options.WeightSharpness);
        var asam = Resolve("--method", "darts", "--weight-sharpness", "asam", "--weight-rho", "2").Options;
        Assert.Equal((SharpnessAwareness.Asam, 2.0), (asam.WeightSharpness, asam.WeightSharpnessRho));
        var sam = Resolve("--weight-sharpness", "SAM").Options;
        Assert.Equal((SharpnessAwareness.Sam, 0.05), (sam.WeightSharpness, sam.WeightSharpnessRho));
    }

    [Fact]
    public void Wrong_values_are_refused_naming_the_flag()
    {
        var ex = Assert.Throws<CliInputException>(() => Resolve("--weight-sharpness", "flat", "--weight-rho", "-1"));
        Assert.Contains("--weight-sharpness 'flat' is invalid: expected none, sam or asam.", ex.Message);
        Assert.Contains("--weight-rho = -1 is invalid", ex.Message);
        Assert.Throws<CliInputException>(() => Resolve("--weight-sharpness", "1"));
    }
}
