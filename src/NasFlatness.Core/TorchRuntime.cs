using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace NasFlatness;

/// <summary>
/// Process-wide settings of the libtorch CPU backend that the library relies on for correct results.
/// </summary>
public static partial class TorchRuntime
{
    private const string IsaVariable = "ONEDNN_MAX_CPU_ISA";
    private static int _applied;

    /// <summary>
    /// Caps oneDNN at AVX2 on CPUs with AVX-512 (unless <c>ONEDNN_MAX_CPU_ISA</c> or <c>DNNL_MAX_CPU_ISA</c>
    /// is already set). With libtorch 2.10 on AVX-512 CPUs we measured wrong float32 gradients of
    /// convolutions with respect to their input (and of <c>conv_transpose2d</c>), deterministic with one
    /// thread and intermittent with several; the AVX2 kernels are correct (see docs/performance.md).
    /// oneDNN reads the variable once, at its first convolution, so this must run before the process's
    /// first convolution; the library calls it when a <see cref="Supernet"/> or search runner is created,
    /// and applications that run convolutions earlier should call it at start-up. Idempotent.
    /// </summary>
    /// <returns>True when the cap is in force (set now or earlier by this method).</returns>
    public static bool EnsureCorrectCpuKernels()
    {
        if (Volatile.Read(ref _applied) != 0) return true;
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return false;
        if (!Avx512F.IsSupported) return false;
        if (Environment.GetEnvironmentVariable(IsaVariable) is not null || Environment.GetEnvironmentVariable("DNNL_MAX_CPU_ISA") is not null) return false;
        // .NET's Environment.SetEnvironmentVariable does not reach the native environment on Unix; libc's setenv does.
        if (SetEnv(IsaVariable, "AVX2", 0) != 0) return false;
        Environment.SetEnvironmentVariable(IsaVariable, "AVX2");
        Volatile.Write(ref _applied, 1);
        return true;
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
