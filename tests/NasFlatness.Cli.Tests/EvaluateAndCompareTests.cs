using System.Text.Json;
using NasFlatness.Landscape;
using NasFlatness.Reproducibility;
using Xunit;

namespace NasFlatness.Cli.Tests;

[Collection(TorchCollection.Name)]
public sealed class EvaluateAndCompareTests
{
    [Fact]
    public void Evaluate_trains_an_nb201_cell_and_writes_a_manifest()
    {
        const string cell = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|";
        var folder = Path.Combine(Path.GetTempPath(), "nasflatness-cli-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (code, output, err) = Tool.Run("evaluate", "--genotype", cell, "--channels", "4", "--cells", "1", "--epochs", "1", "--train-examples", "64",
                "--test-examples", "64", "--data", TestData.Cifar10, "--output", folder, "--json");
            Assert.True(code == 0, err);
            var result = Tool.JsonLines(output).Single(l => l.GetProperty("event").GetString() == "result");
            double accuracy = result.GetProperty("testAccuracy").GetDouble();
            Assert.InRange(accuracy, 0, 1);
            Assert.Equal(0, accuracy * 64 % 1, 6); // a whole number of the 64 test images
            var manifest = RunManifest.Read(Path.Combine(folder, RunManifest.FileName));
            Assert.Equal("evaluation", manifest.Kind);
            Assert.Equal(cell, manifest.Outcome.Genotype);
            Assert.Equal(accuracy, manifest.Outcome.Metrics["TestAccuracy"]);
            Assert.Equal(Nb201Table.Embedded.Get(cell).Cifar10TestAccuracy, manifest.Outcome.Metrics["Nb201Cifar10TestAccuracy"]);
            Assert.Equal(64, manifest.Dataset!.Splits["test"]);
            Assert.Equal(6, manifest.Dataset.Files.Count); // five training batches and the test batch
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Compare_runs_presets_by_seeds_and_writes_a_table_plots_and_a_comparison_manifest()
    {
        var folder = Path.Combine(Path.GetTempPath(), "nasflatness-cli-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (code, output, err) = Tool.Run("compare", "--method", "darts", "--method", "beta-darts", "--seeds", "0", "--channels", "4", "--cells", "1",
                "--train-examples", "64", "--valid-examples", "64", "--epochs", "1", "--alpha-hessian-every", "1", "--data", TestData.Cifar10, "--output", folder, "--json");
            Assert.True(code == 0, err);
            var runs = Tool.JsonLines(output).Where(l => l.GetProperty("event").GetString() == "run").ToArray();
            Assert.Equal(["darts", "beta-darts"], runs.Select(r => r.GetProperty("method").GetString()!).ToArray());
            var csv = File.ReadAllLines(Path.Combine(folder, "results.csv"));
            Assert.Equal(3, csv.Length);
            Assert.Equal("method,seed,genotype,nb201_cifar10,nb201_rank,r1_mean,r1_min,r1_gap,r2_mean,r2_min,r2_gap,alpha_hessian_max_eigenvalue,final_train_loss,final_valid_loss,mean_max_weight,seconds", csv[0]);
            Assert.True(File.Exists(Path.Combine(folder, "accuracy.png")));
            Assert.True(File.Exists(Path.Combine(folder, "sharpening.png")));
            var manifest = RunManifest.Read(Path.Combine(folder, RunManifest.FileName));
            Assert.Equal("comparison", manifest.Kind);
            Assert.Equal(2, manifest.Runs.Count);
            var beta = RunManifest.Read(Path.Combine(folder, manifest.Runs[1]));
            Assert.Equal("beta-darts", beta.Composition["Method"]);
            Assert.Equal("beta-decay", beta.Composition["Regularizers"]);
            Assert.Contains("β-DARTS", beta.Composition["Reference"]);
            // The comparison table carries each found cell's flatness and last λmax, as its run manifest recorded them.
            var row = runs[1];
            Assert.Equal(beta.Outcome.Metrics["Nb201Cifar10Radius1Mean"], row.GetProperty("radius1Mean").GetDouble());
            Assert.Equal(beta.Outcome.Metrics["Nb201Cifar10Radius2Gap"], row.GetProperty("radius2Gap").GetDouble());
            Assert.Equal(beta.Epochs[^1].Metrics[NasFlatness.Search.ArchitectureHessianObserver.MetricName], row.GetProperty("alphaHessianMaxEigenvalue").GetDouble());
            var md = File.ReadAllText(Path.Combine(folder, "results.md"));
            Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"| {beta.Outcome.Metrics["Nb201Cifar10Radius1Mean"]:F2} / {beta.Outcome.Metrics["Nb201Cifar10Radius1Min"]:F2} / {beta.Outcome.Metrics["Nb201Cifar10Radius1Gap"]:F2} |"), md);
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Replay_drops_output_checkpoint_and_json_and_writes_to_the_new_folder()
    {
        var replay = ReproduceCommand.Replay(["search", "--checkpoint", "ck", "--epochs", "2", "-o", "old", "--json", "--output=x"], "new", json: false);
        Assert.Equal(["search", "--epochs", "2", "--output", "new"], replay);
    }
}
