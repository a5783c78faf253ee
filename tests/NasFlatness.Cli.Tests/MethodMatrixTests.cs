using System.Globalization;
using System.Text.Json;
using NasFlatness.Cli;
using NasFlatness.Landscape;
using NasFlatness.Optimizers;
using NasFlatness.Reproducibility;
using NasFlatness.SearchSpaces;
using NasFlatness.SearchSpaces.Darts;
using NasFlatness.SearchSpaces.Nb201;
using NasFlatness.SearchSpaces.ZoDartsPlusPlus;
using Xunit;
using Xunit.Abstractions;

namespace NasFlatness.Cli.Tests;

/// <summary>
/// The method matrix: every preset the registry lists on every search space, and every optimizer, regularizer, activation and
/// schedule composed by hand, run through the tool at a tiny size (C = 4, one epoch of 10 steps, one thread). A supported
/// combination must exit 0, move α, record the C, N and supernet size it really built, and leave a genotype that <c>evaluate</c>
/// trains (and, on NAS-Bench-201, <c>lookup</c> finds) and a comparison-report row. A refused one must exit 2 before any data is
/// read, for the reason listed in <see cref="MethodMatrix.Refused"/>. New presets and components enter the matrix on registration.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class MethodMatrixTests(ITestOutputHelper output) : IDisposable
{
    private static readonly NasFlatnessRegistry Registry = new NasFlatnessRegistry().AddBuiltInSearchSpaces().AddBuiltInMethods();

    private readonly string _root = Directory.CreateTempSubdirectory("nasflatness-matrix-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public static TheoryData<string, string> Presets()
    {
        var data = new TheoryData<string, string>();
        foreach (var space in Registry.SearchSpaces.Names)
            foreach (var preset in Registry.Presets.Names) data.Add(space, preset);
        return data;
    }

    /// <summary>Each optimizer, regularizer, activation and schedule composed with the defaults for the rest, on a space that offers what it needs.</summary>
    public static TheoryData<string, string> Compositions()
    {
        var data = new TheoryData<string, string>();
        string SpaceFor(SupernetFeatures needs) => Registry.SearchSpaces.Names.First(s => (needs & ~(Registry.SearchSpaces.Features(s) | SupernetFeatures.BatchStatisticsOnly)) == 0);
        foreach (var o in Registry.Optimizers.Names) data.Add(SpaceFor(Registry.Optimizers.Features(o)), $"--optimizer {o}");
        foreach (var r in Registry.Regularizers.Names)
        {
            // A²M needs a first-order host; every other regularizer rides on DARTS first order too.
            data.Add(SpaceFor(Registry.Regularizers.Features(r)), $"--optimizer darts-1st --regularizer {r}");
        }
        foreach (var a in Registry.Activations.Names) data.Add(SpaceFor(Registry.Activations.Features(a)), $"--activation {a}");
        foreach (var s in Registry.Schedules.Names) data.Add(SpaceFor(Registry.Schedules.Features(s)), $"--schedule {s}");
        // The issue's own composition: ZO-DARTS with sparsemax mixing, on NAS-Bench-201 (it needs batch statistics: brought by the optimizer).
        data.Add("nas-bench-201", "--optimizer zo-darts --activation sparsemax");
        data.Add("darts", "--optimizer zo-darts --regularizer beta-decay");
        return data;
    }

    [Theory]
    [MemberData(nameof(Presets))]
    public void Every_preset_runs_on_every_space_that_offers_what_it_needs_or_is_refused_before_any_data_is_read(string space, string preset)
    {
        bool refused = MethodMatrix.Refused.TryGetValue((space, preset), out var missing);
        // The registry and this list agree: a new preset or space needs a decision here.
        var problems = Registry.Validate(new SearchComposition { SearchSpace = space, Method = preset });
        Assert.Equal(refused, problems.Count > 0);
        if (refused)
        {
            // The data folder does not exist: exit 2 naming the missing feature, not the folder, proves nothing was read.
            var (code, _, err) = Tool.Run("search", "--space", space, "--method", preset, "--data", "/nonexistent/cifar", "--protocol", "none", "--threads", "1");
            Assert.Equal(ExitCodes.BadInput, code);
            Assert.StartsWith("error:", err, StringComparison.Ordinal);
            Assert.Contains(missing!, err, StringComparison.Ordinal);
            Assert.DoesNotContain("/nonexistent", err, StringComparison.Ordinal);
            Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("error:", StringComparison.Ordinal));
            return;
        }
        var p = Registry.Presets.Get(preset);
        SearchEvaluateAndReport(space, ["--method", preset], preset, p.Schedule, MethodMatrix.Channels(space, (p.SupernetVariant & (SupernetFeatures.PartialChannels | SupernetFeatures.PerCellPartialChannels)) != 0));
    }

    [Theory]
    [MemberData(nameof(Compositions))]
    public void Every_component_composed_by_hand_runs_through_the_tool(string space, string composition)
    {
        var words = composition.Split(' ');
        int at = Array.IndexOf(words, "--schedule");
        SearchEvaluateAndReport(space, words, composition, at >= 0 ? words[at + 1] : null, MethodMatrix.Channels(space, partialChannels: false));
    }

    [Theory]
    [InlineData("nas-bench-201", "--optimizer darts-2nd --regularizer a2m", "first-order")]
    [InlineData("nas-bench-201", "--activation unit-clamp --regularizer beta-decay", "beta-decay")]
    [InlineData("nas-bench-201", "--optimizer darts-1st --regularizer zo-darts++-penalty-small", "ParameterBudgetModel")]
    [InlineData("darts", "--method darts --switch-epoch 1", "--switch-epoch applies only to --space nas-bench-201-varied")]
    public void Invalid_compositions_are_refused_with_exit_2_before_any_data_is_read(string space, string composition, string reason)
    {
        var (code, _, err) = Tool.Run(["search", "--space", space, .. composition.Split(' '), "--data", "/nonexistent/cifar", "--protocol", "none"]);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains(reason, err, StringComparison.Ordinal);
        Assert.DoesNotContain("/nonexistent", err, StringComparison.Ordinal);
    }

    private void SearchEvaluateAndReport(string space, string[] method, string label, string? schedule, int channels)
    {
        string c = channels.ToString(CultureInfo.InvariantCulture);
        // DARTS-PRIME's dynamic schedule first lets its threshold grow past the running gradient information (θ × 1.05 per
        // minibatch without an α step), which takes tens of minibatches: it gets 100 steps instead of 10.
        string images = MethodMatrix.Images(space, schedule).ToString(CultureInfo.InvariantCulture);
        int cells = space == DartsSearchSpace.SpaceName ? 3 : space == ZoDartsPlusPlusSearchSpace.SpaceName ? 2 : 1;
        var folder = Path.Combine(_root, "search");
        // One epoch at batch 8 (MethodMatrix.Images); warm-up 0 so that every method updates α from the start
        // (α is compared with its value when the search started); the ZO-DARTS++ space switches its mixtures on at once.
        string[] args =
        [
            "search", "--space", space, .. method, "--protocol", "none", "--channels", c, "--cells", cells.ToString(CultureInfo.InvariantCulture),
            "--epochs", "1", "--train-examples", images, "--valid-examples", "16", "--batch-size", "8", "--warmup", "0", "--validation-batches", "1",
            "--threads", "1", "--seed", "0",
            "--data", TestData.Cifar10, "-o", folder, "--json",
        ];
        if (space == ZoDartsPlusPlusSearchSpace.SpaceName) args = [.. args, "--switch-epoch", "0"];
        var (code, stdout, err) = Tool.Run(args);
        output.WriteLine($"{space} {label}: exit {code}\n{err}");
        Assert.True(code == ExitCodes.Ok, $"{space} {label} exited {code}: {err}");

        var result = Assert.Single(Tool.JsonLines(stdout), e => e.GetProperty("event").GetString() == "result");
        string genotype = result.GetProperty("genotype").GetString()!;
        var manifest = RunManifest.Read(Path.Combine(folder, RunManifest.FileName));
        Assert.Equal(genotype, manifest.Outcome.Genotype);
        Assert.Equal(space, manifest.Composition["SearchSpace"]);

        // α moved: updates happened and the largest mixing weight of some edge changed from the start.
        Assert.True(manifest.Epochs.Sum(e => e.ArchitectureUpdates) > 0, $"{space} {label}: no α update");
        var before = result.GetProperty("initialMaxWeightPerEdge").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var after = result.GetProperty("finalMaxWeightPerEdge").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.Equal(before.Length, after.Length);
        Assert.True(before.Zip(after).Max(p => Math.Abs(p.First - p.Second)) > 1e-6, $"{space} {label}: α did not move");

        // The recorded C and N are the flags given, and the recorded options build a supernet of exactly the recorded size.
        Assert.Equal(c, manifest.Settings["Channels"]);
        Assert.Equal(cells.ToString(CultureInfo.InvariantCulture), manifest.Settings["Cells"]);
        var optionsJson = manifest.Settings["SearchSpaceOptions"];
        ISearchSpace rebuilt = space switch
        {
            DartsSearchSpace.SpaceName => new DartsSearchSpace(JsonSerializer.Deserialize<DartsSpaceOptions>(optionsJson, RunManifest.JsonOptions)),
            ZoDartsPlusPlusSearchSpace.SpaceName => new ZoDartsPlusPlusSearchSpace(JsonSerializer.Deserialize<ZoDartsPlusPlusOptions>(optionsJson, RunManifest.JsonOptions)),
            _ => new Nb201SearchSpace(JsonSerializer.Deserialize<Nb201Options>(optionsJson, RunManifest.JsonOptions)),
        };
        using (var supernet = rebuilt.CreateSupernet(NasFlatness.DatasetInfo.Cifar10))
        {
            long weights = supernet.WeightParameters().Sum(w => w.numel());
            Assert.Equal(weights.ToString(CultureInfo.InvariantCulture), manifest.Settings["SupernetWeights"]);
        }
        using (var json = JsonDocument.Parse(optionsJson))
        {
            Assert.Equal(channels, json.RootElement.GetProperty("Channels").GetInt32());
            Assert.Equal(cells, json.RootElement.GetProperty(space == DartsSearchSpace.SpaceName ? "Cells" : "CellsPerStage").GetInt32());
        }

        // The found cell trains with evaluate and, on NAS-Bench-201, is in the table.
        var evaluation = Path.Combine(_root, "evaluate");
        var (evalCode, _, evalErr) = Tool.Run("evaluate", "-g", genotype, "--epochs", "1", "--train-examples", "16", "--test-examples", "16", "--batch-size", "8",
            "--channels", c, "--cells", space == DartsSearchSpace.SpaceName ? "3" : cells.ToString(CultureInfo.InvariantCulture), "--threads", "1",
            "--data", TestData.Cifar10, "-o", evaluation, "--json");
        Assert.True(evalCode == ExitCodes.Ok, $"evaluate {genotype}: {evalErr}");
        Assert.Equal(genotype, RunManifest.Read(Path.Combine(evaluation, RunManifest.FileName)).Outcome.Genotype);
        if (space == Nb201SearchSpace.SpaceName)
        {
            var (lookupCode, lookupOut, lookupErr) = Tool.Run("lookup", genotype, "--json");
            Assert.True(lookupCode == ExitCodes.Ok, lookupErr);
            Assert.Equal(Nb201Table.Embedded.Get(genotype).Cifar10TestAccuracy, Tool.JsonLines(lookupOut)[0].GetProperty("cifar10").GetDouble(), 6);
        }

        // The comparison report has the run's row: method, seed and genotype.
        var report = Path.Combine(_root, "report");
        Directory.CreateDirectory(report);
        var row = ComparisonRow.FromManifest(manifest, folder);
        ComparisonReport.Write(report, [row], ["test"], new CliOutput(TextWriter.Null, TextWriter.Null, json: true));
        var csv = File.ReadAllLines(Path.Combine(report, "results.csv"));
        Assert.Equal(2, csv.Length);
        Assert.Contains(genotype.Contains(',', StringComparison.Ordinal) ? "\"" + genotype.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : genotype, csv[1], StringComparison.Ordinal);
        Directory.Delete(_root, recursive: true);
        Directory.CreateDirectory(_root);
    }
}
