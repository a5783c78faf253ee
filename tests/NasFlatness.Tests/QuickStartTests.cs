using NasFlatness.QuickStart;
using Xunit;

namespace NasFlatness.Tests;

[Collection(TorchCollection.Name)]
public sealed class QuickStartTests
{
    /// <summary>Runs the quick start in-process, capturing its standard output and error.</summary>
    internal static (int Code, string Out, string Err) Run(params string[] args)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try
        {
            return (QuickStartApp.Run(args), stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }

    [Theory]
    [InlineData(new[] { "--data", "/no/such/folder" }, "--data folder '/no/such/folder' does not exist")]
    [InlineData(new[] { "--lookup", "|nor_conv_3x3~0|+|oops~0|none~1|+|none~0|none~1|none~2|" }, "Unknown operation 'oops'")]
    [InlineData(new[] { "--epochs", "0" }, "Epochs = 0 is invalid")]
    [InlineData(new[] { "--optimizer", "sgd" }, "--optimizer 'sgd' is not known")]
    [InlineData(new[] { "--channels", "abc" }, "abc")]
    [InlineData(new[] { "--method", "magic" }, "Method = 'magic' is invalid")]
    public void BadInputGivesOneLineErrorAndNonZeroExit(string[] args, string expected)
    {
        var (code, _, err) = Run(args);
        Assert.Equal(QuickStartApp.BadInput, code);
        Assert.StartsWith("error: ", err);
        Assert.Contains(expected, err);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void LookupPrintsTheTableAccuracies()
    {
        var (code, output, _) = Run("--lookup", "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|");
        Assert.Equal(0, code);
        Assert.Contains("CIFAR-10 test 54.30%", output);
    }

    [Fact]
    public void TinySearchPrintsGenotypePerEpochAndTheTableAccuracy()
    {
        var (code, output, err) = Run("--data", TestData.Cifar10, "--epochs", "2", "--channels", "4", "--train-examples", "64", "--valid-examples", "64", "--batch-size", "32");
        Assert.True(code == 0, err);
        Assert.Contains("epoch   1", output);
        Assert.Contains("epoch   2", output);
        Assert.Matches(@"NAS-Bench-201 #\d+ \|.*\|: CIFAR-10 test \d+\.\d\d%", output);
    }

    [Fact]
    public void An_explicit_batch_size_wins_over_the_presets_and_a_warmup_that_covers_the_run_is_announced()
    {
        // pc-darts fixes batch 256 and 15 warm-up epochs: --batch-size 64 equals the default and must still win; 2 epochs are all warm-up.
        var (code, output, err) = Run("--data", TestData.Cifar10, "--method", "pc-darts", "--epochs", "2", "--channels", "4", "--train-examples", "64",
            "--valid-examples", "64", "--batch-size", "64", "--threads", "1");
        Assert.True(code == 0, err);
        Assert.Contains("batch 64,", output, StringComparison.Ordinal);
        Assert.Contains("warning: the preset's warm-up covers all 2 epochs (pc-darts warms up for 15 of its paper's 50), so α will not move", output, StringComparison.Ordinal);
        // With --warmup 0 the warning is gone.
        (code, output, err) = Run("--data", TestData.Cifar10, "--method", "pc-darts", "--epochs", "1", "--channels", "4", "--train-examples", "64",
            "--valid-examples", "64", "--warmup", "0", "--threads", "1");
        Assert.True(code == 0, err);
        Assert.Contains("batch 256,", output, StringComparison.Ordinal);
        Assert.DoesNotContain("warning:", output, StringComparison.Ordinal);
    }
}
