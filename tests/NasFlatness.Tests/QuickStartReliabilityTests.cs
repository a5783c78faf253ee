using System.Diagnostics;
using NasFlatness.QuickStart;
using TorchSharp;
using Xunit;

namespace NasFlatness.Tests;

/// <summary>Issue 11's command-line cases: each bad input is one <c>error: …</c> line and exit code 2, before any data is read.</summary>
[Collection(TorchCollection.Name)]
public sealed class QuickStartReliabilityTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("nasflatness-qs-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args) => QuickStartTests.Run(args);

    private static string OneErrorLine(string[] args)
    {
        var (code, _, err) = Run(args);
        Assert.Equal(QuickStartApp.BadInput, code);
        Assert.StartsWith("error: ", err);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("   at ", err);
        return err;
    }

    private const string Arch = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|";

    [Fact]
    public void LookupWithSearchFlagsNamesTheIgnoredFlags()
    {
        var err = OneErrorLine(["--lookup", Arch, "--epochs", "3", "--data", "/somewhere"]);
        Assert.Contains("would ignore --data, --epochs", err);
    }

    [Fact]
    public void CudaOnACpuMachineIsOneSentenceBeforeTheDataIsRead()
    {
        if (torch.cuda.is_available()) return; // only meaningful without CUDA
        var err = OneErrorLine(["--device", "cuda", "--data", "/no/such/folder"]);
        Assert.Contains("CUDA is not available", err);
        Assert.DoesNotContain("/no/such/folder", err); // found before the data folder is looked at
    }

    [Theory]
    [InlineData("--epochs", "99999999999", "--epochs '99999999999' is not a whole number")]
    [InlineData("--batch-size", "1e3", "--batch-size '1e3' is not a whole number")]
    [InlineData("--arch-lr", "fast", "--arch-lr 'fast' is not a number")]
    public void UnparsableNumbersAreReportedInWords(string option, string value, string expected)
    {
        var err = OneErrorLine([option, value]);
        Assert.Contains(expected, err);
        Assert.DoesNotContain("System.", err);
    }

    [Fact]
    public void ArchitectureLearningRateThatCannotWorkIsRejectedBeforeCompute()
    {
        var err = OneErrorLine(["--arch-lr", "1e30"]);
        Assert.Contains("ArchitectureLearningRate = 1E+30 is invalid", err);
    }

    [Fact]
    public void MoreImagesThanTheSplitHoldsIsAnError()
    {
        var err = OneErrorLine(["--train-examples", "1000000", "--data", TestData.Cifar10]);
        Assert.Contains("--train-examples 1000000 is invalid: must be in 1..25000", err);
    }

    [Fact]
    public void HugeOrControlCharacterInputIsTruncatedAndEscapedInTheError()
    {
        var huge = "|" + new string('x', 10_000) + "~0|+|none~0|none~1|+|none~0|none~1|none~2|";
        var err = OneErrorLine(["--lookup", huge]);
        Assert.True(err.Length < 1_500, $"{err.Length} characters");
        Assert.Contains("characters in all", err);

        err = OneErrorLine(["--lookup", "|\u001b[31mred~0|+|none~0|none~1|+|none~0|none~1|none~2|"]);
        Assert.Contains("\\u001b[31mred", err);
        Assert.DoesNotContain("\u001b", err);
    }

    [Fact]
    public void CorruptCheckpointManifestIsOneLineNamingTheFile()
    {
        var folder = Path.Combine(_temp, "ckpt");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "checkpoint.json"), "{\"Format\": 2, \"Options\": null");
        var err = OneErrorLine(["--data", TestData.Cifar10, "--checkpoint", folder, "--epochs", "1", "--channels", "4", "--train-examples", "32", "--valid-examples", "32"]);
        Assert.Contains("checkpoint.json", err);
    }

    [Fact]
    public void ResumeWithAnotherArchitectureLearningRateNamesItAndHowToStartOver()
    {
        var folder = Path.Combine(_temp, "ckpt");
        string[] common = ["--data", TestData.Cifar10, "--checkpoint", folder, "--epochs", "1", "--channels", "4", "--train-examples", "32", "--valid-examples", "32", "--batch-size", "32"];
        var (code, _, err) = Run(common);
        Assert.True(code == 0, err);
        var manifest = File.ReadAllBytes(Path.Combine(folder, "checkpoint.json"));
        err = OneErrorLine([.. common, "--arch-lr", "0.001"]);
        Assert.Contains("ArchitectureLearningRate = 0.0003, but this search uses 0.001", err);
        Assert.Contains("pass another --checkpoint folder", err);
        Assert.Equal(manifest, File.ReadAllBytes(Path.Combine(folder, "checkpoint.json")));
    }

    /// <summary>The built QuickStart (beside the test, or in the sample's own output folder).</summary>
    private static string? QuickStartDll()
    {
        var here = Path.Combine(AppContext.BaseDirectory, "NasFlatness.QuickStart.dll");
        if (File.Exists(Path.ChangeExtension(here, ".runtimeconfig.json"))) return here;
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        var configuration = dir.Parent?.Name; // bin/<Configuration>/<tfm>
        while (dir is not null && !Directory.Exists(Path.Combine(dir.FullName, "samples"))) dir = dir.Parent;
        if (dir is null || configuration is null) return null;
        var dll = Path.Combine(dir.FullName, "samples", "NasFlatness.QuickStart", "bin", configuration, "net10.0", "NasFlatness.QuickStart.dll");
        return File.Exists(dll) ? dll : null;
    }

    [Fact]
    public async Task SecondCtrlCExitsAtOnceWith130AndOneLine()
    {
        if (OperatingSystem.IsWindows()) return; // signals are sent with kill(1)
        // A test run started as a background job of a non-interactive shell (`cmd &`) inherits SIGINT as ignored, and so does
        // the child (POSIX keeps SIG_IGN across exec; .NET honours it) — as for any background job, Ctrl-C cannot reach it, and
        // there is nothing to test. A terminal or a CI runner starts tests with SIGINT at its default.
        if (SigIntIgnoredHere()) return;
        var dll = QuickStartDll();
        Assert.True(dll is not null, "build samples/NasFlatness.QuickStart first");
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { dll!, "--data", TestData.Cifar10, "--epochs", "50", "--channels", "4", "--train-examples", "2560", "--valid-examples", "256", "--batch-size", "32" })
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        try
        {
            var stderr = process.StandardError.ReadToEndAsync();
            // Wait for the banner (the search is about to start), then press Ctrl-C twice.
            var stdout = new System.Text.StringBuilder();
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (DateTime.UtcNow < deadline && process.StandardOutput.ReadLine() is { } line)
            {
                stdout.AppendLine(line);
                if (line.Contains("NAS-Bench-201 search", StringComparison.Ordinal)) break;
            }
            var rest = process.StandardOutput.ReadToEndAsync(); // keep draining, so the child never blocks on a full pipe
            await Task.Delay(3000); // the data is loaded and steps are running
            Signal(process.Id);
            // Two separate deliveries: a second SIGINT that arrives while the first is still pending is merged with it by the
            // kernel, and the child would then see one Ctrl-C (graceful stop) instead of two; 1.5 s lets its signal thread run.
            await Task.Delay(1500);
            Signal(process.Id);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"the search was still running 60 s after the second Ctrl-C; stdout:\n{stdout}{await rest}\nstderr:\n{await stderr}");
            }
            var err = await stderr;
            await rest;
            Assert.Equal(130, process.ExitCode);
            Assert.DoesNotContain("   at ", err);
            Assert.DoesNotContain("Unhandled", err);
            // libtorch's own native warnings ("[W… NNPACK.cpp …]") are not ours.
            var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("[W", StringComparison.Ordinal)).ToArray();
            Assert.Single(lines);
            Assert.Matches("interrupted again: exiting now|cancelled: the search stopped", lines[0]);
        }
        finally
        {
            // Never leave the 50-epoch search running after the test, whatever failed above.
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    /// <summary>Whether SIGINT (signal 2, bit 1 of the SigIgn mask in /proc/self/status) is ignored in this process.</summary>
    private static bool SigIntIgnoredHere()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & 0b10) != 0;
    }

    private static void Signal(int pid)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-INT", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        kill.WaitForExit();
    }
}
