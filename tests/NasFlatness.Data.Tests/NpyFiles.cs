using System.IO.Compression;
using System.Text;

namespace NasFlatness.Data.Tests;

/// <summary>The MedMNIST files in shared/data and a writer of small .npy/.npz files for the error tests.</summary>
internal static class NpyFiles
{
    public static string MedMnist(string name) => Path.Combine(TestData.SharedData, "medmnist", name + ".npz");

    /// <summary>A .npy file: magic, version, header dict padded with spaces to a multiple of 64 bytes and ending in a newline, then the data.</summary>
    public static byte[] Npy(string descr, long[] shape, byte[] data, bool fortran = false, int version = 1, string? rawHeader = null)
    {
        string shapeText = shape.Length == 1 ? $"({shape[0]},)" : "(" + string.Join(", ", shape) + ")";
        string dict = rawHeader ?? $"{{'descr': '{descr}', 'fortran_order': {(fortran ? "True" : "False")}, 'shape': {shapeText}, }}";
        int prefix = version == 1 ? 10 : 12;
        int total = prefix + dict.Length + 1;
        int padded = (total + 63) / 64 * 64;
        string header = dict + new string(' ', padded - total) + "\n";
        using var stream = new MemoryStream();
        stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)version, 0]);
        var headerBytes = Encoding.Latin1.GetBytes(header);
        if (version == 1) stream.Write(BitConverter.GetBytes((ushort)headerBytes.Length));
        else stream.Write(BitConverter.GetBytes((uint)headerBytes.Length));
        stream.Write(headerBytes);
        stream.Write(data);
        return stream.ToArray();
    }

    /// <summary>Writes a .npz (zip of .npy members) to <paramref name="path"/>.</summary>
    public static void Npz(string path, IReadOnlyDictionary<string, byte[]> members)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var (name, bytes) in members)
        {
            var entry = zip.CreateEntry(name + ".npy", CompressionLevel.Fastest);
            using var s = entry.Open();
            s.Write(bytes);
        }
    }

    /// <summary>A valid small grey MedMNIST-like set of members: n images of 4×4 per split with pixel value = image index, labels index % classes.</summary>
    public static Dictionary<string, byte[]> SmallMembers(int n = 3, int classes = 2, int size = 4)
    {
        var members = new Dictionary<string, byte[]>();
        foreach (var split in new[] { "train", "val", "test" })
        {
            var pixels = new byte[n * size * size];
            for (int i = 0; i < n; i++) pixels.AsSpan(i * size * size, size * size).Fill((byte)(10 * i + 5));
            members[split + "_images"] = Npy("|u1", [n, size, size], pixels);
            members[split + "_labels"] = Npy("|u1", [n, 1], [.. Enumerable.Range(0, n).Select(i => (byte)(i % classes))]);
        }
        return members;
    }
}
