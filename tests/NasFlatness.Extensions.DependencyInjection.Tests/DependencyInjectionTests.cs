using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NasFlatness.Extensions.DependencyInjection;
using NasFlatness.Optimizers;
using NasFlatness.Search;
using NasFlatness.SearchSpaces;
using Microsoft.Extensions.Logging;
using NasFlatness.SearchSpaces.Nb201;
using Xunit;

namespace NasFlatness.Tests;

[Collection(TorchCollection.Name)]
public sealed class DependencyInjectionTests
{
    [Fact]
    public void RegistersSpaceOptimizerAndRunnerFromConfiguration()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["NasFlatness:Optimizer"] = "darts-2nd",
            ["NasFlatness:Nb201:Channels"] = "8",
            ["NasFlatness:Nb201:CellsPerStage"] = "2",
            ["NasFlatness:Search:Epochs"] = "7",
            ["NasFlatness:Search:Seed"] = "42",
        }).Build();
        using var provider = new ServiceCollection().AddLogging().AddNasFlatness(config.GetSection("NasFlatness")).Services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();

        var space = Assert.IsType<Nb201SearchSpace>(provider.GetRequiredService<ISearchSpace>());
        Assert.Equal(8, space.Options.Channels);
        Assert.Equal(2, space.Options.CellsPerStage);
        Assert.IsType<DartsSecondOrder>(provider.GetRequiredService<IArchitectureOptimizer>());
        var runner = provider.GetRequiredService<SearchRunner>();
        Assert.Equal(7, runner.Options.Epochs);
        Assert.Equal(42, runner.Options.Seed);
    }

    [Fact]
    public void InvalidOptionsFailAtStartNamingTheField()
    {
        using var provider = new ServiceCollection().AddNasFlatness(o =>
        {
            o.Search.Epochs = 0;
            o.Optimizer = "adam";
            o.Nb201.Channels = -3;
        }).Services.BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("Search:Epochs = 0 is invalid", ex.Message);
        Assert.Contains("Optimizer = 'adam' is invalid", ex.Message);
        Assert.Contains("Nb201:Channels = -3 is invalid", ex.Message);
    }

    [Fact]
    public void DefaultsArePaperDarts()
    {
        using var provider = new ServiceCollection().AddNasFlatness().Services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        Assert.IsType<DartsFirstOrder>(provider.GetRequiredService<IArchitectureOptimizer>());
        var options = provider.GetRequiredService<IOptions<NasFlatnessOptions>>().Value;
        Assert.Equal(50, options.Search.Epochs);
        Assert.Equal(16, options.Nb201.Channels);
        Assert.Equal(5, options.Nb201.CellsPerStage);
    }

    [Fact]
    public void MethodPresetChoosesOptimizerSupernetVariantAndSettings()
    {
        using var provider = new ServiceCollection().AddNasFlatness(o => o.Method = "pc-darts").Services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        var space = Assert.IsType<Nb201SearchSpace>(provider.GetRequiredService<ISearchSpace>());
        Assert.True(space.Options.PartialChannels);
        Assert.Equal(4, space.Options.PartialChannelProportion);
        Assert.True(space.Options.EdgeNormalization);
        var runner = provider.GetRequiredService<SearchRunner>();
        Assert.Equal(256, runner.Options.BatchSize);
        Assert.Equal(15, runner.Options.WarmupEpochs);

        using var a2m = new ServiceCollection().AddNasFlatness(o => o.Method = "darts+a2m").Services.BuildServiceProvider();
        Assert.Equal(SelectionRule.BestSupernetValidationLoss, a2m.GetRequiredService<SearchRunner>().Options.Selection);
        Assert.IsType<DartsFirstOrder>(a2m.GetRequiredService<IArchitectureOptimizer>());
    }

    [Fact]
    public void PresetSpaceOptionsApplyThePartialChannelVariantToACopy()
    {
        var plain = new Nb201Options { Channels = 8, CellsPerStage = 1 };
        var perCell = plain.WithSupernetVariant(MethodPresets.Get("pc-darts-a2m-repo"));
        Assert.False(plain.PartialChannels); // the input is not changed
        Assert.True(perCell.PartialChannels);
        Assert.Equal(4, perCell.PartialChannelProportion);
        Assert.Equal(PartialChannelScope.PerCell, perCell.PartialChannelScope);
        Assert.False(perCell.EdgeNormalization);
        Assert.Equal(8, perCell.Channels);
        var perEdge = plain.WithSupernetVariant(MethodPresets.Get("pc-darts"));
        Assert.Equal(PartialChannelScope.PerEdge, perEdge.PartialChannelScope);
        Assert.True(perEdge.EdgeNormalization);
        Assert.False(plain.WithSupernetVariant(MethodPresets.Get("darts")).PartialChannels);
        var ex = Assert.Throws<InvalidOperationException>(() => new SearchSpaces.Darts.DartsSpaceOptions().WithSupernetVariant(MethodPresets.Get("pc-darts-a2m-repo")));
        Assert.Contains("per-cell partial channels", ex.Message);
    }

    [Fact]
    public void UnknownMethodFailsAtStart()
    {
        using var provider = new ServiceCollection().AddNasFlatness(o => o.Method = "magic").Services.BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("Method = 'magic' is invalid", ex.Message);
        Assert.Contains("beta-darts", ex.Message);
    }

    [Fact]
    public void DartsSpaceIsSelectableWithPresets()
    {
        using var provider = new ServiceCollection().AddNasFlatness(o =>
        {
            o.SearchSpace = "darts";
            o.Method = "pc-darts";
        }).Services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        var space = Assert.IsType<NasFlatness.SearchSpaces.Darts.DartsSearchSpace>(provider.GetRequiredService<ISearchSpace>());
        Assert.Equal(4, space.Options.PartialChannels);
        Assert.True(space.Options.EdgeNormalization);
        Assert.Equal("darts", space.Name);
        Assert.NotNull(provider.GetRequiredService<SearchRunner>());
    }

    [Fact]
    public void DisposingTheScopeOrProviderDisposesTheComponentsTheRegistryCreated()
    {
        using var net = new Nb201SearchSpace(new Nb201Options { Channels = 4, CellsPerStage = 1, TrackRunningStats = false }).CreateSupernet(DatasetInfo.Cifar10);
        var start = new EpochStart(SearchClock.At(0, 1, 0, 1), 0.1, net, SoftmaxActivation.Instance) { WeightOptimizer = new WeightOptimizerState(0.1, 0.9, 0) };
        var services = new ServiceCollection().AddNasFlatness(o => o.Optimizer = ZeroOrderDarts.OptimizerName)
            .AddObserver<CountingObserver>().Services; // an extra observer: the runner is rebuilt and takes over what the registry created
        using var provider = services.BuildServiceProvider();

        ZeroOrderDarts scoped;
        using (var scope = provider.CreateScope())
        {
            scoped = Assert.IsType<ZeroOrderDarts>(scope.ServiceProvider.GetRequiredService<SearchRunner>().Optimizer);
            scoped.OnEpochStarting(start); // usable while the scope lives
        }
        Assert.Throws<ObjectDisposedException>(() => scoped.OnEpochStarting(start));

        var root = Assert.IsType<ZeroOrderDarts>(provider.GetRequiredService<SearchRunner>().Optimizer);
        root.OnEpochStarting(start);
        provider.Dispose();
        Assert.Throws<ObjectDisposedException>(() => root.OnEpochStarting(start));
    }

    private sealed class CountingObserver : ISearchObserver
    {
        public int Epochs { get; private set; }

        public void OnEpochStarting(EpochStart epoch) => Epochs++;
    }
}

