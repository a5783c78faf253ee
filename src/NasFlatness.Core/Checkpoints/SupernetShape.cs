using System.Security.Cryptography;
using System.Text;
using TorchSharp;

namespace NasFlatness.Checkpoints;

/// <summary>
/// The shape of a network as a checkpoint records it: scalar parameter count, tensor count and a SHA-256 of the
/// parameter names and shapes in order, so a resume with other channels or cells is refused with a clear message
/// before TorchSharp's load would fail with "Mismatched state_dict sizes". <see cref="CheckpointBytes"/> is the size of
/// one checkpoint of it: the network file (parameters and buffers), the weights' SGD momentum, α's two Adam moments and
/// a bound on the per-tensor headers and the manifest.
/// </summary>
internal sealed record SupernetShape(long Parameters, int Tensors, string Digest, long CheckpointBytes)
{
    /// <summary>A bound on what one file adds beyond tensor data (headers, names, optimizer options) per tensor, and per file.</summary>
    private const long PerTensorOverhead = 128, PerFileOverhead = 4096;

    /// <summary>A bound on the JSON manifest and the components' state file.</summary>
    private const long ManifestAndStates = 256 * 1024;

    public static SupernetShape Of(torch.nn.Module module)
    {
        var architecture = (module as Supernet)?.ArchitectureParameters().Select(p => p.Handle).ToHashSet() ?? [];
        long parameters = 0, weightBytes = 0, architectureBytes = 0, bufferBytes = 0, names = 0;
        int tensors = 0, buffers = 0;
        var text = new StringBuilder();
        foreach (var (name, p) in module.named_parameters())
        {
            parameters += p.numel();
            if (architecture.Contains(p.Handle)) architectureBytes += p.numel() * p.element_size();
            else weightBytes += p.numel() * p.element_size();
            tensors++;
            names += Encoding.UTF8.GetByteCount(name);
            text.Append(name).Append(':').AppendJoin(',', p.shape).Append(';');
        }
        foreach (var (name, b) in module.named_buffers())
        {
            bufferBytes += b.numel() * b.element_size();
            buffers++;
            names += Encoding.UTF8.GetByteCount(name);
        }
        var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
        long network = weightBytes + architectureBytes + bufferBytes + names + (tensors + buffers) * PerTensorOverhead;
        long optimizers = weightBytes + 2 * architectureBytes + 2 * tensors * PerTensorOverhead; // SGD momentum, Adam's two moments
        long bytes = network + optimizers + 4 * PerFileOverhead + ManifestAndStates;
        return new SupernetShape(parameters, tensors, digest, bytes);
    }

    /// <summary>
    /// The free space a run needs in <paramref name="directory"/>: two checkpoints exist while one replaces the other,
    /// less what the checkpoint already in the folder (to be replaced) occupies.
    /// </summary>
    public long FreeSpaceNeeded(string directory)
    {
        long existing = 0;
        try
        {
            if (Directory.Exists(directory))
                foreach (var file in Directory.EnumerateFiles(directory, "*-epoch*.bin")) existing += new FileInfo(file).Length;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            existing = 0;
        }
        return 2 * CheckpointBytes - Math.Min(existing, CheckpointBytes);
    }
}
