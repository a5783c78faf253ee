using System.Globalization;

namespace NasFlatness.Data;

/// <summary>
/// CIFAR images in memory, as read from the official binary version: <see cref="Count"/> images of
/// 3×32×32 bytes (channel-major: 1,024 red, 1,024 green, 1,024 blue, each row-major) and their labels.
/// </summary>
public sealed class CifarImages
{
    /// <summary>Bytes of one image (3 × 32 × 32).</summary>
    public const int ImageBytes = 3 * 32 * 32;

    internal CifarImages(CifarKind kind, byte[] pixels, byte[] labels, string? source = null)
    {
        Kind = kind;
        Pixels = pixels;
        Labels = labels;
        Source = source;
    }

    /// <summary>
    /// Where the images were read from: the full path of the folder and each file's name and size (links followed);
    /// null for images not read by <see cref="Load"/>. Search data built from these images uses it as its fingerprint.
    /// </summary>
    public string? Source { get; }

    /// <summary>The dataset the images come from.</summary>
    public CifarKind Kind { get; }

    /// <summary>Number of images.</summary>
    public int Count => Labels.Length;

    /// <summary>Number of classes (10 or 100).</summary>
    public int ClassCount => Kind == CifarKind.Cifar10 ? 10 : 100;

    /// <summary>All pixels, image after image (<see cref="ImageBytes"/> each).</summary>
    public byte[] Pixels { get; }

    /// <summary>Label of every image.</summary>
    public byte[] Labels { get; }

    /// <summary>The pixels of image <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> Image(int index) => Pixels.AsSpan(checked(index * ImageBytes), ImageBytes);

    /// <summary>Per-channel mean used for normalisation (docs/spec/algorithms.md §2.1).</summary>
    public static IReadOnlyList<float> Mean(CifarKind kind) => kind == CifarKind.Cifar10 ? [0.4914f, 0.4822f, 0.4465f] : [0.5071f, 0.4865f, 0.4409f];

    /// <summary>Per-channel standard deviation used for normalisation (docs/spec/algorithms.md §2.1).</summary>
    public static IReadOnlyList<float> Std(CifarKind kind) => kind == CifarKind.Cifar10 ? [0.2470f, 0.2435f, 0.2616f] : [0.2673f, 0.2564f, 0.2762f];

