using System.Text.Json.Nodes;
using CsCheck;
using NasFlatness.Checkpoints;
using NasFlatness.Optimizers;
using NasFlatness.Search;
using TorchSharp;
using Xunit;

namespace NasFlatness.Tests;

/// <summary>Issue 24: checks that switched off, a late divergence, custom components' settings and the free-space estimate.</summary>
public sealed partial class ReliabilityTests
{
    // ---- Checks that switched off ----

    [Fact]
    public void ManifestWithoutFilesIsRefusedAndFlippedBytesDoNotLoad()
    {
        var (folder, before) = Checkpoint((folder, m) =>
        {
            m["Files"] = null;
            var path = Path.Combine(folder, (string)m["SupernetFile"]!);
            var bytes = File.ReadAllBytes(path);
            for (int i = 1; i <= 4; i++) bytes[bytes.Length * i / 5] ^= 0x5a;
            File.WriteAllBytes(path, bytes);
        });
        var ex = ResumeFails(folder, before);
        Assert.Contains("Files (the size and SHA-256 of every checkpoint file) is missing", ex.Message);
    }

    [Theory]
    [InlineData("none", "History[0].Architecture is missing or empty")]
    [InlineData("empty-tensor", "History[0].Architecture[0] (α tensor 0 of epoch 1) is missing, empty")]
    [InlineData("ragged", "History[0].Architecture[0] (α tensor 0 of epoch 1) has rows of different lengths")]
    [InlineData("narrow", "History[0].Architecture[0] is 6×4 but the supernet's α tensor 0 is 6×5 (epoch 1)")]
    [InlineData("extra-row", "History[0].Architecture[0] is 7×5 but the supernet's α tensor 0 is 6×5 (epoch 1)")]
    [InlineData("extra-tensor", "History[0].Architecture holds α tensor 1 but the supernet has 1 α tensors (epoch 1)")]
    [InlineData("infinite", "History[0].Architecture[0] (α tensor 0 of epoch 1) holds a non-finite value")]
    public void ArchitectureHistoryOfAWrongShapeIsRefusedNamingEpochAndTensor(string how, string expected)
    {
        var (folder, before) = Checkpoint((_, m) =>
        {
            var architecture = m["History"]![0]!["Architecture"]!.AsArray();
            var rows = architecture[0]!.AsArray();
            switch (how)
            {
                case "none": m["History"]![0]!["Architecture"] = new JsonArray(); break;
                case "empty-tensor": architecture[0] = new JsonArray(); break;
                case "ragged": rows[1]!.AsArray().RemoveAt(0); break;
                case "narrow": foreach (var row in rows) row!.AsArray().RemoveAt(0); break;
                case "extra-row": rows.Add(rows[0]!.DeepClone()); break;
                case "extra-tensor": architecture.Add(architecture[0]!.DeepClone()); break;
                case "infinite": rows[0]![0] = JsonValue.Create("Infinity"); break;
            }
        });
        var ex = ResumeFails(folder, before);
        Assert.Contains(expected, ex.Message);
        Assert.Contains("checkpoint.json", ex.Message);
    }

    [Theory]
    [InlineData("DurationSeconds", 1e300, "DurationSeconds = 1E+300 is not a run time between 0 and")]
    [InlineData("TrainLoss", -1.0, "History[0].TrainLoss = -1 is not a finite non-negative loss")]
    [InlineData("TrainAccuracy", 1.5, "History[0].TrainAccuracy = 1.5 is outside 0..1")]
    [InlineData("ValidationAccuracy", -0.5, "History[0].ValidationAccuracy = -0.5 is outside 0..1")]
    [InlineData("MeanMaxWeight", 7.0, "History[0].MeanMaxWeight = 7 is outside 0..1")]
    [InlineData("WeightLearningRate", -2.0, "History[0].WeightLearningRate = -2 is not a finite non-negative rate")]
    [InlineData("ArchitectureUpdates", 1e6, "History[0].ArchitectureUpdates = 1000000 is outside 0..1 (its Steps)")]
    public void NumericFieldOutOfRangeIsOneClearError(string field, double value, string expected)
    {
        var (folder, before) = Checkpoint((_, m) =>
        {
            var target = field == "DurationSeconds" ? m : m["History"]![0]!;
            target[field] = field == "ArchitectureUpdates" ? JsonValue.Create((int)value) : JsonValue.Create(value);
        });
        var ex = ResumeFails(folder, before);
        Assert.Contains(expected, ex.Message);
    }

    /// <summary>
    /// Random structural corruptions of the manifest — <c>Files</c> removed, emptied, hashes or sizes swapped; <c>History</c>
    /// epochs dropped or duplicated; α snapshots emptied, widened, narrowed or given extra tensors; numbers put out of range —
    /// are each refused with an <see cref="InvalidDataException"/> naming the field (none loads).
    /// </summary>
    [Fact]
    public void RandomStructuralCorruptionsAreRefusedNamingTheField() => StructuralCorruptions(seed: null, iterations: 40);

