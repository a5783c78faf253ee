using TorchSharp;

namespace NasFlatness.Data;

/// <summary>Checks a data set's device before any image is copied to it.</summary>
internal static class DataDevices
{
    /// <summary>Throws an <see cref="ArgumentException"/> in one sentence when <paramref name="device"/> is CUDA and CUDA is not available.</summary>
    public static void Require(string? device)
    {
        if (device is not null && device.StartsWith("cuda", StringComparison.Ordinal) && !torch.cuda.is_available())
            throw new ArgumentException($"Device '{ErrorText.Echo(device)}' was requested but CUDA is not available on this machine (use 'cpu', or install a CUDA backend package such as TorchSharp-cuda-linux).");
    }
}
