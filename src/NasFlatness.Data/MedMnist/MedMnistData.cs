using System.Globalization;
using System.IO.Compression;

namespace NasFlatness.Data;

/// <summary>
/// A MedMNIST (v2) 2D dataset read from its official <c>.npz</c> file: the official train, validation and test
/// splits. The file is a zip of <c>.npy</c> arrays <c>train_images</c>, <c>val_images</c>, <c>test_images</c>
/// (uint8, <c>[N, H, W]</c> grey or <c>[N, H, W, 3]</c> RGB) and <c>train_labels</c>, <c>val_labels</c>,
/// <c>test_labels</c> (integers, <c>[N, 1]</c> or <c>[N]</c>). Multi-label files (ChestMNIST, labels <c>[N, 14]</c>) are rejected.
/// </summary>
public sealed class MedMnistData
{
    /// <summary>Class counts of the single-label MedMNIST v2 2D datasets, by file name (lower case, without extension).</summary>
    private static readonly Dictionary<string, int> KnownClassCounts = new(StringComparer.OrdinalIgnoreCase)
    {
        ["pathmnist"] = 9,
        ["dermamnist"] = 7,
        ["octmnist"] = 4,
        ["pneumoniamnist"] = 2,
        ["retinamnist"] = 5,
        ["breastmnist"] = 2,
        ["bloodmnist"] = 8,
        ["tissuemnist"] = 8,
        ["organamnist"] = 11,
        ["organcmnist"] = 11,
        ["organsmnist"] = 11,
    };

    private MedMnistData(string name, int classCount, MedMnistImages train, MedMnistImages validation, MedMnistImages test)
    {
        Name = name;
        ClassCount = classCount;
        Train = train;
        Validation = validation;
        Test = test;
        Info = new DatasetInfo(train.Channels, train.Height, train.Width, classCount);
    }

    /// <summary>The dataset's name: the file name without extension, e.g. <c>breastmnist</c>.</summary>
    public string Name { get; }

    /// <summary>Number of classes: the known count for a MedMNIST file name, otherwise the largest label + 1.</summary>
    public int ClassCount { get; }

    /// <summary>Image shape and class count.</summary>
    public DatasetInfo Info { get; }

    /// <summary>The official training split (<c>train_images</c>, <c>train_labels</c>).</summary>
    public MedMnistImages Train { get; }

    /// <summary>The official validation split (<c>val_images</c>, <c>val_labels</c>).</summary>
    public MedMnistImages Validation { get; }

    /// <summary>The official test split (<c>test_images</c>, <c>test_labels</c>).</summary>
    public MedMnistImages Test { get; }

    /// <summary>
    /// Reads a MedMNIST <c>.npz</c> file. The class count is <paramref name="classCount"/> when given, else the
    /// known count for the file name (e.g. 2 for <c>breastmnist.npz</c>, 5 for <c>retinamnist.npz</c>), else the
    /// largest label + 1; every label must lie below it.
    /// </summary>
    /// <param name="path">The <c>.npz</c> file.</param>
    /// <param name="classCount">The number of classes, or null to take it from the file name or the labels.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">
    /// The file is not a readable zip, a member is missing, truncated, not a <c>.npy</c> array, of an unsupported dtype
    /// or Fortran order, the images and labels disagree in shape or count, or a label is out of range. The message names the file and member.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="classCount"/> is below 2 or above 256.</exception>
    public static MedMnistData Load(string path, int? classCount = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (classCount is < 2 or > 256)
            throw new ArgumentOutOfRangeException(nameof(classCount), classCount, "A MedMNIST dataset has 2 to 256 classes (labels are bytes here).");
        if (!File.Exists(path))
            throw new FileNotFoundException($"MedMNIST file '{path}' does not exist; pass an official .npz file such as breastmnist.npz.", path);
        RegularFiles.Require(path, "MedMNIST file");
        string name = Path.GetFileNameWithoutExtension(path).ToLowerInvariant();

        ZipArchive archive;
        try
        {
            archive = ZipFile.OpenRead(path);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"'{path}' is not a readable .npz (zip) archive (truncated or not a zip file): {ex.Message}", ex);
        }

        (NpyArray Images, NpyArray Labels)[] raw;
        using (archive)
        {
            raw = [.. new[] { "train", "val", "test" }.Select(split =>
                (NpyArray.ReadMember(archive, path, split + "_images"), NpyArray.ReadMember(archive, path, split + "_labels")))];
        }

