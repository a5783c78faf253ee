using System.Security.Cryptography;
using System.Text;
using TorchSharp;

namespace NasFlatness.Checkpoints;

/// <summary>
/// The shape of a network as a checkpoint records it: scalar parameter count, tensor count and a SHA-256 of the
/// parameter names and shapes in order, so a resume with other channels or cells is refused with a clear message
/// before TorchSharp's load would fail with "Mismatched state_dict sizes".
/// </summary>
internal sealed record SupernetShape(long Parameters, int Tensors, string Digest, long CheckpointBytesNeeded)
{
    public static SupernetShape Of(torch.nn.Module module)
    {
        long parameters = 0, bytes = 0;
        int tensors = 0;
        var text = new StringBuilder();
        foreach (var (name, p) in module.named_parameters())
        {
            parameters += p.numel();
            bytes += p.numel() * p.element_size();
            tensors++;
            text.Append(name).Append(':').AppendJoin(',', p.shape).Append(';');
        }
        foreach (var (_, b) in module.named_buffers()) bytes += b.numel() * b.element_size();
        var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
        // Weights + optimizer state (momentum / Adam moments) ≈ 3× the parameters; two checkpoints exist while one replaces the other.
        long needed = 2 * (3 * bytes) + (1 << 20);
        return new SupernetShape(parameters, tensors, digest, needed);
    }
}
