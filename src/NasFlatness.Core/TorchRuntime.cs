using System.Globalization;
using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.Advanced;

/// <summary>
/// Process-wide settings of the libtorch CPU backend that the library relies on for correct and fast results.
/// </summary>
/// <remarks>
/// <para>
/// <b>oneDNN.</b> With libtorch 2.10 on the AMD EPYC (AVX-512) machines we develop on, oneDNN's float32
/// convolutions return wrong values, sometimes NaN, whenever a channel count is not a multiple of 16: the
/// input gradient of 3×3 convolutions with 3–12 input or 4–24 output channels, and even the forward pass with
/// 24 input channels; with every channel count a multiple of 16 all checks pass (docs/performance.md has the
/// grid). libtorch's native convolutions are always correct but 2–4× slower. The library therefore keeps
/// oneDNN off by default and turns it on only for networks whose every convolution shape it has verified
/// against a float64 computation with oneDNN on (<see cref="EnsureCorrectCpuKernels(nn.Module)"/>). A shape
/// that fails switches oneDNN off for the rest of the process.
/// </para>
/// <para>
/// The environment variable <c>NASFLATNESS_ONEDNN</c> overrides this: <c>on</c> keeps oneDNN without checks
/// (the older <c>NASFLATNESS_KEEP_ONEDNN=1</c> means the same), <c>off</c> never uses it.
/// </para>
/// </remarks>
public static partial class TorchRuntime
{
    private static readonly object Gate = new();
    private static readonly Dictionary<ConvolutionShape, string?> Verdicts = [];
    private static bool? _enabled;
    private static string? _failure;
    private static bool _allocatorTuned;

    /// <summary>True when the library has switched oneDNN convolutions off (they are on when it has not touched them).</summary>
    public static bool OneDnnDisabled
    {
        get { lock (Gate) return _enabled == false; }
    }

    /// <summary>Why oneDNN is off for the rest of the process: the first convolution shape that failed its check, or null.</summary>
    public static string? OneDnnFailure
    {
        get { lock (Gate) return _failure; }
    }

    private static string Mode =>
        Environment.GetEnvironmentVariable("NASFLATNESS_KEEP_ONEDNN") == "1" ? "on"
        : (Environment.GetEnvironmentVariable("NASFLATNESS_ONEDNN") ?? "").Trim().ToLowerInvariant() switch
        {
            "on" or "1" or "true" => "on",
            "off" or "0" or "false" => "off",
            _ => "verify",
        };

    /// <summary>
    /// Switches oneDNN convolutions off for the process (the equivalent of PyTorch's
    /// <c>torch.backends.mkldnn.enabled = False</c>) because a network the library has not verified is about
    /// to run; see the remarks of <see cref="TorchRuntime"/>. The library calls this whenever it creates a
    /// supernet, a search runner or an evaluation trainer; <see cref="EnsureCorrectCpuKernels(nn.Module)"/>
    /// turns oneDNN back on for a verified network.
    /// </summary>
    /// <returns>True when oneDNN convolutions are (now) off.</returns>
    /// <exception cref="InvalidOperationException">libtorch cannot be loaded: the application lacks a native package (the message names them, see <see cref="EnsureNativeBackend"/>).</exception>
    public static bool EnsureCorrectCpuKernels()
    {
        EnsureNativeBackend();
        lock (Gate)
        {
            TuneAllocator();
            DisableUnavailableNnpack();
            if (Mode == "on") return false;
            return SetLocked(false);
        }
    }

    /// <summary>
    /// Checks every convolution shape of <paramref name="module"/> (in/out channels, kernel, stride, padding,
    /// dilation, groups) under oneDNN against a float64 computation (forward, input and weight gradients) and
    /// turns oneDNN on when all of them, and every shape checked before in this process, agree; otherwise turns
    /// it off for good. Shapes are checked once per process (a few milliseconds each). A module whose
    /// parameters are not on the CPU, or that has no float32 convolution, leaves the setting as it is.
    /// The first convolution of the module (a stem on raw images) is not checked for its input gradient, which
    /// nothing needs. The switch is process-wide and the check runs with oneDNN on: call it before, not while,
    /// other threads run convolutions.
    /// </summary>
    /// <returns>True when oneDNN convolutions are on after the check.</returns>
    public static bool EnsureCorrectCpuKernels(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        lock (Gate)
        {
            TuneAllocator();
            DisableUnavailableNnpack();
            var mode = Mode;
            if (mode != "verify") return mode == "on" || !SetLocked(false);
            var shapes = ConvolutionShapes(module);
            if (shapes.Count == 0) return _enabled != false;
            if (_failure is not null) return !SetLocked(false);
            foreach (var shape in shapes)
            {
                if (!Verdicts.TryGetValue(shape, out var verdict))
                {
                    if (!SetLocked(true)) return !SetLocked(false); // this libtorch has no switch: leave it as it is
                    verdict = Verdicts[shape] = CheckConvolution(shape);
                }
                if (verdict is not null)
                {
                    _failure = verdict;
                    return !SetLocked(false);
                }
            }
            return SetLocked(true);
        }
    }

