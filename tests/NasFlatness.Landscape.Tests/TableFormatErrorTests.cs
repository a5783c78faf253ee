namespace NasFlatness.Landscape.Tests;

public sealed class TableFormatErrorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nb201-test-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string[] Lines() => File.ReadAllLines(TestData.TestAccuracyCsv);

    private InvalidDataException LoadFails(string[] lines, string[]? validLines = null)
    {
        string path = Path.Combine(_dir, "acc.csv");
        File.WriteAllLines(path, lines);
        string? validPath = null;
        if (validLines is not null)
        {
            validPath = Path.Combine(_dir, "valid.csv");
            File.WriteAllLines(validPath, validLines);
        }
        return Assert.Throws<InvalidDataException>(() => Nb201Table.Load(path, validPath));
    }

    [Fact]
    public void TruncatedFileSaysHowManyArchitecturesWereRead()
    {
        var ex = LoadFails(Lines().Take(813).ToArray());
        Assert.Contains("file ended after 812 of 15,625 architectures", ex.Message);
    }

    [Fact]
    public void RowWithTooFewColumnsNamesTheLine()
    {
        var lines = Lines();
        lines[1233] = string.Join(',', lines[1233].Split(',').Take(3));
        var ex = LoadFails(lines);
        Assert.Contains("line 1234: expected 6 columns, found 3", ex.Message);
    }

    [Fact]
    public void BadArchStringNamesTheLineAndTheString()
    {
        var lines = Lines();
        var f = lines[16].Split(',');
        f[1] = "|bad~0|+|none~0|none~1|+|none~0|none~1|none~2|";
        lines[16] = string.Join(',', f);
        var ex = LoadFails(lines);
        Assert.StartsWith($"{Path.Combine(_dir, "acc.csv")} line 17: '|bad~0|+|none~0|none~1|+|none~0|none~1|none~2|' is not a valid arch string: ", ex.Message);
        Assert.Contains("Unknown operation 'bad'", ex.Message);
    }

    [Fact]
    public void BadNumberNamesLineAndColumn()
    {
        var lines = Lines();
        var f = lines[99].Split(',');
        f[3] = "n/a";
        lines[99] = string.Join(',', f);
        var ex = LoadFails(lines);
        Assert.Contains("line 100: column 'cifar100_test_acc_hp200' value 'n/a' is not a number", ex.Message);
    }

    [Fact]
    public void DuplicateIndexAndArchAreReported()
    {
        var lines = Lines();
        var f = lines[10].Split(',');
        f[0] = "3";
        lines[10] = string.Join(',', f);
        Assert.Contains("line 11: index 3 appears twice (first on line 5)", LoadFails(lines).Message);

        lines = Lines();
        var g = lines[10].Split(',');
        g[1] = lines[4].Split(',')[1];
        lines[10] = string.Join(',', g);
        Assert.Contains("line 11: arch string", LoadFails(lines).Message);
        Assert.Contains("appears twice (first on line 5)", LoadFails(lines).Message);
    }

    [Fact]
    public void MissingColumnAndEmptyFileAreReported()
    {
        var lines = Lines();
        lines[0] = lines[0].Replace("nats_unique_str", "unique");
        Assert.Contains("line 1: the header has no column 'nats_unique_str'", LoadFails(lines).Message);
        Assert.Contains("the file is empty", LoadFails([]).Message);
    }

    [Fact]
    public void TooManyRowsAreReported()
    {
        var lines = Lines().Append("15625,|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,1,2,3,x").ToArray();
        Assert.Contains("line 15627: more than 15,625 architectures", LoadFails(lines).Message);
    }

    [Fact]
    public void Cifar10ValidFileMustAgreeOnArchStrings()
    {
        var valid = File.ReadAllLines(TestData.Cifar10ValidCsv);
        var f = valid[5].Split(',');
        f[5] = valid[6].Split(',')[5];
        valid[5] = string.Join(',', f);
        var ex = LoadFails(Lines(), valid);
        Assert.Contains("line 6: index 4 has arch string", ex.Message);
        Assert.Contains("valid.csv", ex.Message);
    }

    [Fact]
    public void ColumnOrderDoesNotMatterAndQuotedFieldsAreRead()
    {
        var lines = Lines();
        var reordered = lines.Select(l =>
        {
            var f = l.Split(',');
            return string.Join(',', f[5], f[4], "\"" + f[1] + "\"", f[3], f[2], f[0]);
        }).ToArray();
        string path = Path.Combine(_dir, "reordered.csv");
        File.WriteAllLines(path, reordered);
        var table = Nb201Table.Load(path);
        for (int i = 0; i < table.Count; i += 97)
        {
            Assert.Equal(TestData.FileTable.GenotypeAt(i), table.GenotypeAt(i));
            Assert.Equal(TestData.FileTable[i].Cifar10TestAccuracy, table[i].Cifar10TestAccuracy);
        }
        Assert.Equal(TestData.FileTable.IsomorphismClasses, table.IsomorphismClasses);
    }

    [Fact]
    public void TextReaderOverloadWorksAndCompactReaderChecksItsInput()
    {
        using var reader = new StringReader(string.Join('\n', Lines().Take(10)));
        Assert.Contains("file ended after 9 of 15,625", Assert.Throws<InvalidDataException>(() => Nb201Table.Load(reader)).Message);
        using var compact = new StringReader("#classes,1\nx\nheader\n012340,1,2,3,0,1,2,3,4\n");
        Assert.Contains("file ended after 1 of 15,625", Assert.Throws<InvalidDataException>(() => Nb201TableReader.ReadCompact(compact, "c")).Message);
        using var badDigits = new StringReader("#classes,1\nx\nheader\n012345,1,2,3,0,1,2,3,4\n");
        Assert.Contains("line 4", Assert.Throws<InvalidDataException>(() => Nb201TableReader.ReadCompact(badDigits, "c")).Message);
    }
}

public sealed class TableValueRangeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nb201-range-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(2, "NaN", "line 42: column 'cifar10_test_acc_hp200' value 'NaN' is not an accuracy in percent (0 to 100)")]
    [InlineData(3, "150", "line 42: column 'cifar100_test_acc_hp200' value '150' is not an accuracy in percent")]
    [InlineData(4, "-1", "line 42: column 'imagenet16_120_test_acc_hp200' value '-1' is not an accuracy in percent")]
    [InlineData(2, "Infinity", "value 'Infinity' is not an accuracy in percent")]
    public void RowWithNaNOrOutOfRangeAccuracyIsRejected(int column, string value, string expected)
    {
        var lines = File.ReadAllLines(TestData.TestAccuracyCsv);
        var fields = lines[41].Split(',');
        fields[column] = value;
        lines[41] = string.Join(',', fields);
        string path = Path.Combine(_dir, "acc.csv");
        File.WriteAllLines(path, lines);
        var ex = Assert.Throws<InvalidDataException>(() => Nb201Table.Load(path));
        Assert.Contains(expected, ex.Message);
    }
}