/// <summary>User components defined in this test assembly, selected by name from configuration.</summary>
[Collection(TorchCollection.Name)]
public sealed class UserComponentRegistrationTests
{
    /// <summary>A user optimizer: the first-order DARTS gradient times two (constructed by DI, so it may take services).</summary>
    public sealed class DoubledGradient(Microsoft.Extensions.Logging.ILogger<DoubledGradient> logger) : IArchitectureOptimizer
    {
        public ILogger Logger { get; } = logger;

        public string Name => "doubled";

        public bool IsFirstOrder => true;

        public IReadOnlyList<TorchSharp.torch.Tensor> ComputeGradient(ArchitectureStep step, IReadOnlyList<TorchSharp.torch.Tensor> architecture) =>
            new DartsFirstOrder().ComputeGradient(step, architecture).Select(g => g * 2).ToArray();
    }

    /// <summary>A user regularizer: an L2 term on α.</summary>
    public sealed class L2Regularizer : IFlatnessRegularizer
    {
        public string Name => "l2";

        public RegularizerContribution Contribute(ArchitectureStep step) => new()
        {
            LossTerm = architecture => architecture.Select(a => a.square().sum()).Aggregate((x, y) => x + y) * 1e-3,
        };
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings) =>
        new ServiceCollection()
            .AddLogging()
            .AddNasFlatness(new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection("NasFlatness"))
            .AddOptimizer<DoubledGradient>("doubled")
            .AddRegularizer<L2Regularizer>("l2")
            .Services.BuildServiceProvider();