    /// <summary>Turns libtorch's oneDNN (MKL-DNN) CPU kernels on or off for the whole process.</summary>
    /// <returns>False when the libtorch build does not expose the switch.</returns>
    public static bool TrySetOneDnn(bool enabled)
    {
        lock (Gate)
        {
            try
            {
                SetUserEnabledMkldnn(GlobalContext(), enabled);
                _enabled = enabled;
                return true;
            }
            catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
            {
                return false;
            }
        }
    }

    // Returns true when the switch now has the requested value.
    private static bool SetLocked(bool enabled) => _enabled == enabled || TrySetOneDnn(enabled);

    /// <summary>
    /// Makes glibc keep freed memory for reuse instead of returning it to the kernel after every large tensor
    /// (<c>mallopt</c>: trim threshold 1 GiB, mmap threshold 32 MiB). A search step allocates and frees
    /// hundreds of multi-megabyte tensors; by default each comes back as fresh pages whose page faults cost as
    /// much as the arithmetic (measured: a C=16, N=1 step took 2× longer). Resident memory then stays at the
    /// step's peak instead of falling between steps. No effect outside Linux/glibc; set
    /// <c>NASFLATNESS_TUNE_ALLOCATOR=0</c> to leave the allocator alone. Called by the library together with
    /// <see cref="EnsureCorrectCpuKernels()"/>.
    /// </summary>
    /// <returns>True when the allocator settings were applied (now or before).</returns>
    public static bool TuneAllocator()
    {
        lock (Gate)
        {
            if (_allocatorTuned) return true;
            if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("NASFLATNESS_TUNE_ALLOCATOR") == "0") return false;
            try
            {
                const int TrimThreshold = -1, MmapThreshold = -3;
                _allocatorTuned = Mallopt(TrimThreshold, 1 << 30) == 1 & Mallopt(MmapThreshold, 32 << 20) == 1;
            }
            catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
            {
                _allocatorTuned = false;
            }
            return _allocatorTuned;
        }
    }

    /// <summary>A 2-D convolution configuration as the check sees it.</summary>
    internal readonly record struct ConvolutionShape(
        long InChannels, long OutChannels, long KernelH, long KernelW, long StrideH, long StrideW,
        long PadH, long PadW, long DilationH, long DilationW, long Groups, bool CheckInputGradient)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"conv2d {InChannels}→{OutChannels} channels, kernel {KernelH}×{KernelW}, stride {StrideH}, padding {PadH}, dilation {DilationH}, groups {Groups}");
    }

    internal static List<ConvolutionShape> ConvolutionShapes(nn.Module module)
    {
        var result = new List<ConvolutionShape>();
        bool first = true;
        var seen = new HashSet<nn.Module>(ReferenceEqualityComparer.Instance);
        foreach (var (_, m) in module.named_modules().Prepend(("", module)))
        {
            if (m is not Conv2d conv || !seen.Add(conv)) continue;
            var weight = conv.weight;
            if (weight is null || weight.device_type != DeviceType.CPU || weight.dtype != float32) { first = false; continue; }
            long[] pad = conv.padding is { } p ? [.. p] : [0, 0];
            var shape = new ConvolutionShape(
                conv.in_channels, conv.out_channels, weight.shape[2], weight.shape[3],
                conv.stride[0], conv.stride[^1], pad[0], pad[^1], conv.dilation[0], conv.dilation[^1], conv.groups,
                CheckInputGradient: !first);
            first = false;
            if (!result.Contains(shape)) result.Add(shape);
        }
        return result;
    }

    /// <summary>
    /// Runs one convolution shape with the current kernels in float32 and in float64 (native kernels) on random
    /// data at two spatial sizes, and returns null when forward, weight gradient and (if asked) input gradient
    /// agree to 1e-4 relative to the largest value, or a description of the disagreement.
    /// </summary>
    /// <summary>
    /// Rounds of the per-shape check. oneDNN's wrong results are intermittent on some CPUs (measured on an AMD EPYC with
    /// libtorch 2.10: the 8→8 3×3 input gradient was right in about 1 call out of 10, so a single check let a broken kernel
    /// through in 1 process out of 10, and the search then diverged). Each round uses fresh inputs; any wrong round fails the shape.
    /// </summary>
    internal const int CheckRounds = 6;

    internal static string? CheckConvolution(ConvolutionShape s)
    {
        using var scope = torch.NewDisposeScope();
        var generator = new torch.Generator(20261123);
        foreach (long size in Enumerable.Repeat(new long[] { 7, 16 }, CheckRounds).SelectMany(sizes => sizes))
        {
            long spanH = s.DilationH * (s.KernelH - 1) + 1, spanW = s.DilationW * (s.KernelW - 1) + 1;
            long h = Math.Max(size, spanH), w = Math.Max(size, spanW);
            var x = torch.randn([2, s.InChannels, h, w], generator: generator);
            var k = torch.randn([s.OutChannels, s.InChannels / s.Groups, s.KernelH, s.KernelW], generator: generator);
            var outputs = new Tensor[2];
            var gradients = new Tensor[2][];
            Tensor? g = null;
            for (int precision = 0; precision < 2; precision++)
            {
                var type = precision == 0 ? float32 : float64;
                var xi = x.to(type).requires_grad_(s.CheckInputGradient);
                var ki = k.to(type).requires_grad_(true);
                var y = nn.functional.conv2d(xi, ki, strides: [s.StrideH, s.StrideW], padding: [s.PadH, s.PadW],
                    dilation: [s.DilationH, s.DilationW], groups: s.Groups);
                g ??= torch.randn(y.shape, generator: generator);
                outputs[precision] = y.detach().to(float64);
                Tensor[] inputs = s.CheckInputGradient ? [ki, xi] : [ki];
                gradients[precision] = [.. torch.autograd.grad([y], inputs, [g.to(type)]).Select(t => t.to(float64))];
            }
            string? Compare(string what, Tensor actual, Tensor exact)
            {
                double scale = exact.abs().max().item<double>();
                double error = (actual - exact).abs().max().item<double>();
                return error <= 1e-4 * Math.Max(scale, 1e-30)
                    ? null
                    : string.Create(CultureInfo.InvariantCulture, $"oneDNN {what} of {s} is wrong (largest error {error:G3}, largest value {scale:G3}, input {h}×{w})");
            }
            var problem = Compare("forward", outputs[0], outputs[1]) ?? Compare("weight gradient", gradients[0][0], gradients[1][0]);
            if (problem is null && s.CheckInputGradient) problem = Compare("input gradient", gradients[0][1], gradients[1][1]);
            if (problem is not null) return problem;
        }
        return null;
    }

    [LibraryImport("libtorch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    private static partial IntPtr GlobalContext();

    [LibraryImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    private static partial void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool value);

    private static bool _nnpackChecked;

    /// <summary>
    /// Where NNPACK cannot initialise on this CPU (libtorch then logs "Could not initialize NNPACK! Reason: Unsupported
    /// hardware." on every native convolution of a batch of 16 or more and falls back anyway), switches libtorch's NNPACK
    /// path off for the process, so the fallback is taken silently. Checked once per process (that check logs the line once).
    /// </summary>
    private static void DisableUnavailableNnpack()
    {
        if (_nnpackChecked) return;
        _nnpackChecked = true;
        try
        {
            if (!NnpackAvailable()) SetUserEnabledNnpack(GlobalContext(), false);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            // Another libtorch build: leave it as it is.
        }
    }

    [LibraryImport("libtorch_cpu", EntryPoint = "_ZN2at6native17_nnpack_availableEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static partial bool NnpackAvailable();

    [LibraryImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
    private static partial void SetUserEnabledNnpack(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool value);

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int Mallopt(int parameter, int value);
}
