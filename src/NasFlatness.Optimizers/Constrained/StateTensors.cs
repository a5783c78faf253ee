using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.Optimizers;

/// <summary>
/// Writes and reads small tensors of component state exactly: dtype, shape and the values as doubles (exact for
/// float32 and float64), restored on a given device.
/// </summary>
internal static class StateTensors
{
    public static void Write(BinaryWriter writer, Tensor tensor)
    {
        writer.Write((int)tensor.dtype);
        writer.Write(tensor.dim());
        foreach (var d in tensor.shape) writer.Write(d);
        using var cpu = tensor.detach().to(float64).cpu().contiguous();
        var values = cpu.data<double>().ToArray();
        writer.Write(values.Length);
        foreach (var v in values) writer.Write(v);
    }

    public static Tensor Read(BinaryReader reader, Device? device = null)
    {
        var dtype = (ScalarType)reader.ReadInt32();
        long rank = reader.ReadInt64();
        var shape = new long[rank];
        for (int i = 0; i < rank; i++) shape[i] = reader.ReadInt64();
        int count = reader.ReadInt32();
        var values = new double[count];
        for (int i = 0; i < count; i++) values[i] = reader.ReadDouble();
        using var scope = torch.NewDisposeScope();
        var t = torch.tensor(values, shape, dtype: float64).to(dtype);
        if (device is not null) t = t.to(device);
        return t.DetachFromDisposeScope();
    }

    public static void WriteList(BinaryWriter writer, IReadOnlyList<Tensor>? tensors)
    {
        writer.Write(tensors is not null);
        if (tensors is null) return;
        writer.Write(tensors.Count);
        foreach (var t in tensors) Write(writer, t);
    }

    public static Tensor[]? ReadList(BinaryReader reader, Device? device = null)
    {
        if (!reader.ReadBoolean()) return null;
        int n = reader.ReadInt32();
        var result = new Tensor[n];
        for (int i = 0; i < n; i++) result[i] = Read(reader, device);
        return result;
    }

    public static void Dispose(IReadOnlyList<Tensor>? tensors)
    {
        if (tensors is null) return;
        foreach (var t in tensors) t.Dispose();
    }
}
