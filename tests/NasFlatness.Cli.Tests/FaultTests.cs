using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using NasFlatness.Cli;
using NasFlatness.Reproducibility;
using NasFlatness.SearchSpaces.Darts;
using NasFlatness.SearchSpaces.Nb201;
using NasFlatness.SearchSpaces.ZoDartsPlusPlus;
using TorchSharp;
using Xunit;

namespace NasFlatness.Cli.Tests;

/// <summary>
/// Issue 24's remaining faults through the tool: an output folder on a full disk, a size that cannot fit in memory, and
/// checkpoint locks left by a dead process or held from another host. Each ends in one documented line and exit code.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class FaultTests
{
    private static (int Code, string Out, string Err) Search(params string[] extra) => TrustTests.Search(extra);

    /// <summary>The lines of the error stream, without libtorch's own start-up notes (<c>[W…</c>).</summary>
    private static string[] Lines(string err) =>
        [.. err.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => !l.StartsWith("[W", StringComparison.Ordinal))];

    private static string OneLine(string err, string prefix)
    {
        var lines = Lines(err);
        Assert.True(lines.Length == 1, err);
        Assert.StartsWith(prefix, lines[0], StringComparison.Ordinal);
        return lines[0];
    }

    /// <summary>A stream that takes <paramref name="room"/> bytes and then fails as a full disk does (ENOSPC).</summary>
    private sealed class FullDiskStream(Stream inner, long room) : Stream
    {
        private long _written;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            int fits = (int)Math.Min(buffer.Length, Math.Max(0, room - _written));
            inner.Write(buffer[..fits]);
            _written += fits;
            if (fits < buffer.Length) throw new IOException("No space left on device", 28);
        }
    }

    /// <summary>Runs <paramref name="run"/> with result files whose name is <paramref name="file"/> failing as on a full disk, on the calls <paramref name="fails"/> allows.</summary>
    private static T WithFullDisk<T>(string file, Func<int, bool> fails, Func<T> run)
    {
        int calls = 0;
        OutputFolder.WrapStream = (path, stream) => Path.GetFileName(path) == file && fails(++calls) ? new FullDiskStream(stream, 100) : stream;
        try
        {
            return run();
        }
        finally
        {
            OutputFolder.WrapStream = null;
        }
    }

    // ---- the output folder ----

    [Fact]
    public void An_output_folder_without_room_or_that_cannot_be_created_is_refused_naming_output_before_compute()
    {
        using var tmp = new TempFolder();
        var folder = tmp["out"];
        var saved = OutputFolder.FreeSpace;
        OutputFolder.FreeSpace = _ => 150_000;
        (int Code, string Out, string Err) run;
        try
        {
            run = Search("--epochs", "3", "--output", folder);
        }
        finally
        {
            OutputFolder.FreeSpace = saved;
        }
        Assert.Equal(ExitCodes.BadInput, run.Code);
        var line = OneLine(run.Err, "error: ");
        // What a 3-epoch search writes, measured: ≈ 0.33 MB at one epoch and ≈ 40 kB more per epoch (DARTS space); the estimate must cover it.
        var needed = double.Parse(Regex.Match(line, @"writes about ([\d.]+) MB").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.InRange(needed, 0.33 + 3 * 0.04, 10);
        Assert.StartsWith($"error: --output '{folder}' has 0.15 MB free, but the run writes about ", line);
        Assert.EndsWith("free space or choose another --output folder. Nothing was computed.", line);
        Assert.DoesNotContain("search ", run.Out); // no banner: nothing was read
        Assert.False(Directory.Exists(folder)); // the folder it made for the check is gone again

        // A path under a regular file cannot be created.
        File.WriteAllText(tmp["file"], "x");
        run = Search("--epochs", "1", "--output", Path.Combine(tmp["file"], "out"));
        Assert.Equal(ExitCodes.BadInput, run.Code);
        Assert.StartsWith($"error: --output '{Path.Combine(tmp["file"], "out")}' cannot be created (", OneLine(run.Err, "error: "));
    }

    [Fact]
    public void An_evaluation_output_folder_without_room_for_the_weights_is_refused_before_training()
    {
        using var tmp = new TempFolder();
        var folder = tmp["eval"];
        const string cell = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|";
        // Independent size: the same network built directly, its parameters and buffers at 4 bytes per float32 entry.
        var genotype = CliGenotypes.Parse(cell);
        long weightBytes;
        using (var network = CliGenotypes.SpaceFor(genotype, 4, 1).CreateNetwork(genotype, DatasetInfo.Cifar10))
            weightBytes = network.parameters().Concat(network.buffers()).Sum(t => t.numel() * (t.dtype == torch.float32 ? 4 : 8));
        (int Code, string Out, string Err) Evaluate(long free, params string[] extra)
        {
            var saved = OutputFolder.FreeSpace;
            OutputFolder.FreeSpace = _ => free;
            try
            {
                return Tool.Run(["evaluate", "--genotype", cell, "--channels", "4", "--cells", "1", "--epochs", "1", "--train-examples", "32",
                    "--test-examples", "32", "--data", TestData.Cifar10, "--output", folder, "--threads", "1", .. extra]);
            }
            finally
            {
                OutputFolder.FreeSpace = saved;
            }
        }

        // Too little for even the small files: refused before the data is read.
        var run = Evaluate(150_000);
        Assert.Equal(ExitCodes.BadInput, run.Code);
        Assert.Equal($"error: --output '{folder}' has 0.15 MB free, but the run writes about 1.00 MB into it (manifest.json, weights.bin, network.json, cell.svg, report.html); free space or choose another --output folder. Nothing was computed.",
            OneLine(run.Err, "error: "));
        Assert.False(Directory.Exists(folder));

        // Room for the small files but not for the weights (twice with --onnx): refused once the network is built, before any epoch.
        foreach (var (onnx, copies) in new[] { (false, 1L), (true, 2L) })
        {
            long needed = 1_000_000 + copies * weightBytes;
            run = onnx ? Evaluate(needed - 1, "--onnx") : Evaluate(needed - 1);
            Assert.Equal(ExitCodes.BadInput, run.Code);
            var line = OneLine(run.Err, "error: ");
            Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"but the run writes about {needed / 1e6:F2} MB into it (manifest.json, weights.bin, network.json{(onnx ? ", model.onnx" : "")}, cell.svg, report.html)"), line);
            Assert.DoesNotContain("epoch", run.Out);
            Assert.False(Directory.Exists(folder));
        }
        // With exactly that room it runs.
        run = Evaluate(1_000_000 + weightBytes);
        Assert.True(run.Code == 0, run.Err);
        Assert.True(File.Exists(Path.Combine(folder, ExportCommand.WeightsFile)));
    }

    [Fact]
    public void A_plot_that_fails_on_a_full_disk_is_one_warning_and_the_finished_search_is_kept()
    {
        using var tmp = new TempFolder();
        var (code, _, err) = Search("--epochs", "2", "--output", tmp["plain"]);
        Assert.True(code == 0, err);

        var folder = tmp["full"];
        string output;
        (code, output, err) = WithFullDisk("alpha.png", _ => true, () => Search("--epochs", "2", "--output", folder));
        Assert.True(code == ExitCodes.Ok, err);
        var warning = OneLine(err, "warning: ");
        Assert.Equal($"warning: '{Path.Combine(folder, "alpha.png")}' was not written (IOException: No space left on device); the search's results are complete in '{Path.Combine(folder, RunManifest.FileName)}'.", warning);
        // Neither a cut plot nor its temporary file is left; the manifest, the epochs and the page are there.
        Assert.False(File.Exists(Path.Combine(folder, "alpha.png")));
        Assert.Empty(Directory.EnumerateFiles(folder, "*.tmp"));
        Assert.DoesNotContain("α plot:", output);
        var manifest = RunManifest.Read(Path.Combine(folder, RunManifest.FileName));
        var reference = RunManifest.Read(Path.Combine(tmp["plain"], RunManifest.FileName));
        Assert.Equal(reference.Outcome.Genotype, manifest.Outcome.Genotype); // the same seeded search as without the fault
        Assert.Equal(reference.Outcome.TrainLoss, manifest.Outcome.TrainLoss);
        Assert.Equal(2, manifest.Epochs.Count);
        Assert.Equal(File.ReadAllLines(Path.Combine(tmp["plain"], "epochs.jsonl")).Length, File.ReadAllLines(Path.Combine(folder, "epochs.jsonl")).Length);
        Assert.True(File.Exists(Path.Combine(folder, "report.html")));
    }

    [Fact]
    public void An_epoch_line_that_cannot_be_appended_does_not_cost_the_epochs_checkpoint()
    {
        using var tmp = new TempFolder();
        // The first append (epoch 1) fails on a full disk; the disk then has room again.
        var (code, _, err) = WithFullDisk("epochs.jsonl", call => call == 1, () => Search("--epochs", "2", "--output", tmp["out"], "--checkpoint", tmp["ck"]));
        Assert.True(code == ExitCodes.Ok, err);
        Assert.Equal($"warning: epoch 1 could not be added to '{Path.Combine(tmp["out"], "epochs.jsonl")}' (No space left on device); the search goes on (a --checkpoint is still written) and the file is written whole at the end.",
            OneLine(err, "warning: "));
        using (var checkpoint = JsonDocument.Parse(File.ReadAllText(Path.Combine(tmp["ck"], "checkpoint.json"))))
            Assert.Equal(2, checkpoint.RootElement.GetProperty("CompletedEpochs").GetInt32());
        // The file is whole: one line per epoch, in order, each matching the manifest's epoch.
        var manifest = RunManifest.Read(Path.Combine(tmp["out"], RunManifest.FileName));
        var lines = File.ReadAllLines(Path.Combine(tmp["out"], "epochs.jsonl"));
        Assert.Equal(2, lines.Length);
        for (int i = 0; i < lines.Length; i++)
        {
            using var line = JsonDocument.Parse(lines[i]);
            Assert.Equal(i + 1, line.RootElement.GetProperty("epoch").GetInt32());
            Assert.Equal(manifest.Epochs[i].TrainLoss, line.RootElement.GetProperty("trainLoss").GetDouble());
        }

        // A disk that stays full: every epoch is still checkpointed, the manifest is written, two warnings and exit 0.
        (code, _, err) = WithFullDisk("epochs.jsonl", _ => true, () => Search("--epochs", "2", "--output", tmp["out2"], "--checkpoint", tmp["ck2"]));
        Assert.True(code == ExitCodes.Ok, err);
        var warnings = Lines(err);
        Assert.Equal(2, warnings.Length);
        Assert.StartsWith("warning: epoch 1 could not be added to", warnings[0], StringComparison.Ordinal);
        Assert.StartsWith($"warning: '{Path.Combine(tmp["out2"], "epochs.jsonl")}' was not written (IOException: No space left on device)", warnings[1], StringComparison.Ordinal);
        using (var checkpoint = JsonDocument.Parse(File.ReadAllText(Path.Combine(tmp["ck2"], "checkpoint.json"))))
            Assert.Equal(2, checkpoint.RootElement.GetProperty("CompletedEpochs").GetInt32());
        Assert.Equal(2, RunManifest.Read(Path.Combine(tmp["out2"], RunManifest.FileName)).Epochs.Count);
        // The cut append was taken back: the file holds no partial line.
        Assert.Equal("", File.ReadAllText(Path.Combine(tmp["out2"], "epochs.jsonl")));
    }

    // ---- sizes that cannot fit in memory ----

    [Fact]
    public void Channels_that_cannot_fit_in_memory_are_one_line_naming_the_flags_before_anything_is_built()
    {
        using var tmp = new TempFolder();
        var (code, output, err) = Tool.Run("search", "--channels", "100000", "--cells", "1", "--batch-size", "32", "--epochs", "1", "--threads", "1", "--data", TestData.Cifar10, "--output", tmp["out"]);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Matches(new Regex(@"^error: --channels 100000 \(with --cells 1, --batch-size 32\) needs at least [\d,]+\.\d (GB|MB) of memory for the search — " +
                                 @"a supernet of [\d,]+ weights \([\d,]+\.\d (GB|MB) with gradients and momentum\) and at least [\d,]+\.\d (GB|MB) of activations per batch — " +
                                 @"but [\d,]+\.\d (GB|MB) is available; lower --channels, --cells or --batch-size\. Nothing was computed\.$"), OneLine(err, "error: "));
        Assert.Equal("", output);
        Assert.False(Directory.Exists(tmp["out"]));
    }

    [Fact]
    public void The_default_protocol_fits_and_a_machine_without_room_refuses_it()
    {
        var plan = Resolve();
        var space = plan.Runner.SearchSpace;
        var need = SupernetMemory.Estimate(space, DatasetInfo.Cifar10, plan.Options.BatchSize)!;
        Assert.InRange(need.Bytes, 1, 1_000_000_000); // the quick protocol runs on any machine with a gigabyte free
        var saved = SupernetMemory.Available;
        SupernetMemory.Available = () => need.Bytes - 1;
        try
        {
            var refused = Assert.Throws<CliInputException>(() => Resolve());
            Assert.StartsWith("--channels 8 (with --cells 1, --batch-size 64) needs at least ", refused.Message, StringComparison.Ordinal);
            SupernetMemory.Available = () => need.Bytes;
            Resolve();
        }
        finally
        {
            SupernetMemory.Available = saved;
        }
    }

    [Theory]
    [InlineData("nb201", 16, 2)]
    [InlineData("nb201-pc", 20, 1)]
    [InlineData("darts", 10, 5)]
    [InlineData("darts-pc", 32, 3)]
    [InlineData("varied", 10, 2)]
    public void The_parameter_estimate_is_the_built_supernets_count(string kind, int channels, int cells)
    {
        ISearchSpace space = kind switch
        {
            "nb201" => new Nb201SearchSpace(new Nb201Options { Channels = channels, CellsPerStage = cells }),
            "nb201-pc" => new Nb201SearchSpace(new Nb201Options { Channels = channels, CellsPerStage = cells, PartialChannels = true, PartialChannelProportion = 4 }),
            "darts" => new DartsSearchSpace(new DartsSpaceOptions { Channels = channels, Cells = cells }),
            "darts-pc" => new DartsSearchSpace(new DartsSpaceOptions { Channels = channels, Cells = cells, PartialChannels = 4 }),
            _ => new ZoDartsPlusPlusSearchSpace(new ZoDartsPlusPlusOptions { Channels = channels, CellsPerStage = cells }),
        };
        var estimate = SupernetMemory.Estimate(space, DatasetInfo.Cifar10, 32)!;
        using var supernet = space.CreateSupernet(DatasetInfo.Cifar10);
        long built = supernet.WeightParameters().Sum(p => p.numel());
        Assert.Equal(built, estimate.Parameters);
        Assert.Equal(built * 3 * sizeof(float), estimate.ParameterBytes);
        // The one-build bound that lets a search that fits skip the fit is never below the count.
        var bound = SupernetMemory.Estimate(space, DatasetInfo.Cifar10, 32, upperBound: true)!;
        Assert.InRange(bound.Parameters, built, 10 * built);
        Assert.Equal(estimate.ActivationBytes, bound.ActivationBytes);
    }

    [Fact]
    public void More_cells_than_the_fit_builds_are_scaled_within_a_few_percent_and_the_estimate_keeps_the_generators_state()
    {
        var space = new Nb201SearchSpace(new Nb201Options { Channels = 8, CellsPerStage = 7 });
        torch.manual_seed(5);
        var estimate = SupernetMemory.Estimate(space, DatasetInfo.Cifar10, 32)!;
        var afterEstimate = torch.rand(4).data<float>().ToArray();
        torch.manual_seed(5);
        Assert.Equal(torch.rand(4).data<float>().ToArray(), afterEstimate);
        using var supernet = space.CreateSupernet(DatasetInfo.Cifar10);
        long built = supernet.WeightParameters().Sum(p => p.numel());
        Assert.InRange((double)estimate.Parameters / built, 1.0, 1.05);
    }

    private static SearchPlan Resolve()
    {
        var a = new SearchArguments();
        var command = new System.CommandLine.Command("search");
        a.AddTo(command);
        var parse = command.Parse(["--data", TestData.Cifar10]);
        Assert.Empty(parse.Errors);
        return SearchJob.Resolve(a.Read(parse));
    }

    // ---- checkpoint locks ----

    private static void WriteHolder(string folder, int pid, string host, DateTimeOffset started)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "nasflatness.lock.json"),
            JsonSerializer.Serialize(new { Pid = pid, Host = host, Started = started, Process = "nasflatness" }));
    }

    [Fact]
    public void A_stale_lock_of_a_dead_process_is_taken_over_with_one_warning_line()
    {
        using var tmp = new TempFolder();
        using var dead = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        dead.WaitForExit();
        var started = new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
        WriteHolder(tmp["ck"], dead.Id, Environment.MachineName, started);
        var (code, _, err) = Search("--epochs", "1", "--output", tmp["out"], "--checkpoint", tmp["ck"]);
        Assert.True(code == ExitCodes.Ok, err);
        Assert.Equal($"warning: took over the stale lock in '{Path.GetFullPath(tmp["ck"])}' left by process {dead.Id} (started 2026-11-29 12:00:00 UTC on this host), which is no longer running.",
            OneLine(err, "warning: "));
        Assert.False(File.Exists(Path.Combine(tmp["ck"], "nasflatness.lock.json"))); // released at the end
    }

    [Fact]
    public void A_lock_from_another_host_says_which_file_to_delete_and_deleting_it_takes_the_folder_over()
    {
        using var tmp = new TempFolder();
        var holder = Path.Combine(Path.GetFullPath(tmp["ck"]), "nasflatness.lock.json");
        WriteHolder(tmp["ck"], 4242, "build-node-7", new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));
        var (code, output, err) = Search("--epochs", "1", "--output", tmp["out"], "--checkpoint", tmp["ck"]);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Equal($"error: the checkpoint folder '{Path.GetFullPath(tmp["ck"])}' is locked by a run on another host (pid 4242 on host build-node-7, started 2026-11-29 12:00:00 UTC), " +
                     $"which this machine cannot check; if that run has stopped (check on host build-node-7), delete '{holder}' and run again to take the folder over, or pass another --checkpoint folder.",
            OneLine(err, "error: "));
        Assert.DoesNotContain("epoch ", output); // nothing computed
        Assert.True(File.Exists(holder)); // the other host's lock is not touched
        Assert.False(File.Exists(Path.Combine(tmp["ck"], "checkpoint.json")));

        File.Delete(holder); // as the message says
        (code, _, err) = Search("--epochs", "1", "--output", tmp["out"], "--checkpoint", tmp["ck"]);
        Assert.True(code == ExitCodes.Ok, err);
        Assert.True(File.Exists(Path.Combine(tmp["ck"], "checkpoint.json")));
    }
}
