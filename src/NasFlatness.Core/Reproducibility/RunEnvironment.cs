using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using NasFlatness.Advanced;

namespace NasFlatness.Reproducibility;

/// <summary>The machine and software a run used.</summary>
public sealed class RunEnvironment
{
    /// <summary>NasFlatness version (informational version of NasFlatness.Core, without the commit).</summary>
    public string LibraryVersion { get; set; } = "";

    /// <summary>The git commit NasFlatness.Core was built from (the SDK's <c>SourceRevisionId</c>), or empty.</summary>
    public string GitCommit { get; set; } = "";

    /// <summary>TorchSharp version.</summary>
    public string TorchSharpVersion { get; set; } = "";

    /// <summary>libtorch version (the native library TorchSharp loaded), or empty when unknown.</summary>
    public string LibTorchVersion { get; set; } = "";

    /// <summary>.NET runtime version.</summary>
    public string DotNetVersion { get; set; } = "";

    /// <summary>Operating system description.</summary>
    public string OperatingSystem { get; set; } = "";

    /// <summary>Process architecture (X64, Arm64, …).</summary>
    public string Architecture { get; set; } = "";

    /// <summary>CPU model (from <c>/proc/cpuinfo</c> on Linux), or empty.</summary>
    public string CpuModel { get; set; } = "";

    /// <summary>Logical processors visible to the process.</summary>
    public int ProcessorCount { get; set; }

    /// <summary>libtorch intra-op threads.</summary>
    public int Threads { get; set; }

    /// <summary>The device the run used (<c>cpu</c>, <c>cuda:0</c>, …).</summary>
    public string Device { get; set; } = "";

    /// <summary>The CPU convolution kernels: <c>oneDNN (verified)</c>, <c>native</c> or <c>oneDNN (unchecked)</c> (<see cref="TorchRuntime.OneDnnDisabled"/>).</summary>
    public string CpuKernels { get; set; } = "";

    /// <summary>Why oneDNN was switched off (<see cref="TorchRuntime.OneDnnFailure"/>), or null.</summary>
    public string? OneDnnFailure { get; set; }

    /// <summary>The machine's host name (to tell "same machine" when reproducing).</summary>
    public string MachineName { get; set; } = "";

    /// <summary>Describes the current process: versions, OS, CPU, threads, kernels; <paramref name="device"/> is the run's device.</summary>
    public static RunEnvironment Capture(string device)
    {
        var core = typeof(RunEnvironment).Assembly;
        var informational = core.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "";
        int plus = informational.IndexOf('+', StringComparison.Ordinal);
        var torchSharp = typeof(TorchSharp.torch).Assembly;
        return new RunEnvironment
        {
            LibraryVersion = plus < 0 ? informational : informational[..plus],
            GitCommit = plus < 0 ? "" : informational[(plus + 1)..],
            TorchSharpVersion = torchSharp.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+')[0]
                ?? torchSharp.GetName().Version?.ToString() ?? "",
            LibTorchVersion = LoadedLibTorchVersion(),
            DotNetVersion = System.Environment.Version.ToString(),
            OperatingSystem = RuntimeInformation.OSDescription,
            Architecture = RuntimeInformation.ProcessArchitecture.ToString(),
            CpuModel = CpuModelName(),
            ProcessorCount = System.Environment.ProcessorCount,
            Threads = SafeThreads(),
            Device = device ?? "",
            CpuKernels = TorchRuntime.OneDnnDisabled ? "native" : TorchRuntime.OneDnnVerified ? "oneDNN (verified)" : "oneDNN (unchecked)",
            OneDnnFailure = TorchRuntime.OneDnnFailure,
            MachineName = System.Environment.MachineName,
        };
    }

    /// <summary>
    /// The differences between this environment and <paramref name="other"/> that can change a run's numbers (versions,
    /// CPU, threads, device, kernels), one line each ("CpuModel: A → B"); empty when they match.
    /// </summary>
    public IReadOnlyList<string> DifferencesFrom(RunEnvironment other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var lines = new List<string>();
        void Compare(string field, object? a, object? b)
        {
            var x = Convert.ToString(a, CultureInfo.InvariantCulture) ?? "";
            var y = Convert.ToString(b, CultureInfo.InvariantCulture) ?? "";
            if (!string.Equals(x, y, StringComparison.Ordinal)) lines.Add($"{field}: {Show(y)} → {Show(x)}");
        }
        Compare(nameof(MachineName), MachineName, other.MachineName);
        Compare(nameof(LibraryVersion), LibraryVersion, other.LibraryVersion);
        Compare(nameof(GitCommit), GitCommit, other.GitCommit);
        Compare(nameof(TorchSharpVersion), TorchSharpVersion, other.TorchSharpVersion);
        Compare(nameof(LibTorchVersion), LibTorchVersion, other.LibTorchVersion);
        Compare(nameof(DotNetVersion), DotNetVersion, other.DotNetVersion);
        Compare(nameof(OperatingSystem), OperatingSystem, other.OperatingSystem);
        Compare(nameof(Architecture), Architecture, other.Architecture);
        Compare(nameof(CpuModel), CpuModel, other.CpuModel);
        Compare(nameof(ProcessorCount), ProcessorCount, other.ProcessorCount);
        Compare(nameof(Threads), Threads, other.Threads);
        Compare(nameof(Device), Device, other.Device);
        Compare(nameof(CpuKernels), CpuKernels, other.CpuKernels);
        return lines;
    }

    private static string Show(string s) => s.Length == 0 ? "(unknown)" : s;

    private static int SafeThreads()
    {
        try
        {
            return TorchSharp.torch.get_num_threads();
        }
        catch (Exception ex) when (ex is DllNotFoundException or TypeInitializationException or NotSupportedException)
        {
            return 0;
        }
    }

    private static string LoadedLibTorchVersion()
    {
        try
        {
            return TorchSharp.torch.__version__;
        }
        catch (Exception ex) when (ex is DllNotFoundException or TypeInitializationException or NotSupportedException)
        {
            return "";
        }
    }

    private static string CpuModelName()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                foreach (var line in File.ReadLines("/proc/cpuinfo"))
                {
                    if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':', StringComparison.Ordinal) is var colon and > 0)
                        return line[(colon + 1)..].Trim();
                }
            }
        }
        catch (IOException)
        {
        }
        return System.Environment.GetEnvironmentVariable("PROCESSOR_IDENTIFIER") ?? "";
    }
}