    private void StructuralCorruptions(string? seed, long iterations)
    {
        using var data = Tiny.Data(train: 32, valid: 32);
        var pristine = Folder("pristine-structure");
        Runner(Options(pristine, epochs: 2)).Run(data);
        var files = Directory.GetFiles(pristine).Select(Path.GetFileName).ToArray();
        string[] numeric = ["TrainLoss", "TrainAccuracy", "ValidationLoss", "ValidationAccuracy", "MeanMaxWeight", "WeightLearningRate", "ArchitectureUpdates", "Steps", "Epoch"];
        JsonNode[] bad = [JsonValue.Create(-1), JsonValue.Create("Infinity"), JsonValue.Create("-Infinity"), JsonValue.Create(1e300)];
        int run = 0;
        Gen.Select(Gen.Int[0, 9], Gen.Int[0, 1], Gen.Int[0, numeric.Length - 1], Gen.Int[0, bad.Length - 1], Gen.Int[0, 3])
            .Sample((kind, epoch, field, value, file) =>
            {
                var folder = Folder($"structure-{run++}");
                Directory.CreateDirectory(folder);
                foreach (var f in files) File.Copy(Path.Combine(pristine, f!), Path.Combine(folder, f!));
                var manifestPath = Path.Combine(folder, "checkpoint.json");
                var m = JsonNode.Parse(File.ReadAllText(manifestPath))!;
                var records = m["Files"]!.AsArray();
                var history = m["History"]!.AsArray();
                var architecture = history[epoch]!["Architecture"]!.AsArray();
                string expected;
                switch (kind)
                {
                    case 0: m["Files"] = null; expected = "Files"; break;
                    case 1: records.RemoveAt(file); expected = "records no size and hash"; break;
                    case 2: records[file]!["Sha256"] = records[(file + 1) % records.Count]!["Sha256"]!.DeepClone(); expected = "SHA-256"; break;
                    case 3: records[file]!["Length"] = (long)records[file]!["Length"]! + 1 + file; expected = "bytes but was written with"; break;
                    case 4: history.RemoveAt(epoch); expected = "History"; break;
                    case 5: history[epoch]!["Architecture"] = new JsonArray(); expected = "].Architecture"; break;
                    case 6: architecture.Add(architecture[0]!.DeepClone()); expected = "].Architecture"; break;
                    case 7: foreach (var row in architecture[0]!.AsArray()) row!.AsArray().Add(0.5); expected = "].Architecture"; break;
                    case 8: architecture[0]!.AsArray().RemoveAt(0); expected = "].Architecture"; break;
                    default:
                        var name = numeric[field];
                        // 1e300 is a valid (if absurd) loss or learning rate, and out of range for the others.
                        var v = name is "TrainLoss" or "ValidationLoss" or "WeightLearningRate" && value == 3 ? bad[0] : bad[value];
                        history[epoch]![name] = name is "ArchitectureUpdates" or "Steps" or "Epoch" ? JsonValue.Create(-1) : v.DeepClone();
                        expected = name == "Epoch" ? $"History[{epoch}].Epoch = -1" : $"History[{epoch}].{name}";
                        break;
                }
                File.WriteAllText(manifestPath, m.ToJsonString());
                var ex = Assert.Throws<InvalidDataException>(() => Runner(Options(folder, epochs: 2)).Run(data));
                Assert.Contains(expected, ex.Message);
                Directory.Delete(folder, recursive: true);
            }, iter: iterations, threads: 1, seed: seed);
    }

    // ---- A late divergence keeps the last good checkpoint ----

    /// <summary>Sets one supernet weight to +∞ after the last weight step of <paramref name="epoch"/>: every step's loss was finite.</summary>
    private sealed class LateWeightBlowUp(int epoch) : ISearchObserver
    {
        public void OnWeightStep(WeightStep s)
        {
            if (s.Clock.Epoch != epoch || s.Clock.Step != s.Clock.StepsPerEpoch - 1) return;
            using var noGrad = torch.no_grad();
            s.Supernet.WeightParameters().First().flatten()[0].fill_(double.PositiveInfinity);
        }
    }

    [Fact]
    public void NonFiniteEpochEndIsDivergenceAndKeepsTheLastGoodCheckpoint()
    {
        using var data = Tiny.Data(train: 64, valid: 64);
        var folder = Folder();
        var options = Options(folder, epochs: 3);
        Assert.ThrowsAny<OperationCanceledException>(() => Runner(options, [new StopAfter(1)]).Run(data));
        var good = Snapshot(folder);
        var ex = Assert.Throws<SearchDivergedException>(() => Runner(options, [new LateWeightBlowUp(epoch: 1)]).Run(data));
        Assert.Equal(1, ex.Epoch);
        Assert.StartsWith("supernet weight '", ex.Quantity);
        Assert.Equal(nameof(SearchOptions.WeightLearningRate), ex.Setting);
        Assert.Contains("Lower WeightLearningRate", ex.Message);
        Assert.DoesNotContain("ArchitectureLearningRate", ex.Message);
        // The checkpoint of epoch 1 is the one written before: byte for byte, and a run without the fault resumes from it.
        Assert.Equal(good, Snapshot(folder));
        Assert.Equal(3, Runner(options).Run(data).Epochs.Count);
    }

