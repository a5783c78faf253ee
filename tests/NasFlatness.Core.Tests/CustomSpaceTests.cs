using System.Text.Json;
using NasFlatness.CustomSpace;
using NasFlatness.Genotypes;
using NasFlatness.Optimizers;
using NasFlatness.Search;
using Xunit;

namespace NasFlatness.Tests;

/// <summary>A search space defined outside the library (samples/NasFlatness.CustomSpace) searched with checkpoints.</summary>
[Collection(TorchCollection.Name)]
public sealed class CustomSpaceTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("nasflatness-custom-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private static double[] Flat(EpochRecord e) => e.Architecture.SelectMany(m => m.SelectMany(r => r)).ToArray();

    private static SearchOptions Options(string? checkpoint) => new()
    {
        Epochs = 3, BatchSize = 32, ArchitectureLearningRate = 3e-2, Seed = 4, CheckpointDirectory = checkpoint,
    };

    private static SearchRunner Runner(string? checkpoint) =>
        new(new TinySearchSpace(), new DartsFirstOrder(), [new BetaDecayRegularizer()], Options(checkpoint));

    [Fact]
    public void CustomGenotypeRoundTripsThroughJsonOnceItsSpaceIsRegistered()
    {
        var g = TinyGenotype.Parse("tiny[conv_3x3,skip_connect,avg_pool_3x3]");
        string json = JsonSerializer.Serialize<Genotype>(g);
        Assert.Equal("{\"space\":\"tiny\",\"text\":\"tiny[conv_3x3,skip_connect,avg_pool_3x3]\"}", json);
        GenotypeFormats.Register(new TinySearchSpace());
        Assert.Equal(g, JsonSerializer.Deserialize<Genotype>(json));
        Assert.Equal(g, JsonSerializer.Deserialize<TinyGenotype>(json));
        var ex = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Genotype>("{\"space\":\"no-such-space\",\"text\":\"x\"}"));
        Assert.Contains("No genotype format is registered for search space 'no-such-space'", ex.Message);
    }

    [Fact]
    public void CustomSpaceSearchIsCheckpointedInterruptedAndResumedToTheSameResult()
    {
        using var data = new StripesData(256, 256, seed: 4);
        var uninterrupted = Runner(null).Run(data);

        var folder = Path.Combine(_temp, "ckpt");
        using var cts = new CancellationTokenSource();
        var reports = new List<int>();
        var progress = new SyncProgress(p =>
        {
            if (p.CompletedEpoch is { } e) reports.Add(e.Epoch);
            if (p.Epoch == 1 && p.Step == 3) cts.Cancel();
        });
        Assert.Throws<OperationCanceledException>(() => Runner(folder).Run(data, progress, cts.Token));
        Assert.Equal([0], reports);
        var manifest = File.ReadAllText(Path.Combine(folder, "checkpoint.json"));
        Assert.Contains("\"space\": \"tiny\"", manifest);
        Assert.Contains("\"text\": \"tiny[", manifest);

        var resumed = Runner(folder).Run(data);
        Assert.Equal(uninterrupted.Genotype, resumed.Genotype);
        Assert.IsType<TinyGenotype>(resumed.Genotype);
        for (int e = 0; e < 3; e++)
        {
            Assert.Equal(Flat(uninterrupted.Epochs[e]), Flat(resumed.Epochs[e]));
            Assert.Equal(uninterrupted.Epochs[e].TrainLoss, resumed.Epochs[e].TrainLoss);
            Assert.Equal(uninterrupted.Epochs[e].ValidationLoss, resumed.Epochs[e].ValidationLoss);
            Assert.Equal(uninterrupted.Epochs[e].Genotype, resumed.Epochs[e].Genotype);
        }
        Assert.All(resumed.Epochs, e => Assert.True(double.IsFinite(e.TrainLoss)));
    }
}
