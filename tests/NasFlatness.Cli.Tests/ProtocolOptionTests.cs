using System.CommandLine;
using NasFlatness.Optimizers;
using Xunit;

namespace NasFlatness.Cli.Tests;

/// <summary><c>--protocol</c>: which values it fills, what it derives, and that explicit options win.</summary>
[Collection(TorchCollection.Name)]
public sealed class ProtocolOptionTests
{
    private static SearchPlan Resolve(params string[] args)
    {
        var a = new SearchArguments();
        var command = new Command("search");
        a.AddTo(command);
        var parse = command.Parse([.. args, "--data", TestData.Cifar10]);
        Assert.Empty(parse.Errors);
        return SearchJob.Resolve(a.Read(parse));
    }

    [Fact]
    public void A_nas_bench_201_search_defaults_to_quick_nb201_with_the_alpha_lr_derived_from_the_papers_product()
    {
        var plan = Resolve("--method", "darts");
        var r = plan.Request;
        Assert.Equal("quick-nb201", r.Protocol);
        Assert.Equal((8, 1, 1280, 1280), (r.Channels, r.Cells, r.TrainExamples, r.ValidExamples));
        var o = plan.Options;
        Assert.Equal((16, 64, 0, 2), (o.Epochs, o.BatchSize, o.WarmupEpochs, o.EpochValidationBatches));
        // DARTS on NB201: 3e-4 × (391 steps × 50 epochs) = 5.865 spread over 20 steps × 16 epochs = 320 α steps.
        Assert.Equal(3e-4 * 391 * 50 / 320, o.ArchitectureLearningRate, 12);
        Assert.Equal("quick-nb201", plan.CompositionNames()["Protocol"]);
    }

    [Fact]
    public void The_derivation_follows_the_preset_and_the_values_the_user_gave()
    {
        // PC-DARTS: paper batch 256 → 98 steps, 15 warm-up epochs of 50 → 35 α epochs at 6e-4. Here warm-up round(15 × 16 / 50) = 5, 20 × 11 α steps.
        var pc = Resolve("--method", "pc-darts").Options;
        Assert.Equal((64, 5), (pc.BatchSize, pc.WarmupEpochs));
        Assert.Equal(6e-4 * 98 * 35 / (20 * 11), pc.ArchitectureLearningRate, 12);
        // Explicit epochs and images change the step count the α-lr is derived for: ⌈640 / 64⌉ × 4 = 40 steps.
        var small = Resolve("--method", "darts", "--epochs", "4", "--train-examples", "640");
        Assert.Equal((4, 640, 1280), (small.Options.Epochs, small.Request.TrainExamples, small.Request.ValidExamples));
        Assert.Equal(3e-4 * 19_550 / 40, small.Options.ArchitectureLearningRate, 12);
        // An explicit α-lr, warm-up or batch wins.
        var given = Resolve("--method", "pc-darts", "--arch-lr", "0.01", "--warmup", "2", "--batch-size", "32");
        Assert.Equal((0.01, 2, 32), (given.Options.ArchitectureLearningRate, given.Options.WarmupEpochs, given.Options.BatchSize));
        // The comparison protocol by name.
        var cpu = Resolve("--method", "darts", "--protocol", "cpu-nb201").Options;
        Assert.Equal(SearchProtocols.CpuNb201.ArchitectureLearningRate(MethodPresets.Darts), cpu.ArchitectureLearningRate, 12);
        Assert.Equal(40, cpu.Epochs);
    }

    [Fact]
    public void A_darts_space_search_defaults_to_quick_darts_derived_the_way_quick_nb201_is()
    {
        var plan = Resolve("--space", "darts", "--method", "darts");
        var r = plan.Request;
        Assert.Equal("quick-darts", r.Protocol);
        Assert.Equal((8, 5, 640, 640), (r.Channels, r.Cells, r.TrainExamples, r.ValidExamples));
        Assert.Equal((10, 64, 0, 2), (plan.Options.Epochs, plan.Options.BatchSize, plan.Options.WarmupEpochs, plan.Options.EpochValidationBatches));
        // DARTS paper: 3e-4 over ⌈25,000 / 64⌉ = 391 steps × 50 epochs; here 10 steps × 10 epochs = 100 α steps.
        Assert.Equal(3e-4 * 391 * 50 / 100, plan.Options.ArchitectureLearningRate, 12);
        var built = Assert.IsType<NasFlatness.SearchSpaces.Darts.DartsSearchSpace>(plan.Runner.SearchSpace);
        Assert.Equal((8, 5), (built.Options.Channels, built.Options.Cells));
        var wrong = Assert.Throws<CliInputException>(() => Resolve("--space", "nas-bench-201", "--protocol", "quick-darts"));
        Assert.Contains("--protocol quick-darts is a darts protocol", wrong.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Protocol_none_and_the_darts_space_keep_the_plain_defaults_and_a_wrong_name_is_refused()
    {
        var none = Resolve("--method", "darts", "--protocol", "none");
        Assert.Null(none.Request.Protocol);
        Assert.Equal((3e-4, SearchArguments.DefaultEpochs), (none.Options.ArchitectureLearningRate, none.Options.Epochs));
        Assert.Equal(SearchArguments.DefaultExamples, none.Request.TrainExamples);
        var darts = Resolve("--space", "darts", "--method", "darts", "--cells", "5", "--protocol", "none");
        Assert.Null(darts.Request.Protocol);
        Assert.Equal(3e-4, darts.Options.ArchitectureLearningRate);
        var wrong = Assert.Throws<CliInputException>(() => Resolve("--protocol", "gpu-nb201"));
        Assert.Contains("--protocol 'gpu-nb201' is invalid", wrong.Message, StringComparison.Ordinal);
        Assert.Contains("quick-nb201", wrong.Message, StringComparison.Ordinal);
        var mismatch = Assert.Throws<CliInputException>(() => Resolve("--space", "darts", "--protocol", "quick-nb201"));
        Assert.Contains("--protocol none", mismatch.Message, StringComparison.Ordinal);
    }
}