    [Fact]
    public void HugeWeightLearningRateNamesTheWeightLearningRateNotAlpha()
    {
        using var data = Tiny.Data(train: 64, valid: 64);
        var options = Tiny.Options(epochs: 3);
        options.WeightLearningRate = 1e5;
        options.WeightLearningRateMin = 1e5;
        options.GradientClip = 1e9;
        var ex = Assert.Throws<SearchDivergedException>(() => Runner(options).Run(data));
        Assert.Equal(nameof(SearchOptions.WeightLearningRate), ex.Setting);
        Assert.Contains("Lower WeightLearningRate", ex.Message);
        Assert.DoesNotContain("ArchitectureLearningRate", ex.Message);
        Assert.DoesNotContain("α[0]", ex.Quantity.Split('(')[0]);
    }

    /// <summary>Cancels the search after <paramref name="epochs"/> completed epochs (their checkpoints written).</summary>
    private sealed class StopAfter(int epochs) : ISearchObserver
    {
        public void OnEpochStarting(EpochStart e)
        {
            if (e.Clock.Epoch == epochs) throw new OperationCanceledException();
        }
    }

    // ---- Custom components' settings ----

    /// <summary>A user's regularizer with a weight λ it declares for the resume check.</summary>
    private sealed class CustomEntropy(double lambda) : IFlatnessRegularizer, ISearchComponentSettings
    {
        public string Name => "custom-entropy";
        public IReadOnlyDictionary<string, string> Settings => SearchComponentSettings.Of(("λ", lambda));
        public RegularizerContribution Contribute(ArchitectureStep step) => new()
        {
            LossTerm = architecture => architecture[0].softmax(-1).pow(2).sum() * lambda,
        };
    }

    [Fact]
    public void CustomRegularizerResumedWithAnotherLambdaIsRefusedNamingIt()
    {
        using var data = Tiny.Data(train: 32, valid: 32);
        var folder = Folder();
        SearchRunner With(double lambda, params ISearchObserver[] observers) =>
            new(Tiny.Space(4), new DartsFirstOrder(), [new CustomEntropy(lambda)], Options(folder, epochs: 2)) { Observers = observers };
        Assert.ThrowsAny<OperationCanceledException>(() => With(0.01, new StopAfter(1)).Run(data));
        var before = Snapshot(folder);
        var ex = Assert.Throws<CheckpointMismatchException>(() => With(0.5).Run(data));
        Assert.Contains("regularizer 'custom-entropy' setting λ = 0.01, but this search uses 0.5", ex.Message);
        Assert.Equal(before, Snapshot(folder));
        Assert.Equal(2, With(0.01).Run(data).Epochs.Count); // the same λ resumes
    }

    [Fact]
    public void BuiltInRegularizerResumedWithAnotherRhoIsRefused()
    {
        using var data = Tiny.Data(train: 32, valid: 32);
        var folder = Folder();
        SearchRunner With(double rho) => new(Tiny.Space(4), new DartsFirstOrder(), [new A2MRegularizer(new A2MOptions { Rho = rho })], Options(folder));
        With(0.01).Run(data);
        var ex = Assert.Throws<CheckpointMismatchException>(() => With(0.02).Run(data));
        Assert.Contains("regularizer 'a2m' setting rho = 0.01, but this search uses 0.02", ex.Message);
    }

    // ---- Free-space estimate ----

    [Theory]
    [InlineData(4, 1)]
    [InlineData(8, 2)]
    public void CheckpointSizeEstimateIsTheWrittenSize(int channels, int cells)
    {
        using var data = Tiny.Data(train: 32, valid: 32);
        var folder = Folder();
        var space = Tiny.Space(channels, cells);
        new SearchRunner(space, new DartsFirstOrder(), options: Options(folder)).Run(data);
        long written = Directory.GetFiles(folder).Sum(f => new FileInfo(f).Length);
        using var supernet = space.CreateSupernet(data.Info);
        var shape = SupernetShape.Of(supernet);
        // Never below what is written, and not far above it (the old estimate was about twice the size).
        Assert.InRange(shape.CheckpointBytes, written, written * 1.15 + 320 * 1024);
        // A folder that holds the checkpoint needs room for one more, an empty one for two.
        Assert.Equal(2 * shape.CheckpointBytes, shape.FreeSpaceNeeded(Folder("empty")));
        Assert.Equal(shape.CheckpointBytes + Math.Max(0, shape.CheckpointBytes - Directory.GetFiles(folder, "*-epoch*.bin").Sum(f => new FileInfo(f).Length)),
            shape.FreeSpaceNeeded(folder));
    }
}
