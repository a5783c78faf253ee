using System.Buffers.Binary;
using CsCheck;
using Xunit;

namespace NasFlatness.Data.Tests;

/// <summary>Bad .npz/.npy files built in a temporary folder: every error names the file and the member.</summary>
public sealed class NpzErrorTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("nasflatness-npz-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private string Write(Dictionary<string, byte[]> members, string name = "tiny.npz")
    {
        var path = Path.Combine(_temp, name);
        NpyFiles.Npz(path, members);
        return path;
    }

    private static InvalidDataException Fails(string path, params string[] fragments)
    {
        var ex = Assert.Throws<InvalidDataException>(() => MedMnistData.Load(path));
        Assert.Contains(path, ex.Message);
        foreach (var f in fragments) Assert.Contains(f, ex.Message);
        return ex;
    }

    [Fact]
    public void SmallValidFileReads()
    {
        var data = MedMnistData.Load(Write(NpyFiles.SmallMembers(n: 3, classes: 3)));
        Assert.Equal(new DatasetInfo(1, 4, 4, 3), data.Info);
        Assert.Equal(3, data.Test.Count);
        Assert.Equal(25, data.Validation.Pixel(2, 0, 3, 3));
        Assert.Equal([0, 1, 2], data.Train.Labels);
    }

    [Fact]
    public void KnownNameFixesTheClassCountAndRejectsLargerLabels()
    {
        // breastmnist has 2 classes: a label 2 is out of range even though the labels alone would suggest 3 classes.
        var path = Write(NpyFiles.SmallMembers(n: 3, classes: 3), "breastmnist.npz");
        Fails(path, "train_labels.npy", "label 2", "0..1");
        Assert.Equal(3, MedMnistData.Load(path, classCount: 3).ClassCount);
    }

    [Fact]
    public void TruncatedZipIsNamed()
    {
        var source = File.ReadAllBytes(NpyFiles.MedMnist("breastmnist"));
        var path = Path.Combine(_temp, "cut.npz");
        File.WriteAllBytes(path, source.AsSpan(0, source.Length / 2).ToArray());
        Fails(path, "zip");
    }

    [Fact]
    public void CorruptDeflateStreamIsNamed()
    {
        var members = NpyFiles.SmallMembers(n: 50, size: 28);
        var path = Write(members);
        // Overwrite bytes in the middle of the first member's compressed data, keeping the zip directory intact.
        var bytes = File.ReadAllBytes(path);
        for (int i = 60; i < 400; i++) bytes[i] = 0xFF;
        File.WriteAllBytes(path, bytes);
        var ex = Assert.ThrowsAny<Exception>(() => MedMnistData.Load(path));
        Assert.IsType<InvalidDataException>(ex);
        Assert.Contains(path, ex.Message);
        Assert.Contains("train_images.npy", ex.Message);
    }

    [Fact]
    public void MissingMemberIsNamed()
    {
        var members = NpyFiles.SmallMembers();
        members.Remove("test_labels");
        Fails(Write(members), "test_labels.npy", "train_images.npy");
    }

    [Fact]
    public void WrongImageDtypeIsNamed()
    {
        var members = NpyFiles.SmallMembers();
        members["val_images"] = NpyFiles.Npy("<f4", [3, 4, 4], new byte[3 * 16 * 4]);
        Fails(Write(members), "val_images.npy", "'<f4'");
    }

    [Fact]
    public void UnsupportedLabelDtypeIsNamed()
    {
        var members = NpyFiles.SmallMembers();
        members["test_labels"] = NpyFiles.Npy(">i8", [3, 1], new byte[24]);
        Fails(Write(members), "test_labels.npy", "'>i8'");
    }

    [Fact]
    public void Int64LabelsAreRead()
    {
        var members = NpyFiles.SmallMembers();
        var labels = new byte[24];
        for (int i = 0; i < 3; i++) BinaryPrimitives.WriteInt64LittleEndian(labels.AsSpan(8 * i), 2 - i);
        members["train_labels"] = NpyFiles.Npy("<i8", [3], labels);
        var data = MedMnistData.Load(Write(members));
        Assert.Equal([2, 1, 0], data.Train.Labels);
        Assert.Equal(3, data.ClassCount);
    }

    [Fact]
    public void FortranOrderIsNamed()
    {
        var members = NpyFiles.SmallMembers();
        members["train_images"] = NpyFiles.Npy("|u1", [3, 4, 4], new byte[48], fortran: true);
        Fails(Write(members), "train_images.npy", "Fortran");
    }

    [Fact]
    public void BadMagicIsNamed()
    {
        var members = NpyFiles.SmallMembers();
        members["test_images"] = [.. "NOTNPY"u8, 1, 0, 0, 0];
        Fails(Write(members), "test_images.npy", "magic");
    }

    [Fact]
    public void ImageAndLabelCountMismatchIsNamed()
    {
        var members = NpyFiles.SmallMembers();
        members["val_labels"] = NpyFiles.Npy("|u1", [2, 1], [0, 1]);
        Fails(Write(members), "val_images.npy", "val_labels.npy", "3 images", "2 labels");
    }

    [Fact]
    public void ImageShapeMismatchBetweenSplitsIsNamed()
    {
        var members = NpyFiles.SmallMembers();
        members["test_images"] = NpyFiles.Npy("|u1", [3, 5, 5], new byte[75]);
        Fails(Write(members), "test_images.npy", "(3, 5, 5)");
    }

    [Fact]
    public void MultiLabelFileIsRejected()
    {
        var members = NpyFiles.SmallMembers();
        members["train_labels"] = NpyFiles.Npy("|u1", [3, 14], new byte[42]);
        Fails(Write(members), "train_labels.npy", "multi-label");
    }

    [Fact]
    public void TruncatedArrayDataIsNamed()
    {
        var members = NpyFiles.SmallMembers();
        members["train_images"] = NpyFiles.Npy("|u1", [3, 4, 4], new byte[40]);
        Fails(Write(members), "train_images.npy", "truncated", "48");
    }

    [Fact]
    public void MalformedHeaderIsNamed()
    {
        var members = NpyFiles.SmallMembers();
        members["train_images"] = NpyFiles.Npy("|u1", [3, 4, 4], new byte[48], rawHeader: "{'descr': '|u1', 'shape': (3, 4, 4), }");
        Fails(Write(members), "train_images.npy", "fortran_order");
    }

    [Fact]
    public void LabelOutOfRangeIsNamedWithItsRow()
    {
        var members = NpyFiles.SmallMembers();
        members["test_labels"] = NpyFiles.Npy("<i8", [3, 1], [.. BitConverter.GetBytes(0L), .. BitConverter.GetBytes(-1L), .. BitConverter.GetBytes(1L)]);
        Fails(Write(members), "test_labels.npy", "label -1", "row 1");
    }

    [Fact]
    public void MissingFileIsNamed()
    {
        var path = Path.Combine(_temp, "nope.npz");
        var ex = Assert.Throws<FileNotFoundException>(() => MedMnistData.Load(path));
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void NpyParserReadsEveryVersionAndIntegerType()
    {
        string[] descrs = ["|u1", "|i1", "<u2", "<i2", "<u4", "<i4", "<i8"];
        Gen.Select(Gen.Int[1, 3], Gen.Int[0, 6], Gen.Int[0, 4].Array[1, 3], Gen.Int)
            .Sample((version, d, shape, seed) =>
            {
                string descr = descrs[d];
                int size = descr[2] - '0';
                long count = shape.Aggregate(1L, (a, b) => a * b);
                var values = new long[count];
                var random = new Random(seed);
                var data = new byte[count * size];
                for (int i = 0; i < count; i++)
                {
                    long v = descr[1] == 'u' ? random.NextInt64(0, 1L << (8 * size - 1)) : random.NextInt64(-(1L << (8 * size - 2)), 1L << (8 * size - 2));
                    values[i] = v;
                    var bytes = BitConverter.GetBytes(v);
                    bytes.AsSpan(0, size).CopyTo(data.AsSpan(i * size));
                }
                var array = NpyArray.Parse(NpyFiles.Npy(descr, [.. shape.Select(s => (long)s)], data, version: version), "test");
                Assert.Equal(descr, array.Descr);
                Assert.Equal(shape.Select(s => (long)s), array.Shape);
                Assert.Equal(values, array.ToInt64());
            }, iter: 200);
    }
}