        var imageShape = CheckImages(raw[0].Images, path, "train_images");
        for (int s = 0; s < 3; s++)
        {
            string split = s switch { 0 => "train", 1 => "val", _ => "test" };
            var shape = CheckImages(raw[s].Images, path, split + "_images");
            if (shape != imageShape)
                throw new InvalidDataException(
                    $"'{path}' member '{split}_images.npy' holds images of shape {raw[s].Images.ShapeText} but 'train_images.npy' holds {raw[0].Images.ShapeText}; all splits must have the same image shape.");
            CheckLabels(raw[s].Labels, raw[s].Images, path, split);
        }

        var labels = raw.Select(r => r.Labels.ToInt64()).ToArray();
        long largest = labels.SelectMany(l => l).DefaultIfEmpty(0).Max();
        int classes = classCount ?? (KnownClassCounts.TryGetValue(name, out int known) ? known : (int)Math.Clamp(largest + 1, 2, 256));
        for (int s = 0; s < 3; s++)
        {
            string split = s switch { 0 => "train", 1 => "val", _ => "test" };
            for (int i = 0; i < labels[s].Length; i++)
            {
                if (labels[s][i] < 0 || labels[s][i] >= classes)
                    throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                        $"'{path}' member '{split}_labels.npy' has label {labels[s][i]} at row {i}, outside 0..{classes - 1} ({classes} classes{(classCount is null && KnownClassCounts.ContainsKey(name) ? $" of {name}" : "")})."));
            }
        }

        var splits = new MedMnistImages[3];
        for (int s = 0; s < 3; s++)
            splits[s] = new MedMnistImages(imageShape.Channels, imageShape.Height, imageShape.Width, ChannelMajor(raw[s].Images, imageShape), [.. labels[s].Select(l => (byte)l)]);
        return new MedMnistData(name, classes, splits[0], splits[1], splits[2]);
    }

    private static (int Channels, int Height, int Width) CheckImages(NpyArray images, string path, string member)
    {
        if (!images.IsBytes)
            throw new InvalidDataException($"'{path}' member '{member}.npy' has dtype '{images.Descr}'; MedMNIST images are uint8 ('|u1').");
        var s = images.Shape;
        bool grey = s.Length == 3, colour = s.Length == 4 && (s[3] == 3 || s[3] == 1);
        if (!grey && !colour)
            throw new InvalidDataException(
                $"'{path}' member '{member}.npy' has shape {images.ShapeText}; MedMNIST images are (N, H, W) grey or (N, H, W, 3) RGB.");
        if (s[0] < 1 || s[1] < 1 || s[2] < 1 || s[1] > 4096 || s[2] > 4096)
            throw new InvalidDataException($"'{path}' member '{member}.npy' has shape {images.ShapeText}: a split needs at least one image of a sensible size.");
        return (grey ? 1 : (int)s[3], (int)s[1], (int)s[2]);
    }

    private static void CheckLabels(NpyArray labels, NpyArray images, string path, string split)
    {
        if (NpyArray.ItemSize(labels.Descr) is null)
            throw new InvalidDataException($"'{path}' member '{split}_labels.npy' has dtype '{labels.Descr}'; labels must be integers (e.g. '|u1' or '<i8').");
        var s = labels.Shape;
        if (s.Length == 2 && s[1] != 1)
            throw new InvalidDataException(
                $"'{path}' member '{split}_labels.npy' has shape {labels.ShapeText}: {s[1]} labels per image (a multi-label dataset such as ChestMNIST?); only single-label (N, 1) is supported.");
        if (s.Length is not (1 or 2))
            throw new InvalidDataException($"'{path}' member '{split}_labels.npy' has shape {labels.ShapeText}; labels are (N, 1) or (N,).");
        if (s[0] != images.Shape[0])
            throw new InvalidDataException(
                $"'{path}' has {images.Shape[0]:N0} images in '{split}_images.npy' but {s[0]:N0} labels in '{split}_labels.npy' (shapes {images.ShapeText} and {labels.ShapeText}).");
    }

    /// <summary>The images' bytes in channel-major order: a copy for grey images, a transpose of NumPy's channel-last RGB.</summary>
    private static byte[] ChannelMajor(NpyArray images, (int Channels, int Height, int Width) shape)
    {
        if (shape.Channels == 1) return images.Data;
        int n = (int)images.Shape[0], plane = shape.Height * shape.Width, c = shape.Channels;
        var source = images.Data;
        var result = new byte[source.Length];
        for (int i = 0; i < n; i++)
        {
            int offset = i * plane * c;
            for (int p = 0; p < plane; p++)
                for (int k = 0; k < c; k++)
                    result[offset + k * plane + p] = source[offset + p * c + k];
        }
        return result;
    }
}
