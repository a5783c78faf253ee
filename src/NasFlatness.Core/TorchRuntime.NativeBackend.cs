using TorchSharp;

namespace NasFlatness.Advanced;

public static partial class TorchRuntime
{
    /// <summary>The packages an application adds to give TorchSharp its native backend (libtorch), named in errors.</summary>
    public const string NativeBackendPackages =
        "libtorch-cpu-linux-x64 (CPU on Linux x64), TorchSharp-cpu (CPU on Windows, Linux and macOS) or TorchSharp-cuda-linux / TorchSharp-cuda-windows (NVIDIA GPUs)";

    private static bool _nativeBackendLoaded;

    /// <summary>True when the library has verified oneDNN convolutions and turned them on (see <see cref="EnsureCorrectCpuKernels(torch.nn.Module)"/>).</summary>
    public static bool OneDnnVerified
    {
        get { lock (Gate) return _enabled == true; }
    }

    /// <summary>
    /// Loads TorchSharp's native backend (libtorch) once, so that an application which forgot the native package gets
    /// one clear sentence naming what to add instead of a low-level load failure deep inside a search. The NasFlatness
    /// packages reference only the managed TorchSharp package: the application chooses the backend. Called by
    /// <see cref="EnsureCorrectCpuKernels()"/> (which the search runner, the supernets and the evaluation trainer call).
    /// </summary>
    /// <exception cref="InvalidOperationException">libtorch could not be loaded; the message names the packages to add
    /// (<see cref="NativeBackendPackages"/>) and the inner exception holds TorchSharp's own explanation.</exception>
    public static void EnsureNativeBackend()
    {
        lock (Gate)
        {
            if (_nativeBackendLoaded) return;
            Exception? cause = null;
            bool loaded;
            // When the load fails, TorchSharp's static constructor writes its whole probing trace to the console before it
            // throws; that trace is kept in the inner exception instead, so the user reads one sentence. After a successful
            // load, whatever was written meanwhile is passed on.
            var console = Console.Out;
            var held = new StringWriter();
            Console.SetOut(held);
            try
            {
                loaded = torch.TryInitializeDeviceType(DeviceType.CPU);
            }
            catch (Exception ex) when (ex is DllNotFoundException or NotSupportedException or TypeInitializationException or BadImageFormatException or EntryPointNotFoundException)
            {
                loaded = false;
                cause = ex;
            }
            finally
            {
                Console.SetOut(console);
            }
            if (!loaded)
            {
                throw new InvalidOperationException(
                    "NasFlatness could not load libtorch, TorchSharp's native backend: add one native package to your application — " +
                    NativeBackendPackages + " (see docs/packages.md).", cause);
            }
            console.Write(held.ToString());
            _nativeBackendLoaded = true;
        }
    }
}
