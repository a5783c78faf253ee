using System.Security.Cryptography;

namespace NasFlatness.Reproducibility;

/// <summary>The SHA-256 of the files a run read and the sizes of the splits it made of them.</summary>
public sealed class DatasetFingerprint
{
    /// <summary>The dataset name (e.g. <c>cifar10</c>, <c>medmnist:pneumoniamnist.npz</c>).</summary>
    public string Name { get; set; } = "";

    /// <summary>SHA-256 (hex) over the files' hashes in order: one value that changes when any file does.</summary>
    public string Sha256 { get; set; } = "";

    /// <summary>Each file read: name, size and SHA-256.</summary>
    public List<DatasetFile> Files { get; set; } = [];

    /// <summary>The split sizes (e.g. <c>train</c>, <c>valid</c>, <c>test</c>).</summary>
    public Dictionary<string, int> Splits { get; set; } = [];

    /// <summary>Hashes <paramref name="files"/> (in the order given) and records <paramref name="splits"/>.</summary>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    public static DatasetFingerprint FromFiles(string name, IEnumerable<string> files, IReadOnlyDictionary<string, int> splits)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(splits);
        var list = new List<DatasetFile>();
        using var combined = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in files)
        {
            if (!File.Exists(file)) throw new FileNotFoundException($"The data file '{file}' does not exist.", file);
            using var stream = File.OpenRead(file);
            var hash = Convert.ToHexStringLower(SHA256.HashData(stream));
            combined.AppendData(System.Text.Encoding.UTF8.GetBytes(Path.GetFileName(file) + ":" + hash + "\n"));
            list.Add(new DatasetFile { Name = Path.GetFileName(file), Bytes = new FileInfo(file).Length, Sha256 = hash });
        }
        return new DatasetFingerprint
        {
            Name = name,
            Files = list,
            Splits = new Dictionary<string, int>(splits),
            Sha256 = Convert.ToHexStringLower(combined.GetHashAndReset()),
        };
    }
}

/// <summary>One file of a <see cref="DatasetFingerprint"/>.</summary>
public sealed class DatasetFile
{
    /// <summary>File name (without folder, so manifests compare across machines).</summary>
    public string Name { get; set; } = "";

    /// <summary>Size in bytes.</summary>
    public long Bytes { get; set; }

    /// <summary>SHA-256 (hex).</summary>
    public string Sha256 { get; set; } = "";
}
