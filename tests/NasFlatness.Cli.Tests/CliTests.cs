using System.Security.Cryptography;
using System.Text.Json;
using NasFlatness.Cli;
using NasFlatness.Landscape;
using NasFlatness.Optimizers;
using NasFlatness.Reproducibility;
using Xunit;

namespace NasFlatness.Cli.Tests;

/// <summary>Runs the tool in-process and captures what it writes.</summary>
internal static class Tool
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    public static List<JsonElement> JsonLines(string text) =>
        [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone())];
}

public sealed class ParsingTests
{
    [Theory]
    [InlineData("search", "--bogus")]
    [InlineData("search", "--epochs", "ten")]
    [InlineData("no-such-command")]
    [InlineData("lookup")]
    public void Parse_errors_exit_with_2(params string[] args)
    {
        var (code, _, err) = Tool.Run(args);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.StartsWith("error:", err);
    }

    [Fact]
    public void Unknown_method_is_reported_before_any_data_is_read()
    {
        // The data folder does not exist: the name must be the error, so names are checked first.
        var (code, _, err) = Tool.Run("search", "--method", "darst", "--data", "/nonexistent/folder");
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("--method = 'darst' is invalid", err);
        Assert.DoesNotContain("/nonexistent", err);
    }

    [Fact]
    public void Unknown_regularizer_and_optimizer_contradicting_the_preset_are_errors()
    {
        var (code, _, err) = Tool.Run("search", "--method", "darts", "--optimizer", "na-darts", "--regularizer", "a3m");
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("contradicts", err);
        Assert.Contains("--regularizer = 'a3m' is invalid", err);
    }

    [Fact]
    public void Invalid_epochs_is_reported_once_without_a_knock_on_warmup_error()
    {
        var (code, _, err) = Tool.Run("search", "--epochs", "0", "--warmup", "3");
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("--epochs = 0 is invalid", err);
        Assert.DoesNotContain("WarmupEpochs", err);
        Assert.DoesNotContain("--warmup", err);
    }

    [Fact]
    public void Missing_data_and_bad_dataset_names_exit_with_2()
    {
        var (code, _, err) = Tool.Run("search", "--data", "/nonexistent/cifar");
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("'/nonexistent/cifar' does not exist", err);

        (code, _, err) = Tool.Run("search", "--dataset", "imagenet");
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("expected cifar10 or medmnist:<file.npz>", err);

        (code, _, err) = Tool.Run("search", "--dataset", "medmnist:nosuch.npz");
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("'nosuch.npz' was not found", err);
    }

    [Fact]
    public void Help_shows_examples_exit_codes_and_the_presets_references()
    {
        var (code, output, _) = Tool.Run("--help");
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("Examples:", output);
        Assert.Contains("130 cancelled", output);
        (code, output, _) = Tool.Run("search", "--help");
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("Ye et al., β-DARTS (CVPR 2022)", output);
        Assert.Contains("nasflatness search --method", output);
    }

    [Fact]
    public void Presets_lists_every_preset_with_its_reference()
    {
        var (code, output, _) = Tool.Run("presets", "--json");
        Assert.Equal(ExitCodes.Ok, code);
        var lines = Tool.JsonLines(output);
        Assert.Equal(new NasFlatness.NasFlatnessRegistry().AddBuiltInMethods().Presets.All.Count, lines.Count);
        Assert.All(lines, l => Assert.False(string.IsNullOrEmpty(l.GetProperty("reference").GetString())));
    }
}

public sealed class LookupTests
{
    private const string Best = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|";

    [Fact]
    public void Lookup_gives_the_table_accuracy_and_the_rank_among_all_cells()
    {
        var (code, output, err) = Tool.Run("lookup", Best, "0", "--json");
        Assert.True(code == 0, err);
        var lines = Tool.JsonLines(output);
        Assert.Equal(2, lines.Count);
        // Independent oracle: read the raw CSV the embedded table was built from and rank by sorting.
        var table = Nb201Table.Load(TestData.Nb201TestAccuracyCsv);
        var sorted = table.Records.Select(r => r.Cifar10TestAccuracy).OrderDescending().ToArray();
        var best = table.Get(Best);
        Assert.Equal(best.Cifar10TestAccuracy, lines[0].GetProperty("cifar10").GetDouble(), 6);
        Assert.Equal(Array.IndexOf(sorted, best.Cifar10TestAccuracy) + 1, lines[0].GetProperty("rank").GetInt32());
        Assert.Equal(15_625, lines[0].GetProperty("of").GetInt32());
        Assert.Equal(0, lines[1].GetProperty("index").GetInt32());
    }

    [Fact]
    public void Lookup_of_a_malformed_cell_or_an_index_out_of_range_exits_with_2()
    {
        Assert.Equal(ExitCodes.BadInput, Tool.Run("lookup", "|conv~0|").Code);
        Assert.Equal(ExitCodes.BadInput, Tool.Run("lookup", "15625").Code);
    }

    [Fact]
    public void Landscape_summarises_the_radius_1_neighbourhood()
    {
        var (code, output, err) = Tool.Run("landscape", Best, "--json");
        Assert.True(code == 0, err);
        var line = Tool.JsonLines(output).Single();
        Assert.Equal(24, line.GetProperty("neighbours").GetInt32()); // 6 edges × 4 other operations
        double score = line.GetProperty("score").GetDouble(), mean = line.GetProperty("neighbourMean").GetDouble();
        Assert.Equal(score - mean, line.GetProperty("gap").GetDouble(), 9);
    }
}

