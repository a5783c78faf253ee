using System.Diagnostics;
using System.Text.Json.Nodes;
using CsCheck;
using Microsoft.Extensions.Logging;
using NasFlatness.Data;
using NasFlatness.Evaluation;
using NasFlatness.Optimizers;
using NasFlatness.Search;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace NasFlatness.Tests;

/// <summary>
/// The failure modes of issue 11, each as the API call that misbehaved: now a clear exception, nothing written or lost.
/// Corrupt or foreign checkpoints give <see cref="InvalidDataException"/> (the files are damaged) or
/// <see cref="InvalidOperationException"/> (intact, but written with other settings, or the folder is in use).
/// </summary>
[Collection(TorchCollection.Name)]
public sealed partial class ReliabilityTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("nasflatness-rel-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private string Folder(string name = "ckpt") => Path.Combine(_temp, name);

    private static SearchRunner Runner(SearchOptions options, IReadOnlyList<ISearchObserver>? observers = null, int channels = 4, ILogger<SearchRunner>? logger = null) =>
        new(Tiny.Space(channels), new DartsFirstOrder(), options: options, logger: logger) { Observers = observers ?? [] };

    private static SearchOptions Options(string folder, int epochs = 1)
    {
        var o = Tiny.Options(epochs);
        o.CheckpointDirectory = folder;
        return o;
    }

    /// <summary>Every file of the folder with its bytes, to show that a refused run changed nothing.</summary>
    private static Dictionary<string, string> Snapshot(string folder) =>
        Directory.GetFiles(folder).ToDictionary(f => Path.GetFileName(f), f => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f))));

    private sealed class NanInjector(int epoch, int step) : ISearchObserver
    {
        public void OnArchitectureStepped(ArchitectureStep s)
        {
            if (s.Clock.Epoch != epoch || s.Clock.Step != step) return;
            using var noGrad = torch.no_grad();
            s.Supernet.ArchitectureParameters()[0][0, 1].fill_(double.NaN);
        }
    }

    private sealed class CountingProgress : IProgress<SearchProgress>
    {
        public int Reports;
        public void Report(SearchProgress value) => Reports++;
    }

    // ---- 1. Divergence ----

    [Fact]
    public void NanInjectedIntoAlphaStopsTheSearchAtThatStepAndKeepsTheLastCheckpoint()
    {
        using var data = Tiny.Data(train: 96, valid: 96);
        var folder = Folder();
        var options = Options(folder, epochs: 3);
        var ex = Assert.Throws<SearchDivergedException>(() => Runner(options, [new NanInjector(epoch: 1, step: 2)]).Run(data));
        Assert.Equal(1, ex.Epoch);
        Assert.Equal(2, ex.Step);
        Assert.Equal("architecture parameter α[0]", ex.Quantity);
        Assert.True(double.IsNaN(ex.Value));
        Assert.Contains("epoch 2, step 3", ex.Message);
        Assert.Contains("architecture parameter α[0] is NaN", ex.Message);

        // The checkpoint of epoch 1 is intact and complete: a run without the fault resumes from it to the end.
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "checkpoint.json")))!;
        Assert.Equal(1, (int)manifest["CompletedEpochs"]!);
        Assert.Empty(Directory.GetFiles(folder, "*.tmp"));
        var resumed = Runner(options).Run(data);
        Assert.Equal(3, resumed.Epochs.Count);
    }

    [Fact]
    public void ExplodingWeightLearningRateStopsTheSearchNamingTheQuantity()
    {
        using var data = Tiny.Data(train: 64, valid: 64);
        var options = Tiny.Options(epochs: 2);
        options.WeightLearningRate = 1e8;
        options.WeightLearningRateMin = 1e8;
        options.GradientClip = 1e9;
        var ex = Assert.Throws<SearchDivergedException>(() => Runner(options).Run(data));
        Assert.Matches("training loss|weight-gradient norm|supernet weight|supernet statistic|validation loss", ex.Quantity);
        Assert.Equal(nameof(SearchOptions.WeightLearningRate), ex.Setting);
        Assert.False(double.IsFinite(ex.Value));
    }

    [Theory]
    [InlineData("WeightLearningRate", "WeightLearningRate = 1E+300 is invalid")]
    [InlineData("ArchitectureLearningRate", "ArchitectureLearningRate = 1E+30 is invalid")]
    [InlineData("GradientClip", "GradientClip = Infinity is invalid")]
    [InlineData("WeightDecay", "WeightDecay = Infinity is invalid")]
    [InlineData("ArchitectureWeightDecay", "ArchitectureWeightDecay = NaN is invalid")]
    public void OptionsThatCannotWorkAreRejectedAtValidation(string which, string expected)
    {
        var options = new SearchOptions();
        switch (which)
        {
            case "WeightLearningRate": options.WeightLearningRate = 1e300; break;
            case "ArchitectureLearningRate": options.ArchitectureLearningRate = 1e30; break;
            case "GradientClip": options.GradientClip = double.PositiveInfinity; break;
            case "WeightDecay": options.WeightDecay = double.PositiveInfinity; break;
            default: options.ArchitectureWeightDecay = double.NaN; break;
        }
        var ex = Assert.Throws<ArgumentException>(() => Runner(options));
        Assert.Contains(expected, ex.Message);
    }

    [Theory]
    [InlineData("LearningRate", "LearningRate = 1E+300 is invalid")]
    [InlineData("GradientClip", "GradientClip = Infinity is invalid")]
    [InlineData("WeightDecay", "WeightDecay = Infinity is invalid")]
    public void EvaluationOptionsThatCannotWorkAreRejected(string which, string expected)
    {
        var options = new EvaluationOptions();
        switch (which)
        {
            case "LearningRate": options.LearningRate = 1e300; break;
            case "GradientClip": options.GradientClip = double.PositiveInfinity; break;
            default: options.WeightDecay = double.PositiveInfinity; break;
        }
        var ex = Assert.Throws<ArgumentException>(() => new EvaluationTrainer(options));
        Assert.Contains(expected, ex.Message);
    }

    /// <summary>A linear classifier whose output becomes NaN on the n-th training forward pass.</summary>
    private sealed class NanOnForward : nn.Module<Tensor, Tensor>
    {
        private readonly TorchSharp.Modules.Linear fc;
        private readonly int _nanAt;
        private int _calls;

        public NanOnForward(int nanAt) : base(nameof(NanOnForward))
        {
            _nanAt = nanAt;
            fc = nn.Linear(3 * 32 * 32, 10);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            var y = fc.forward(input.flatten(1));
            if (training && ++_calls == _nanAt) y = y * double.NaN;
            return y;
        }
    }

    private static CifarClassificationData EvaluationData() =>
        new(TestData.Cifar10Train, TestData.Cifar10Test, new CifarClassificationDataOptions { MaxTrainExamples = 64, MaxTestExamples = 32 });

    [Fact]
    public void EvaluationTrainerStopsAtANonFiniteLossAndKeepsTheLastCheckpoint()
    {
        using var data = EvaluationData();
        var folder = Folder("eval");
        var options = new EvaluationOptions { Epochs = 3, BatchSize = 32, TestBatchSize = 32, CheckpointDirectory = folder };
        torch.manual_seed(0);
        using var network = new NanOnForward(nanAt: 4); // 2 steps per epoch: epoch 1, step 1
        var ex = Assert.Throws<SearchDivergedException>(() => new EvaluationTrainer(options).Train(network, data));
        Assert.Equal((1, 1), (ex.Epoch, ex.Step));
        Assert.Equal("training loss", ex.Quantity);
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "evaluation.json")))!;
        Assert.Equal(1, (int)manifest["CompletedEpochs"]!);

        torch.manual_seed(0);
        using var healthy = new NanOnForward(nanAt: -1);
        var result = new EvaluationTrainer(options).Train(healthy, data);
        Assert.Equal(3, result.Epochs.Count);
    }

    // ---- 2. Resume with other settings, data or shape ----

    [Fact]
    public void ResumeWithAnotherArchitectureLearningRateIsRefusedNamingIt()
    {
        using var data = Tiny.Data(train: 32, valid: 32);
        var folder = Folder();
        Runner(Options(folder)).Run(data);
        var before = Snapshot(folder);
        var options = Options(folder);
        options.ArchitectureLearningRate = 1e-3;
        var ex = Assert.Throws<CheckpointMismatchException>(() => Runner(options).Run(data));
        Assert.Contains("ArchitectureLearningRate = 0.03, but this search uses 0.001", ex.Message);
        Assert.Contains("ResumeFromCheckpoint = false", ex.Message);
        Assert.Equal(before, Snapshot(folder));
    }

    [Fact]
    public void ResumeWithAnotherNumberOfImagesIsRefused()
    {
        var folder = Folder();
        using (var data = Tiny.Data(train: 32, valid: 32)) Runner(Options(folder)).Run(data);
        var before = Snapshot(folder);
        using var more = Tiny.Data(train: 64, valid: 32);
        var ex = Assert.Throws<CheckpointMismatchException>(() => Runner(Options(folder)).Run(more));
        Assert.Contains("training images = 32, but this search uses 64", ex.Message);
        Assert.Contains("data = ", ex.Message); // the fingerprint records the split ranges too
        Assert.Equal(before, Snapshot(folder));
    }

    [Fact]
    public void ResumeWithOtherDataIsRefused()
    {
        var folder = Folder();
        using (var data = Tiny.Data(train: 32, valid: 32)) Runner(Options(folder)).Run(data);
        var before = Snapshot(folder);
        // The same files through another folder (symbolic links): a different data identity.
        var linked = Path.Combine(_temp, "linked-cifar");
        Directory.CreateDirectory(linked);
        foreach (var file in Directory.GetFiles(TestData.Cifar10, "data_batch_*.bin"))
            File.CreateSymbolicLink(Path.Combine(linked, Path.GetFileName(file)), file);
        var images = CifarImages.Load(linked);
        using var other = new CifarSearchData(images, new CifarSearchDataOptions { MaxTrainExamples = 32, MaxValidationExamples = 32 });
        var ex = Assert.Throws<CheckpointMismatchException>(() => Runner(Options(folder)).Run(other));
        Assert.Contains("data = Cifar10 " + Path.GetFullPath(TestData.Cifar10), ex.Message);
        Assert.Contains(linked, ex.Message);
        Assert.Equal(before, Snapshot(folder));
    }

    [Fact]
    public void ResumeWithOtherChannelsIsRefusedBeforeTorchSharpsLoad()
    {
        using var data = Tiny.Data(train: 32, valid: 32);
        var folder = Folder();
        Runner(Options(folder)).Run(data);
        var before = Snapshot(folder);
        var ex = Assert.Throws<CheckpointMismatchException>(() => Runner(Options(folder), channels: 8).Run(data));
        Assert.Contains("a supernet of", ex.Message);
        Assert.Contains("other channels, cells or space settings", ex.Message);
        Assert.DoesNotContain("Mismatched", ex.Message);
        Assert.Equal(before, Snapshot(folder));
    }

    // ---- 3. Lock ----

    private sealed class NestedRun(Func<SearchResult> run) : ISearchObserver
    {
        public Exception? Failure;
        public bool Done;

        public void OnEpochStarting(EpochStart epoch)
        {
            if (Done) return;
            Done = true;
            try
            {
                run();
            }
            catch (Exception ex)
            {
                Failure = ex;
            }
        }
    }

    [Fact]
    public void SecondRunOnTheSameFolderFailsAtOnceNamingTheHolder()
    {
        using var data = Tiny.Data(train: 32, valid: 32);
        var folder = Folder();
        var second = new CountingProgress();
        var nested = new NestedRun(() => Runner(Options(folder)).Run(data, second));
        Runner(Options(folder), [nested]).Run(data);
        var ex = Assert.IsType<CheckpointFolderInUseException>(nested.Failure);
        Assert.Contains("is in use by another run", ex.Message);
        Assert.Contains($"pid {Environment.ProcessId} on host {Environment.MachineName}", ex.Message);
        Assert.Equal(0, second.Reports);
        Assert.False(File.Exists(Path.Combine(folder, "nasflatness.lock")), "the lock is released when the run ends");
        // The first run's checkpoint is whole.
        Assert.Equal(1, (int)JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "checkpoint.json")))!["CompletedEpochs"]!);
    }

    private sealed class ListLogger : ILogger<SearchRunner>
    {
        public readonly List<string> Lines = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add(formatter(state, exception));
    }

    private static void WriteHolder(string folder, int pid, DateTimeOffset started)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "nasflatness.lock"), "");
        File.WriteAllText(Path.Combine(folder, "nasflatness.lock.json"),
            $$"""{"Pid": {{pid}}, "Host": "{{Environment.MachineName}}", "Started": "{{started:O}}", "Process": "test"}""");
    }

    [Fact]
    public void StaleLockOfADeadProcessIsTakenOverWithALogMessage()
    {
        using var data = Tiny.Data(train: 32, valid: 32);
        var folder = Folder();
        using var dead = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        dead.WaitForExit();
        WriteHolder(folder, dead.Id, DateTimeOffset.UtcNow.AddMinutes(-5));
        var logger = new ListLogger();
        var result = Runner(Options(folder), logger: logger).Run(data);
        Assert.Single(result.Epochs);
        Assert.Contains(logger.Lines, l => l.Contains($"took over the stale lock in '{Path.GetFullPath(folder)}' left by process {dead.Id} ") && l.Contains("no longer running"));
    }

    [Fact]
    public void LockBodyOfALiveProcessIsRespectedEvenWithoutAnOsLock()
    {
        using var data = Tiny.Data(train: 32, valid: 32);
        var folder = Folder();
        using var alive = Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
        try
        {
            WriteHolder(folder, alive.Id, DateTimeOffset.UtcNow.AddSeconds(1));
            var progress = new CountingProgress();
            var ex = Assert.Throws<CheckpointFolderInUseException>(() => Runner(Options(folder)).Run(data, progress));
            Assert.Contains($"pid {alive.Id}", ex.Message);
            Assert.Equal(0, progress.Reports);
        }
        finally
        {
            alive.Kill();
        }
    }

    [Fact]
    public void EvaluationFolderInUseIsRefused()
    {
        using var data = EvaluationData();
        var folder = Folder("eval");
        using var alive = Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
        try
        {
            WriteHolder(folder, alive.Id, DateTimeOffset.UtcNow.AddSeconds(1));
            using var network = new NanOnForward(-1);
            var ex = Assert.Throws<CheckpointFolderInUseException>(() =>
                new EvaluationTrainer(new EvaluationOptions { Epochs = 1, BatchSize = 32, CheckpointDirectory = folder }).Train(network, data));
            Assert.Contains($"pid {alive.Id}", ex.Message);
        }
        finally
        {
            alive.Kill();
        }
    }

    // ---- 4. Writability before compute; 10. orphan .tmp files ----

    [Fact]
    public void UnwritableCheckpointFolderIsFoundBeforeAnyCompute()
    {
        using var data = Tiny.Data(train: 32, valid: 32);
        var file = Path.Combine(_temp, "a-file");
        File.WriteAllText(file, "x");
        var progress = new CountingProgress();
        var ex = Assert.Throws<IOException>(() => Runner(Options(Path.Combine(file, "ckpt"))).Run(data, progress));
        Assert.Contains("cannot be created", ex.Message);
        Assert.Contains("Nothing was computed", ex.Message);
        Assert.Equal(0, progress.Reports);
    }

    [Fact]
    public void OrphanTemporaryFilesOfAKilledRunAreRemovedOnStart()
    {
        using var data = Tiny.Data(train: 32, valid: 32);
        var folder = Folder();
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "supernet-epoch3.bin.tmp"), "half");
        File.WriteAllText(Path.Combine(folder, "checkpoint.json.tmp"), "{");
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "mine");
        Runner(Options(folder)).Run(data);
        Assert.Empty(Directory.GetFiles(folder, "*.tmp"));
        Assert.True(File.Exists(Path.Combine(folder, "notes.txt")));
    }

    // ---- 5, 6. Corrupt checkpoints and file names ----

    private (string Folder, Dictionary<string, string> Before) Checkpoint(Action<string, JsonNode> corrupt)
    {
        using var data = Tiny.Data(train: 32, valid: 32);
        var folder = Folder();
        Runner(Options(folder)).Run(data);
        var manifestPath = Path.Combine(folder, "checkpoint.json");
        var manifest = JsonNode.Parse(File.ReadAllText(manifestPath))!;
        corrupt(folder, manifest);
        File.WriteAllText(manifestPath, manifest.ToJsonString());
        return (folder, Snapshot(folder));
    }

    private static InvalidDataException ResumeFails(string folder, Dictionary<string, string> before)
    {
        using var data = Tiny.Data(train: 32, valid: 32);
        var ex = Assert.Throws<InvalidDataException>(() => Runner(Options(folder)).Run(data));
        Assert.Equal(before, Snapshot(folder));
        return ex;
    }

    [Fact]
    public void TruncatedBinaryFileIsNamed()
    {
        var (folder, before) = Checkpoint((folder, m) =>
        {
            var path = Path.Combine(folder, (string)m["SupernetFile"]!);
            var bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        });
        var ex = ResumeFails(folder, before);
        Assert.Contains("supernet-epoch1.bin", ex.Message);
        Assert.Contains("truncated", ex.Message);
    }

    [Fact]
    public void FlippedByteInAFileIsFoundByItsHash()
    {
        var (folder, before) = Checkpoint((folder, m) =>
        {
            var path = Path.Combine(folder, (string)m["WeightOptimizerFile"]!);
            var bytes = File.ReadAllBytes(path);
            bytes[bytes.Length / 2] ^= 0x40;
            File.WriteAllBytes(path, bytes);
        });
        var ex = ResumeFails(folder, before);
        Assert.Contains("weight-optimizer-epoch1.bin", ex.Message);
        Assert.Contains("SHA-256", ex.Message);
    }

    [Theory]
    [InlineData("Options", null, "Options is missing")]
    [InlineData("CompletedEpochs", 99, "CompletedEpochs = 99 is outside 0..1")]
    [InlineData("CompletedEpochs", -5, "CompletedEpochs = -5 is outside 0..1")]
    [InlineData("History", null, "History is missing")]
    [InlineData("Space", null, "Space is missing")]
    [InlineData("SupernetFile", "../supernet-epoch1.bin", "SupernetFile = '../supernet-epoch1.bin' is not a plain file name")]
    [InlineData("StateFile", "/etc/passwd", "StateFile = '/etc/passwd' is not a plain file name")]
    [InlineData("CompletedEpochs", "one", "not valid JSON")]
    public void CorruptManifestFieldIsNamed(string field, object? value, string expected)
    {
        var (folder, before) = Checkpoint((_, m) => m[field] = value switch
        {
            null => null,
            int i => JsonValue.Create(i),
            string s => JsonValue.Create(s),
            _ => throw new ArgumentException("value"),
        });
        var ex = ResumeFails(folder, before);
        Assert.Contains(expected, ex.Message);
        Assert.Contains("checkpoint.json", ex.Message);
    }

    [Fact]
    public void HistoryLongerThanCompletedEpochsIsRefused()
    {
        var (folder, before) = Checkpoint((_, m) => m["History"]!.AsArray().Add(m["History"]![0]!.DeepClone()));
        var ex = ResumeFails(folder, before);
        Assert.Contains("History holds 2 epochs but CompletedEpochs = 1", ex.Message);
    }

    /// <summary>
    /// Random corruptions of a real checkpoint — truncation, flipped bytes, JSON fields set to null, negative, huge or
    /// wrongly typed values — never escape as anything but the library's clear <see cref="InvalidDataException"/> (damaged)
    /// or <see cref="InvalidOperationException"/> (intact but written with other settings); or the checkpoint still loads.
    /// </summary>
    [Fact]
    public void RandomCorruptionsNeverCauseAnUnhandledException() => RandomCorruptions(seed: null, iterations: 80);

    /// <summary>Every seed the random exploration above ever failed on, kept as a fixed case (issue 24: a huge DurationSeconds overflowed TimeSpan).</summary>
    [Theory]
    [InlineData("1fDCubdrH4U1")]
    public void RandomCorruptionRegressionSeeds(string seed) => RandomCorruptions(seed, iterations: 1);

    private void RandomCorruptions(string? seed, long iterations)
    {
        using var data = Tiny.Data(train: 32, valid: 32);
        var pristine = Folder("pristine");
        Runner(Options(pristine)).Run(data);
        var files = Directory.GetFiles(pristine).Select(Path.GetFileName).Order().ToArray();
        var manifestLeaves = Leaves(JsonNode.Parse(File.ReadAllText(Path.Combine(pristine, "checkpoint.json")))!).ToArray();
        JsonNode?[] replacements = [null, JsonValue.Create(-5), JsonValue.Create(int.MaxValue), JsonValue.Create(1e300), JsonValue.Create("x"),
            JsonValue.Create(true), new JsonObject(), new JsonArray(), JsonValue.Create(0), JsonValue.Create("../../etc/passwd")];
        int run = 0, loaded = 0;
        var outcomes = new Dictionary<string, int>();

        Gen.Select(Gen.Int[0, 2], Gen.Int[0, files.Length - 1], Gen.Int[0, manifestLeaves.Length - 1], Gen.Int[0, replacements.Length - 1], Gen.Int[0, int.MaxValue])
            .Sample((kind, fileIndex, leafIndex, replacementIndex, seed) =>
            {
                var folder = Folder($"corrupt-{run++}");
                Directory.CreateDirectory(folder);
                foreach (var f in files) File.Copy(Path.Combine(pristine, f!), Path.Combine(folder, f!));
                var random = new Random(seed);
                var target = Path.Combine(folder, files[fileIndex]!);
                var bytes = File.ReadAllBytes(target);
                switch (kind)
                {
                    case 0: // truncate
                        File.WriteAllBytes(target, bytes[..random.Next(bytes.Length)]);
                        break;
                    case 1: // flip one to four bytes
                        for (int i = 0, n = random.Next(1, 5); i < n && bytes.Length > 0; i++) bytes[random.Next(bytes.Length)] ^= (byte)random.Next(1, 256);
                        File.WriteAllBytes(target, bytes);
                        break;
                    default: // edit one JSON field of the manifest
                        var manifestPath = Path.Combine(folder, "checkpoint.json");
                        var manifest = JsonNode.Parse(File.ReadAllText(manifestPath))!;
                        var (parent, key, index) = Locate(manifest, manifestLeaves[leafIndex]);
                        var replacement = replacements[replacementIndex]?.DeepClone();
                        if (parent is JsonObject o) o[key!] = replacement;
                        else if (parent is JsonArray a) a[index] = replacement;
                        File.WriteAllText(manifestPath, manifest.ToJsonString());
                        break;
                }
                string outcome;
                try
                {
                    Runner(Options(folder)).Run(data);
                    outcome = "loaded";
                    loaded++;
                }
                catch (InvalidDataException)
                {
                    outcome = nameof(InvalidDataException);
                }
                catch (InvalidOperationException)
                {
                    outcome = nameof(InvalidOperationException);
                }
                outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
                Directory.Delete(folder, recursive: true);
            }, iter: iterations, threads: 1, seed: seed);
        if (seed is null) Assert.True(outcomes.GetValueOrDefault(nameof(InvalidDataException)) > 0, string.Join(", ", outcomes));
    }

    /// <summary>JSON paths (property names and array indices) of every leaf value of <paramref name="node"/>.</summary>
    private static IEnumerable<object[]> Leaves(JsonNode node, object[]? path = null)
    {
        path ??= [];
        switch (node)
        {
            case JsonObject o:
                foreach (var (k, v) in o)
                {
                    object[] p = [.. path, k];
                    if (v is null) yield return p;
                    else foreach (var leaf in Leaves(v, p)) yield return leaf;
                }
                yield return path.Length == 0 ? path : path; // the object itself may be replaced too
                break;
            case JsonArray a:
                for (int i = 0; i < a.Count; i++)
                {
                    object[] p = [.. path, i];
                    if (a[i] is null) yield return p;
                    else foreach (var leaf in Leaves(a[i]!, p)) yield return leaf;
                }
                yield return path;
                break;
            default:
                yield return path;
                break;
        }
    }

    private static (JsonNode? Parent, string? Key, int Index) Locate(JsonNode root, object[] path)
    {
        if (path.Length == 0) return (null, null, -1);
        JsonNode? parent = root;
        for (int i = 0; i < path.Length - 1; i++) parent = path[i] is string k ? parent![k] : parent![(int)path[i]];
        return path[^1] is string key ? (parent, key, -1) : (parent, null, (int)path[^1]);
    }
}
