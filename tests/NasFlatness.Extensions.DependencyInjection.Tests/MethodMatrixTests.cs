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
using NasFlatness.SearchSpaces.Nb201Varied;
using TorchSharp;
using Xunit;

namespace NasFlatness.Tests;

/// <summary>
/// The method matrix through <c>AddNasFlatness</c>: every preset on every space from configuration, validated at start. A
/// supported combination resolves a runner of the configured size that moves α in a tiny search; a refused one fails host
/// start naming <c>NasFlatness:SearchSpace</c> and the missing supernet feature (<see cref="MethodMatrix.Refused"/>).
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class MethodMatrixTests
{
    private static readonly NasFlatnessRegistry Registry = new NasFlatnessRegistry().AddBuiltInSearchSpaces().AddBuiltInMethods();

    private static readonly Lazy<CifarSearchData> Data = new(() =>
        new CifarSearchData(TestData.Cifar10Train, new CifarSearchDataOptions { MaxTrainExamples = 80, MaxValidationExamples = 80 }));

    // DARTS-PRIME's dynamic schedule lets its threshold grow for tens of minibatches before its first α step: 100 steps.
    private static readonly Lazy<CifarSearchData> LongerData = new(() =>
        new CifarSearchData(TestData.Cifar10Train, new CifarSearchDataOptions { MaxTrainExamples = 800, MaxValidationExamples = 80 }));

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
        int cells = space == DartsSearchSpace.SpaceName ? 3 : space == Nb201VariedSearchSpace.SpaceName ? 2 : 1;
        string cellsKey = space switch
        {
            DartsSearchSpace.SpaceName => "Darts:Cells",
            Nb201VariedSearchSpace.SpaceName => "Nb201Varied:CellsPerStage",
            _ => "Nb201:CellsPerStage",
        };
        string channelsKey = cellsKey[..cellsKey.IndexOf(':', StringComparison.Ordinal)] + ":Channels";
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["NasFlatness:SearchSpace"] = space,
            ["NasFlatness:Method"] = preset,
            [$"NasFlatness:{channelsKey}"] = "4",
            [$"NasFlatness:{cellsKey}"] = cells.ToString(CultureInfo.InvariantCulture),
            ["NasFlatness:Nb201Varied:SwitchEpoch"] = "0",
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
        var expected = Registry.Presets.Get(preset);
        Assert.Equal(expected.Optimizer, runner.Optimizer.Name);
        Assert.Equal(expected.Regularizers, runner.Regularizers.Select(r => r.Name));
        var (channels, builtCells, trackRunningStats) = runner.SearchSpace switch
        {
            Nb201SearchSpace s => (s.Options.Channels, s.Options.CellsPerStage, s.Options.TrackRunningStats),
            DartsSearchSpace s => (s.Options.Channels, s.Options.Cells, s.Options.TrackRunningStats),
            Nb201VariedSearchSpace s => (s.Options.Channels, s.Options.CellsPerStage, s.Options.TrackRunningStats),
            var other => throw new InvalidOperationException(other.Name),
        };
        Assert.Equal((4, cells), (channels, builtCells));
        // ZO-DARTS brings the batch-statistics supernet its official code searches with.
        if (expected.Optimizer == ZeroOrderDarts.OptimizerName) Assert.False(trackRunningStats);

        torch.set_num_threads(1);
        var result = runner.Run(expected.Schedule == DynamicUpdateSchedule.ScheduleName ? LongerData.Value : Data.Value);
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
