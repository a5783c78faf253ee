using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NasFlatness.Data;
using NasFlatness.Extensions.DependencyInjection;
using NasFlatness.Optimizers;
using NasFlatness.Search;
using NasFlatness.SearchSpaces;
using NasFlatness.SearchSpaces.Darts;
using NasFlatness.SearchSpaces.Nb201;
using NasFlatness.SearchSpaces.ZoDartsPlusPlus;
using TorchSharp;
using Xunit;

namespace NasFlatness.Tests;

/// <summary>
/// The method matrix through <c>AddNasFlatness</c>: every preset on every space from configuration, validated at start. A
/// supported combination resolves a runner of the configured size with the preset's components (and, on NAS-Bench-201 and the
/// ZO-DARTS++ space, moves α in a tiny search; the DARTS-space searches run in the tool's matrix); a refused one fails host
/// start naming <c>NasFlatness:SearchSpace</c> and the missing supernet feature (<see cref="MethodMatrix.Refused"/>).
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class MethodMatrixTests
{
    private static readonly NasFlatnessRegistry Registry = new NasFlatnessRegistry().AddBuiltInSearchSpaces().AddBuiltInMethods();

    private static readonly Dictionary<int, CifarSearchData> DataByImages = [];

    /// <summary>The search data of <see cref="MethodMatrix.Images"/> training images and 16 for α.</summary>
    private static CifarSearchData DataFor(string space, string? schedule)
    {
        int images = MethodMatrix.Images(space, schedule);
        if (!DataByImages.TryGetValue(images, out var data))
            DataByImages[images] = data = new CifarSearchData(TestData.Cifar10Train, new CifarSearchDataOptions { MaxTrainExamples = images, MaxValidationExamples = 16 });
        return data;
    }

    public static TheoryData<string, string> Presets()
    {
        var data = new TheoryData<string, string>();
        foreach (var space in Registry.SearchSpaces.Names)
            foreach (var preset in Registry.Presets.Names) data.Add(space, preset);
        return data;
    }

    [Theory]
    [MemberData(nameof(Presets))]
    public void Every_preset_composes_from_configuration_on_every_space_that_offers_what_it_needs(string space, string preset)
    {
        int cells = space == DartsSearchSpace.SpaceName ? 3 : space == ZoDartsPlusPlusSearchSpace.SpaceName ? 2 : 1;
        string cellsKey = space switch
        {
            DartsSearchSpace.SpaceName => "Darts:Cells",
            ZoDartsPlusPlusSearchSpace.SpaceName => "ZoDartsPlusPlus:CellsPerStage",
            _ => "Nb201:CellsPerStage",
        };
        string channelsKey = cellsKey[..cellsKey.IndexOf(':', StringComparison.Ordinal)] + ":Channels";
        var expected = Registry.Presets.Get(preset);
        int c = MethodMatrix.Channels(space, (expected.SupernetVariant & (SupernetFeatures.PartialChannels | SupernetFeatures.PerCellPartialChannels)) != 0);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["NasFlatness:SearchSpace"] = space,
            ["NasFlatness:Method"] = preset,
            [$"NasFlatness:{channelsKey}"] = c.ToString(CultureInfo.InvariantCulture),
            [$"NasFlatness:{cellsKey}"] = cells.ToString(CultureInfo.InvariantCulture),
            ["NasFlatness:ZoDartsPlusPlus:SwitchEpoch"] = "0",
            // Explicit values win over the preset's: one epoch of 10 steps of 8 images (one ZO round), α updated from the start.
            ["NasFlatness:Search:Epochs"] = "1",
            ["NasFlatness:Search:EpochValidationBatches"] = "1",
            ["NasFlatness:Search:BatchSize"] = "8",
            ["NasFlatness:Search:WarmupEpochs"] = "0",
            ["NasFlatness:Search:Seed"] = "0",
        }).Build();
        var alpha = new FirstAlpha();
        using var provider = new ServiceCollection().AddNasFlatness(configuration.GetSection("NasFlatness")).Services
            .AddSingleton<ISearchObserver>(alpha).BuildServiceProvider();
        var validator = provider.GetRequiredService<IStartupValidator>();

        if (MethodMatrix.Refused.TryGetValue((space, preset), out var missing))
        {
            var refused = Assert.Throws<OptionsValidationException>(validator.Validate);
            Assert.Contains("NasFlatness:SearchSpace = '" + space + "'", refused.Message, StringComparison.Ordinal);
            Assert.Contains(missing, refused.Message, StringComparison.Ordinal);
            return;
        }
        validator.Validate();
        var runner = provider.GetRequiredService<SearchRunner>();
        Assert.Equal(expected.Optimizer, runner.Optimizer.Name);
        Assert.Equal(expected.Regularizers, runner.Regularizers.Select(r => r.Name));
        var (channels, builtCells, trackRunningStats) = runner.SearchSpace switch
        {
            Nb201SearchSpace s => (s.Options.Channels, s.Options.CellsPerStage, s.Options.TrackRunningStats),
            DartsSearchSpace s => (s.Options.Channels, s.Options.Cells, s.Options.TrackRunningStats),
            ZoDartsPlusPlusSearchSpace s => (s.Options.Channels, s.Options.CellsPerStage, s.Options.TrackRunningStats),
            var other => throw new InvalidOperationException(other.Name),
        };
        Assert.Equal((c, cells), (channels, builtCells));
        // ZO-DARTS brings the batch-statistics supernet its official code searches with.
        if (expected.Optimizer == ZeroOrderDarts.OptimizerName) Assert.False(trackRunningStats);

        // The DARTS-space searches themselves run in the tool's matrix (the same runner); here the costly space is composed and checked only.
        if (space == DartsSearchSpace.SpaceName) return;
        torch.set_num_threads(1);
        var result = runner.Run(DataFor(space, expected.Schedule));
        Assert.True(result.Epochs.Sum(e => e.ArchitectureUpdates) > 0);
        var start = alpha.Start!;
        var end = result.Epochs[^1].Architecture;
        double moved = start.Zip(end).Max(t => t.First.Zip(t.Second).Max(r => r.First.Zip(r.Second).Max(v => Math.Abs(v.First - v.Second))));
        Assert.True(moved > 1e-6, $"α did not move ({moved})");
        Assert.Equal(result.Genotype, runner.SearchSpace.Parse(result.Genotype.ToString()));
    }

    /// <summary>Every architecture tensor when the search starts.</summary>
    private sealed class FirstAlpha : ISearchObserver
    {
        public IReadOnlyList<double[][]>? Start { get; private set; }

        public void OnEpochStarting(EpochStart epoch)
        {
            if (Start is not null) return;
            using var scope = torch.NewDisposeScope();
            Start = [.. epoch.Supernet.ArchitectureParameters().Select(a =>
            {
                var t = a.detach().to(torch.float64).cpu();
                return t.dim() == 1 ? [t.data<double>().ToArray()] : Enumerable.Range(0, (int)t.shape[0]).Select(i => t[i].data<double>().ToArray()).ToArray();
            })];
        }
    }
}