    [Fact]
    public void CustomOptimizerAndRegularizerAreSelectedByNameFromConfiguration()
    {
        using var provider = Build(new()
        {
            ["NasFlatness:Optimizer"] = "doubled",
            ["NasFlatness:Regularizers:0"] = "l2",
            ["NasFlatness:Regularizers:1"] = "beta-decay",
            ["NasFlatness:Nb201:Channels"] = "4",
            ["NasFlatness:Nb201:CellsPerStage"] = "1",
        });
        provider.GetRequiredService<IStartupValidator>().Validate();
        var runner = provider.GetRequiredService<SearchRunner>();
        var optimizer = Assert.IsType<DoubledGradient>(runner.Optimizer);
        Assert.NotNull(optimizer.Logger);
        Assert.Equal(["l2", "beta-decay"], runner.Regularizers.Select(r => r.Name).ToArray());
        Assert.IsType<L2Regularizer>(runner.Regularizers[0]);

        // The components really run: a one-epoch search with them moves α.
        var o = runner.Options;
        o.Epochs = 1;
        o.BatchSize = 32;
        o.ArchitectureLearningRate = 3e-2;
        var short1 = new SearchRunner(runner.SearchSpace, runner.Optimizer, runner.Regularizers, o);
        using var data = new NasFlatness.Data.CifarSearchData(TestData.Cifar10Train, new NasFlatness.Data.CifarSearchDataOptions { MaxTrainExamples = 64, MaxValidationExamples = 64 });
        var result = short1.Run(data);
        Assert.True(result.Epochs[0].Architecture[0].SelectMany(r => r).Max(Math.Abs) > 0.01);
    }

    [Fact]
    public void NaDartsAndUserNamesAreValidatedAtStart()
    {
        using (var provider = Build(new() { ["NasFlatness:Optimizer"] = "na-darts" }))
        {
            provider.GetRequiredService<IStartupValidator>().Validate();
            Assert.IsType<NaDartsOptimizer>(provider.GetRequiredService<IArchitectureOptimizer>());
        }
        using (var provider = Build(new() { ["NasFlatness:Optimizer"] = "doubld", ["NasFlatness:Regularizers:0"] = "l3" }))
        {
            var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
            Assert.True(ex.Message.Contains("Optimizer = 'doubld' is invalid (did you mean 'doubled'?): expected one of darts-1st, darts-2nd, na-darts", StringComparison.Ordinal), ex.Message);
            Assert.True(Regex.IsMatch(ex.Message, @"Optimizer = 'doubld' is invalid \(did you mean 'doubled'\?\): expected one of [^.]*, doubled"), ex.Message);
            Assert.True(Regex.IsMatch(ex.Message, @"Regularizers = 'l3' is invalid \(did you mean 'l2'\?\): expected one of beta-decay, a2m, [^.]*, l2"), ex.Message);
        }
    }
}