    /// <summary>
    /// Reads the training set (<paramref name="train"/> = true: 50,000 images) or the test set (10,000)
    /// from a folder of the binary version. <paramref name="folder"/> may be the folder holding the
    /// <c>.bin</c> files or its parent (holding <c>cifar-10-batches-bin</c> / <c>cifar-100-binary</c>).
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">A batch file is missing.</exception>
    /// <exception cref="InvalidDataException">A file is truncated, has the wrong record size, holds fewer records than the other
    /// files of the set or more than the official file, or holds an out-of-range label.</exception>
    /// <remarks>Symbolic links are followed: a linked file is measured and read as its target.</remarks>
    public static CifarImages Load(string folder, CifarKind kind = CifarKind.Cifar10, bool train = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        var dir = ResolveFolder(folder, kind);
        string[] files = (kind, train) switch
        {
            (CifarKind.Cifar10, true) => ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"],
            (CifarKind.Cifar10, false) => ["test_batch.bin"],
            (_, true) => ["train.bin"],
            (_, false) => ["test.bin"],
        };
        int labelBytes = kind == CifarKind.Cifar10 ? 1 : 2;
        long official = (kind, train) is (CifarKind.Cifar100, true) ? 50_000 : 10_000;
        int recordBytes = labelBytes + ImageBytes;
        int classes = kind == CifarKind.Cifar10 ? 10 : 100;

        var paths = files.Select(f => Path.Combine(dir, f)).ToArray();
        foreach (var path in paths)
        {
            if (!File.Exists(path))
                throw new FileNotFoundException($"CIFAR file '{path}' is missing; a {Describe(kind)} folder holds {string.Join(", ", files)}.", path);
        }

        long total = 0;
        var counts = new long[paths.Length];
        for (int f = 0; f < paths.Length; f++)
        {
            var path = paths[f];
            long length = LengthFollowingLinks(path);
            if (length == 0 || length % recordBytes != 0)
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"CIFAR file '{path}' is {length:N0} bytes, which is not a whole number of {recordBytes:N0}-byte {Describe(kind)} records (truncated, or a file of another dataset?)."));
            counts[f] = length / recordBytes;
            if (counts[f] > official)
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"CIFAR file '{path}' holds {counts[f]:N0} records, more than the {official:N0} of the official {Describe(kind)} file (a file of another dataset, or concatenated files?)."));
            total = checked(total + counts[f]);
        }
        // The official files of a set all hold the same number of records: a shorter one was cut.
        long most = counts.Max();
        var shorter = paths.Select((p, f) => (p, f)).Where(x => counts[x.f] < most).ToArray();
        if (shorter.Length > 0)
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"CIFAR file{(shorter.Length > 1 ? "s" : "")} {string.Join(", ", shorter.Select(x => $"'{x.p}' ({counts[x.f]:N0} records)"))} hold{(shorter.Length > 1 ? "" : "s")} fewer records than the other files of the set ({most:N0} each{(most == official ? ", as the official files" : "")}): cut or truncated?"));
        if (total > Array.MaxLength / ImageBytes)
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"The CIFAR files in '{dir}' hold {total:N0} records, more than fit in memory at once."));

        var pixels = new byte[checked(total * ImageBytes)];
        var labels = new byte[total];
        int n = 0;
        var record = new byte[recordBytes];
        foreach (var path in paths)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            int inFile = 0;
            while (true)
            {
                int read = stream.ReadAtLeast(record, recordBytes, throwOnEndOfStream: false);
                if (read == 0) break;
                if (read < recordBytes)
                    throw new InvalidDataException($"CIFAR file '{path}' ends inside record {inFile} (truncated).");
                byte label = record[labelBytes - 1];
                if (label >= classes)
                    throw new InvalidDataException(
                        $"CIFAR file '{path}' record {inFile} has label {label}, outside 0..{classes - 1}; the file does not hold {Describe(kind)} records of {recordBytes} bytes.");
                labels[n] = label;
                Buffer.BlockCopy(record, labelBytes, pixels, checked(n * ImageBytes), ImageBytes);
                n++;
                inFile++;
            }
        }
        if (n != total)
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"The CIFAR files in '{dir}' changed while they were read ({n:N0} records read, {total:N0} expected)."));
        var source = string.Create(CultureInfo.InvariantCulture,
            $"{Path.GetFullPath(dir)} [{string.Join(", ", paths.Select((p, f) => $"{Path.GetFileName(p)} {counts[f] * recordBytes}"))}]");
        return new CifarImages(kind, pixels, labels, source);
    }

    /// <summary>The length of the file at <paramref name="path"/>, following symbolic links (a link's own length is its target's name).</summary>
    private static long LengthFollowingLinks(string path)
    {
        RegularFiles.Require(path, "CIFAR file");
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
        return stream.Length;
    }

    private static string Describe(CifarKind kind) => kind == CifarKind.Cifar10 ? "CIFAR-10" : "CIFAR-100";

    private static string ResolveFolder(string folder, CifarKind kind)
    {
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException(
                $"CIFAR data folder '{folder}' does not exist; pass the folder of the {Describe(kind)} binary version ({(kind == CifarKind.Cifar10 ? "cifar-10-batches-bin" : "cifar-100-binary")}).");
        string marker = kind == CifarKind.Cifar10 ? "data_batch_1.bin" : "train.bin";
        if (File.Exists(Path.Combine(folder, marker))) return folder;
        string child = Path.Combine(folder, kind == CifarKind.Cifar10 ? "cifar-10-batches-bin" : "cifar-100-binary");
        if (Directory.Exists(child)) return child;
        return folder; // the missing-file check names what is expected
    }
}