[Collection(TorchCollection.Name)]
public sealed class SearchAndReproduceTests
{
    [Fact]
    public void A_tiny_search_writes_manifest_plot_and_json_lines_and_reproduces_identically()
    {
        var folder = Path.Combine(Path.GetTempPath(), "nasflatness-cli-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (code, output, err) = Tool.Run("search", "--channels", "4", "--cells", "1", "--train-examples", "64", "--valid-examples", "64", "--epochs", "2",
                "--arch-lr", "0.03", "--seed", "3", "--data", TestData.Cifar10, "--output", folder, "--json");
            Assert.True(code == 0, err);
            var lines = Tool.JsonLines(output);
            Assert.Equal(["start", "epoch", "epoch", "result"], lines.Select(l => l.GetProperty("event").GetString()!).ToArray());
            var result = lines[^1];

            // PNG and JSON lines file.
            var png = File.ReadAllBytes(Path.Combine(folder, "alpha.png"));
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
            Assert.Equal(2, File.ReadAllLines(Path.Combine(folder, "epochs.jsonl")).Length);

            // The manifest: environment, resolved options, data fingerprint, α history.
            var manifest = RunManifest.Read(Path.Combine(folder, RunManifest.FileName));
            Assert.Equal("search", manifest.Kind);
            Assert.Equal(3, manifest.Seed);
            Assert.Equal(0.03, manifest.SearchOptions!.ArchitectureLearningRate);
            Assert.Equal("darts-1st", manifest.Composition["Optimizer"]);
            Assert.False(string.IsNullOrEmpty(manifest.Environment.TorchSharpVersion));
            Assert.False(string.IsNullOrEmpty(manifest.Environment.CpuKernels));
            Assert.True(manifest.Environment.Threads >= 1);
            Assert.Equal(64, manifest.Dataset!.Splits["train"]);
            Assert.Equal(5, manifest.Dataset.Files.Count);
            using (var stream = File.OpenRead(Path.Combine(TestData.Cifar10, "data_batch_1.bin")))
                Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(stream)), manifest.Dataset.Files[0].Sha256);
            Assert.StartsWith("NAS-Bench-201", manifest.TableVersion);
            Assert.Equal(2, manifest.Epochs.Count);
            Assert.Equal(result.GetProperty("genotype").GetString(), manifest.Outcome.Genotype);
            Assert.Equal(manifest.Epochs[^1].Genotype, manifest.Outcome.Genotype);
            foreach (var epoch in manifest.Epochs)
            {
                // Oracle: softmax of each row of α by hand.
                var rows = epoch.Alpha.SelectMany(t => t).ToArray();
                Assert.Equal(6, rows.Length);
                for (int i = 0; i < rows.Length; i++)
                {
                    double max = rows[i].Max(), sum = rows[i].Sum(v => Math.Exp(v - max));
                    Assert.Equal(1 / sum, epoch.MaxWeightPerEdge[i], 12);
                }
                Assert.Equal(epoch.MaxWeightPerEdge.Average(), epoch.MeanMaxWeight, 6);
            }
            double accuracy = Nb201Table.Embedded.Get(manifest.Outcome.Genotype).Cifar10TestAccuracy;
            Assert.Equal(accuracy, result.GetProperty("nb201Cifar10").GetDouble(), 9);
            Assert.Equal(1 + Nb201Table.Embedded.Records.Count(r => r.Cifar10TestAccuracy > accuracy), result.GetProperty("nb201Rank").GetInt32());

            // Reproduce: same machine → identical genotype and losses, no environment difference.
            var again = Path.Combine(folder, "again");
            (code, output, err) = Tool.Run("reproduce", Path.Combine(folder, RunManifest.FileName), "--output", again, "--json");
            Assert.True(code == 0, err + output);
            var verdict = Tool.JsonLines(output).Single(l => l.GetProperty("event").GetString() == "reproduce");
            Assert.True(verdict.GetProperty("match").GetBoolean());
            Assert.Equal(0, verdict.GetProperty("environmentDifferences").GetArrayLength());
            var second = RunManifest.Read(Path.Combine(again, RunManifest.FileName));
            Assert.Equal(manifest.Outcome.Genotype, second.Outcome.Genotype);
            Assert.Equal(manifest.Outcome.TrainLoss, second.Outcome.TrainLoss);
            Assert.Equal(manifest.Outcome.ValidationLoss, second.Outcome.ValidationLoss);
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Reproduce_reports_a_changed_result_and_exits_with_1()
    {
        // A manifest whose recorded outcome cannot match: the re-run finds the real losses and says what differs.
        var folder = Path.Combine(Path.GetTempPath(), "nasflatness-cli-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (code, _, err) = Tool.Run("search", "--channels", "4", "--cells", "1", "--train-examples", "64", "--valid-examples", "64", "--epochs", "1",
                "--data", TestData.Cifar10, "--output", folder, "--json");
            Assert.True(code == 0, err);
            var path = Path.Combine(folder, RunManifest.FileName);
            var manifest = RunManifest.Read(path);
            manifest.Outcome.TrainLoss += 1.0;
            manifest.Environment.CpuModel = "Another CPU";
            manifest.Write(path);
            string output;
            (code, output, _) = Tool.Run("reproduce", path, "--output", Path.Combine(folder, "again"));
            Assert.Equal(ExitCodes.Failure, code);
            Assert.Contains("not reproduced", output);
            Assert.Contains("final train loss", output);
            Assert.Contains("CpuModel: Another CPU →", output);
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }
}
