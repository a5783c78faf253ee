using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.Internal;

/// <summary>What the trainers and data sets share: device resolution and the per-epoch random streams.</summary>
internal static class RunSupport
{
    /// <summary>
    /// The seed of random stream <paramref name="stream"/> of <paramref name="epoch"/> (0: data order, 1: validation order,
    /// 2: augmentation, 3: torch's generator): a pure function of the run seed, so a resumed run draws what an uninterrupted one would.
    /// </summary>
    public static int EpochSeed(int seed, int epoch, int stream) => unchecked(((seed * 1_000_003) + epoch) * 31 + stream);

    /// <summary>The device named <paramref name="name"/>; a clear error when CUDA is asked for and not available.</summary>
    public static Device ResolveDevice(string name)
    {
        RequireAvailable(name);
        return torch.device(name);
    }

    /// <summary>
    /// The one device check of the packages, called before a data set, trainer or runner first touches torch: loads the native
    /// backend (one sentence naming the package to add when the application has none, see
    /// <see cref="NasFlatness.Advanced.TorchRuntime.EnsureNativeBackend"/>), then an <see cref="ArgumentException"/> in one
    /// sentence when <paramref name="name"/> is CUDA and CUDA is not available (null, the caller's default device, passes).
    /// </summary>
    public static void RequireAvailable(string? name)
    {
        NasFlatness.Advanced.TorchRuntime.EnsureNativeBackend();
        if (name is not null && name.StartsWith("cuda", StringComparison.Ordinal) && !torch.cuda.is_available())
            throw new ArgumentException($"Device '{ErrorText.Echo(name)}' was requested but CUDA is not available on this machine (use 'cpu', or install a CUDA backend package such as TorchSharp-cuda-linux).");
    }
}
