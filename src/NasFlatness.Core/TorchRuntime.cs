using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.Advanced;

/// <summary>
/// Process-wide settings of the libtorch CPU backend that the library relies on for correct and fast results.
/// </summary>
/// <remarks>
/// oneDNN stays off until a network is cleared by <see cref="EnsureCorrectCpuKernels(nn.Module{Tensor, Tensor}, long[])"/>: on a
/// CPU with AVX-512 a rule refuses dense convolutions whose channel counts are not multiples of 16, and every other shape is
/// checked against float64 at the network's real input size; a refusal or a failed check turns oneDNN off for the process
/// (docs/performance.md has the measurements). <c>NASFLATNESS_ONEDNN=on</c> keeps oneDNN without checks, <c>off</c> never uses it.
/// </remarks>
public static partial class TorchRuntime
{
    private static readonly object Gate = new();
    private static readonly Dictionary<(ConvolutionShape Shape, ConvolutionSite Site), string?> Verdicts = [];
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
    /// Decides whether oneDNN may run <paramref name="module"/>'s convolutions and switches it accordingly. On a CPU with
    /// AVX-512 a convolution whose channel count is not a multiple of 16 keeps oneDNN off without any check (see the remarks
    /// of <see cref="TorchRuntime"/>); every other convolution shape (in/out channels, kernel, stride, padding, dilation,
    /// groups) is run under oneDNN on small random inputs (7×7 and 16×16, batch 2) and compared with a float64 computation
    /// (forward, input and weight gradients). oneDNN is turned on when all of them, and every shape checked before in this
    /// process, pass; otherwise it is off for good. Prefer <see cref="EnsureCorrectCpuKernels(nn.Module{Tensor, Tensor}, long[])"/>,
    /// which checks at the sizes the network really sees. A module whose parameters are not on the CPU, or that has no
    /// float32 convolution, leaves the setting as it is. The first convolution (a stem on raw images) is not checked for its
    /// input gradient, which nothing needs. The switch is process-wide: call it before, not while, other threads run convolutions.
    /// </summary>
    /// <returns>True when oneDNN convolutions are on after the check.</returns>
    public static bool EnsureCorrectCpuKernels(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        return Ensure(module, _ => DefaultSites);
    }

    /// <summary>
    /// Like <see cref="EnsureCorrectCpuKernels(nn.Module)"/>, but checks every convolution at the batch size and the spatial
    /// size it sees when <paramref name="module"/> runs on batches of <paramref name="inputShape"/>
    /// (batch, channels, height, width): one forward pass on a single zero image (evaluation mode, no gradients; the
    /// random-number state and every module's training flag are restored) records each convolution's input size, then each
    /// shape is compared with float64 at that size and batch. The search runner and the evaluation trainer call this with
    /// their data's image shape and training batch size.
    /// </summary>
    /// <returns>True when oneDNN convolutions are on after the check.</returns>
    /// <exception cref="ArgumentException"><paramref name="inputShape"/> is not four sizes of at least 1.</exception>
    public static bool EnsureCorrectCpuKernels(nn.Module<Tensor, Tensor> module, long[] inputShape)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(inputShape);
        if (inputShape.Length != 4 || inputShape.Any(n => n < 1))
            throw new ArgumentException($"The input shape must be four sizes of at least 1 (batch, channels, height, width), not [{string.Join(", ", inputShape)}].", nameof(inputShape));
        Dictionary<ConvolutionShape, IReadOnlyList<ConvolutionSite>>? sites = null;
        return Ensure(module, shape =>
        {
            sites ??= ConvolutionSites(module, inputShape);
            return sites.TryGetValue(shape, out var seen) ? seen : DefaultSites;
        });
    }

    private static bool Ensure(nn.Module module, Func<ConvolutionShape, IReadOnlyList<ConvolutionSite>> sitesOf)
    {
        lock (Gate)
        {
            TuneAllocator();
            DisableUnavailableNnpack();
            var mode = Mode;
            if (mode != "verify") return mode == "on" || !SetLocked(false);
            var shapes = ConvolutionShapes(module);
            if (shapes.Count == 0) return _enabled != false;
            return DecideLocked(shapes, sitesOf);
        }
    }

    // Any failure, of the rule or of a check, switches oneDNN off for the rest of the process.
    private static bool DecideLocked(List<ConvolutionShape> shapes, Func<ConvolutionShape, IReadOnlyList<ConvolutionSite>> sitesOf)
    {
        if (_failure is not null) return !SetLocked(false);
        bool avx512 = Avx512F.IsSupported;
        if (shapes.All(s => RuleRefusal(s, avx512) is null) && !SetLocked(true)) return !SetLocked(false); // this libtorch has no switch
        _failure = FirstProblem(shapes, sitesOf, Verdicts, avx512);
        return _failure is null ? SetLocked(true) : !SetLocked(false);
    }

    /// <summary>
    /// The decision for a network without side effects: the rule's refusal (<see cref="RuleRefusal"/>) of any shape, else
    /// the first failing check of a shape at one of its sites (site batch 0: the small default check), else null. Checks
    /// run with the kernels as they are set (the caller turns oneDNN on) and are remembered in <paramref name="verdicts"/>.
    /// </summary>
    internal static string? FirstProblem(
        List<ConvolutionShape> shapes, Func<ConvolutionShape, IReadOnlyList<ConvolutionSite>> sitesOf,
        Dictionary<(ConvolutionShape Shape, ConvolutionSite Site), string?> verdicts, bool avx512)
    {
        var refusal = shapes.Select(s => RuleRefusal(s, avx512)).FirstOrDefault(r => r is not null);
        if (refusal is not null) return refusal;
        foreach (var shape in shapes)
        {
            foreach (var site in sitesOf(shape))
            {
                if (!verdicts.TryGetValue((shape, site), out var verdict))
                    verdict = verdicts[(shape, site)] = site.Batch == 0 ? CheckConvolution(shape) : CheckConvolution(shape, site, RealSizeRounds);
                if (verdict is not null) return verdict;
            }
        }
        return null;
    }

    /// <summary>
    /// The deterministic part of the decision: on a CPU with AVX-512 (<paramref name="avx512"/>), a dense convolution
    /// (groups 1) with a kernel larger than 1×1 whose input gradient is needed and whose input or output channel count is
    /// not a multiple of 16 is refused without a check. libtorch 2.10's oneDNN gets such shapes wrong there (measured:
    /// every wrong shape of the grid and of the supernets was of this kind; 1×1 and depthwise convolutions were right), and
    /// a random check at other sizes cannot clear them (docs/performance.md). Returns null when the shape goes on to the check.
    /// </summary>
    internal static string? RuleRefusal(ConvolutionShape s, bool avx512)
    {
        if (!avx512 || s.Groups != 1 || s.KernelH * s.KernelW == 1 || !s.CheckInputGradient) return null;
        if (s.InChannels % 16 == 0 && s.OutChannels % 16 == 0) return null;
        return $"oneDNN is not used for {s} on this AVX-512 CPU: there its float32 convolutions larger than 1×1 are wrong where a channel count is not a multiple of 16";
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
