using NasFlatness.Comparison;
using Xunit;

namespace NasFlatness.Tests;

public sealed class ComparisonResultStoreTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("nasflat-store-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_temp, recursive: true); } catch (IOException) { }
    }

    private static RunRecord Record(string method, int seed) => new()
    {
        Preset = method,
        Label = method,
        Seed = seed,
        Genotype = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|",
        TestAccuracy = 54.3,
        HessianEigenvaluePerEpoch = [double.NaN, 0.25],
    };

    [Fact]
    public void FinishedSearchesAreSkippedOnRestartAndEachSearchHasItsOwnCheckpointFolder()
    {
        var store = new ResultStore(Path.Combine(_temp, "out"));
        string[] methods = ["darts", "darts+a2m"];
        Assert.Equal([("darts", 0), ("darts+a2m", 0), ("darts", 1), ("darts+a2m", 1)], store.Pending(methods, [0, 1]));

        store.Write(Record("darts", 0));
        store.Write(Record("darts+a2m", 1));
        // A half-written file from an interrupted write does not count as finished.
        File.WriteAllText(store.ResultPath("darts+a2m", 0) + ".tmp", "{");

        var restarted = new ResultStore(Path.Combine(_temp, "out")); // a new process on the same folder
        Assert.Equal([("darts+a2m", 0), ("darts", 1)], restarted.Pending(methods, [0, 1]));
        Assert.True(restarted.IsDone("darts", 0));
        Assert.False(restarted.IsDone("darts", 1));
        Assert.NotEqual(restarted.CheckpointDirectory("darts", 0), restarted.CheckpointDirectory("darts", 1));
        Assert.NotEqual(restarted.CheckpointDirectory("darts", 0), restarted.CheckpointDirectory("darts+a2m", 0));
        Assert.Equal("darts+a2m-rho0.1_x", ResultStore.Safe("darts+a2m-rho0.1/x"));

        var read = ResultStore.ReadAll([restarted.Directory]);
        Assert.Equal(2, read.Count);
        var back = Assert.Single(read, r => r.Method == "darts");
        Assert.Equal(54.3, back.TestAccuracy);
        Assert.True(double.IsNaN(back.HessianEigenvaluePerEpoch[0]));
        Assert.Equal(0.25, back.HessianEigenvaluePerEpoch[1]);
    }

    [Fact]
    public void OldJsonLinesRecordsWithoutLabelReadAsTheirPreset()
    {
        string path = Path.Combine(_temp, "old.jsonl");
        File.WriteAllText(path, "{\"Preset\":\"darts\",\"Seed\":2,\"Genotype\":\"g\",\"TestAccuracy\":90.5}\n");
        var r = Assert.Single(ResultStore.ReadAll([path]));
        Assert.Equal(("darts", 2, 90.5), (r.Method, r.Seed, r.TestAccuracy));
    }
}
