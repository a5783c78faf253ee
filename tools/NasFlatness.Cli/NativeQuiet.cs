using System.Runtime.InteropServices;

namespace NasFlatness.Cli;

/// <summary>
/// Switches libtorch's NNPACK convolutions off. On CPUs NNPACK does not support, libtorch tries to initialise it on every
/// convolution and prints "Could not initialize NNPACK! Reason: Unsupported hardware." each time (thousands of lines per
/// search) before falling back to the same kernels it uses with NNPACK off; turning it off changes no number.
/// </summary>
internal static partial class NativeQuiet
{
    private static bool _done;

    public static void DisableNnpack()
    {
        if (_done || Environment.GetEnvironmentVariable("NASFLATNESS_NNPACK") == "on") return;
        _done = true;
        try
        {
            NasFlatness.Advanced.TorchRuntime.EnsureNativeBackend();
            SetUserEnabledNnpack(GlobalContext(), false);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            // Another libtorch build: leave it.
        }
    }

    [LibraryImport("libtorch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    private static partial IntPtr GlobalContext();

    [LibraryImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
    private static partial void SetUserEnabledNnpack(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool value);
}
