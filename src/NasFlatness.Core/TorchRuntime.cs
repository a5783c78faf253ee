using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness;

/// <summary>
/// Process-wide checks of the libtorch CPU backend that the library relies on for correct results.
/// </summary>
public static partial class TorchRuntime
{
    private static readonly object Gate = new();
    private static bool? _oneDnnDisabled;

    /// <summary>True when <see cref="EnsureCorrectCpuKernels"/> switched oneDNN off.</summary>
    public static bool OneDnnDisabled => _oneDnnDisabled ?? false;

    /// <summary>
    /// Turns libtorch's oneDNN (MKL-DNN) CPU convolutions off for the process (the equivalent of PyTorch's
    /// <c>torch.backends.mkldnn.enabled = False</c>), so libtorch uses its native convolutions. With
    /// libtorch 2.10 on the AMD EPYC machines we develop on, oneDNN's float32 backward-data convolution
    /// returns wrong values, sometimes NaN, for many common shapes (e.g. 4–16 channels, 1×1 and 3×3), with
    /// any thread count and with AVX-512 or AVX2 kernels, intermittently; a per-shape check cannot rule it
    /// out, so oneDNN is switched off wholesale (docs/performance.md has the measurements). The library
    /// calls this whenever a <see cref="Supernet"/> or a search runner is created. CUDA is unaffected.
    /// Set the environment variable <c>NASFLATNESS_KEEP_ONEDNN=1</c> to keep oneDNN (faster, at your risk).
    /// </summary>
    /// <returns>True when oneDNN convolutions are (now) disabled.</returns>
    public static bool EnsureCorrectCpuKernels()
    {
        lock (Gate)
        {
            if (_oneDnnDisabled is bool known) return known;
            _oneDnnDisabled = Environment.GetEnvironmentVariable("NASFLATNESS_KEEP_ONEDNN") != "1" && TrySetOneDnn(false);
            return _oneDnnDisabled.Value;
        }
    }

    /// <summary>Turns libtorch's oneDNN (MKL-DNN) CPU kernels on or off for the whole process.</summary>
    /// <returns>False when the libtorch build does not expose the switch.</returns>
    public static bool TrySetOneDnn(bool enabled)
    {
        try
        {
            SetUserEnabledMkldnn(GlobalContext(), enabled);
            return true;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    internal static bool ConvolutionGradientsAreCorrect()
    {
        using var scope = torch.NewDisposeScope();
        var generator = new torch.Generator(12345);
        foreach (var (channels, batch, size) in new[] { (4, 16, 8), (16, 8, 16) })
        {
            var x = torch.randn([batch, channels, size, size], generator: generator);
            var w = torch.randn([channels, channels, 3, 3], generator: generator);
            var g = torch.randn([batch, channels, size, size], generator: generator);
            var x32 = x.clone().requires_grad_(true);
            var gx32 = torch.autograd.grad([nn.functional.conv2d(x32, w, padding: [1, 1])], [x32], [g])[0];
            var x64 = x.to(float64).requires_grad_(true);
            var gx64 = torch.autograd.grad([nn.functional.conv2d(x64, w.to(float64), padding: [1, 1])], [x64], [g.to(float64)])[0];
            double error = (gx32.to(float64) - gx64).abs().max().item<double>();
            if (!(error < 1e-3)) return false;
        }
        return true;
    }

    [LibraryImport("libtorch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    private static partial IntPtr GlobalContext();

    [LibraryImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    private static partial void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool value);
}
