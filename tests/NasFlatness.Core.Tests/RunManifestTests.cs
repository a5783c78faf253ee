using System.Security.Cryptography;
using System.Text;
using NasFlatness.Advanced;
using NasFlatness.Reproducibility;
using NasFlatness.Search;
using Xunit;

namespace NasFlatness.Core.Tests;

[Collection(TorchCollection.Name)]
public sealed class RunManifestTests
{
    [Fact]
    public void ManifestRoundTripsThroughJsonIncludingNaNAndEnums()
    {
        var manifest = new RunManifest
        {
            Seed = 7,
            Command = ["search", "--epochs", "2"],
            SearchOptions = new SearchOptions { Epochs = 2, Selection = SelectionRule.BestSupernetValidationLoss },
            Epochs = [new EpochManifest { Epoch = 0, Genotype = "g", Alpha = [[[0.1, 0.2]]], MaxWeightPerEdge = [0.52], ValidationLoss = double.NaN }],
            Outcome = new RunOutcome { Genotype = "g", TrainLoss = 1.25, Metrics = { ["Rank"] = 3 } },
        };
        var path = Path.Combine(Path.GetTempPath(), $"manifest-{Guid.NewGuid():N}.json");
        try
        {
            manifest.Write(path);
            Assert.Contains("\"BestSupernetValidationLoss\"", File.ReadAllText(path));
            var back = RunManifest.Read(path);
            Assert.Equal(7, back.Seed);
            Assert.Equal(SelectionRule.BestSupernetValidationLoss, back.SearchOptions!.Selection);
            Assert.True(double.IsNaN(back.Epochs[0].ValidationLoss));
            Assert.Equal(0.2, back.Epochs[0].Alpha[0][0][1]);
            Assert.Equal(1.25, back.Outcome.TrainLoss);
            Assert.Equal(3, back.Outcome.Metrics["Rank"]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ReadingSomethingElseOrANewerFormatIsAClearError()
    {
        var path = Path.Combine(Path.GetTempPath(), $"manifest-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(path, "not json");
            Assert.Contains("is not a NasFlatness run manifest", Assert.Throws<InvalidDataException>(() => RunManifest.Read(path)).Message);
            File.WriteAllText(path, "{\"SchemaVersion\": 99}");
            Assert.Contains("manifest format 99", Assert.Throws<InvalidDataException>(() => RunManifest.Read(path)).Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void DatasetFingerprintHashesEachFileAndCombinesNameAndHashInOrder()
    {
        var dir = Directory.CreateTempSubdirectory().FullName;
        try
        {
            var a = Path.Combine(dir, "a.bin");
            var b = Path.Combine(dir, "b.bin");
            File.WriteAllBytes(a, [1, 2, 3]);
            File.WriteAllBytes(b, [4]);
            var fp = DatasetFingerprint.FromFiles("toy", [a, b], new Dictionary<string, int> { ["train"] = 2 });
            string ha = Convert.ToHexStringLower(SHA256.HashData(new byte[] { 1, 2, 3 }));
            string hb = Convert.ToHexStringLower(SHA256.HashData(new byte[] { 4 }));
            Assert.Equal(ha, fp.Files[0].Sha256);
            Assert.Equal(3, fp.Files[0].Bytes);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"a.bin:{ha}\nb.bin:{hb}\n"))), fp.Sha256);
            Assert.Equal(2, fp.Splits["train"]);
            Assert.Throws<FileNotFoundException>(() => DatasetFingerprint.FromFiles("toy", [Path.Combine(dir, "missing")], new Dictionary<string, int>()));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void EnvironmentIsCapturedAndDifferencesAreListedOldToNew()
    {
        var here = RunEnvironment.Capture("cpu");
        Assert.Equal("0.2.0", here.LibraryVersion);
        Assert.False(string.IsNullOrEmpty(here.TorchSharpVersion));
        Assert.StartsWith("2.", here.LibTorchVersion);
        Assert.True(here.Threads >= 1);
        Assert.Equal(Environment.ProcessorCount, here.ProcessorCount);
        Assert.Empty(here.DifferencesFrom(RunEnvironment.Capture("cpu")));
        var other = RunEnvironment.Capture("cpu");
        other.CpuModel = "Old CPU";
        other.Threads = here.Threads + 1;
        var differences = here.DifferencesFrom(other);
        Assert.Equal(2, differences.Count);
        Assert.Contains($"CpuModel: Old CPU → {(here.CpuModel.Length == 0 ? "(unknown)" : here.CpuModel)}", differences);
    }

    [Fact]
    public void NativeBackendLoadsWhenAPackageIsReferenced()
    {
        TorchRuntime.EnsureNativeBackend(); // the test project references libtorch-cpu-linux-x64: no exception
        Assert.Contains("libtorch-cpu-linux-x64", TorchRuntime.NativeBackendPackages);
        Assert.Contains("TorchSharp-cuda-linux", TorchRuntime.NativeBackendPackages);
    }

    [Fact]
    public void SoftmaxOfARowMatchesTheDefinition()
    {
        var p = RunManifest.Softmax([1.0, 2.0, 3.0]);
        double z = Math.Exp(1) + Math.Exp(2) + Math.Exp(3);
        Assert.Equal(Math.Exp(3) / z, p[2], 15);
        Assert.Equal(1.0, p.Sum(), 15);
    }
}
