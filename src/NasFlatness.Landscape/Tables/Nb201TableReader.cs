using System.Globalization;
using System.IO.Compression;
using NasFlatness.Genotypes;
using NasFlatness.Landscape.Internal;

namespace NasFlatness.Landscape;

/// <summary>Reads the embedded NAS-Bench-201 resource and the CSV files of <c>shared/data/nb201</c>.</summary>
internal static class Nb201TableReader
{
    internal const string ResourceName = "NasFlatness.Landscape.Data.nb201.csv.gz";

    private const int N = Nb201Table.ArchitectureCount;

    private static readonly string[] s_accColumns =
        ["index", "arch", "cifar10_test_acc_hp200", "cifar100_test_acc_hp200", "imagenet16_120_test_acc_hp200", "nats_unique_str"];

    // Order matches the slots 3..6 of Nb201Table: train loss, valid loss, test loss, valid accuracy.
    private static readonly string[] s_validColumns = ["index", "arch_str", "train-loss", "valid-loss", "test-loss", "valid-accuracy"];

    public static Nb201Table ReadEmbedded()
    {
        using var stream = typeof(Nb201TableReader).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource '{ResourceName}' is missing from {typeof(Nb201TableReader).Assembly.GetName().Name}.");
        using var gzip = new GZipStream(stream, CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        return ReadCompact(reader, "embedded");
    }

    /// <summary>Reads the compact format written by <c>Data/make_nb201_resource.py</c> (see <c>Data/README.md</c>).</summary>
    internal static Nb201Table ReadCompact(TextReader reader, string source)
    {
        int lineNo = 0;
        string? line;
        string[]? classes = null;
        var fields = new List<string>(16);
        while ((line = reader.ReadLine()) is not null)
        {
            lineNo++;
            if (line.StartsWith("#classes,", StringComparison.Ordinal))
            {
                int count = int.Parse(line.AsSpan(9), CultureInfo.InvariantCulture);
                classes = new string[count];
                for (int c = 0; c < count; c++)
                {
                    lineNo++;
                    classes[c] = reader.ReadLine() ?? throw Error(source, lineNo, $"file ended after {c} of {count} isomorphism classes");
                }
                break;
            }
        }
        if (classes is null) throw Error(source, lineNo, "no '#classes,<n>' section");
        lineNo++;
        if (reader.ReadLine() is null) throw Error(source, lineNo, "missing the row header");
        var genotypes = new Nb201Genotype[N];
        var classIds = new int[N];
        var values = new double[Nb201Table.MetricSlots][];
        for (int s = 0; s < values.Length; s++) values[s] = new double[N];
        int row = 0;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNo++;
            if (line.Length == 0) continue;
            if (row >= N) throw Error(source, lineNo, $"more than {Th(N)} architectures");
            CsvLine.Split(line, fields);
            if (fields.Count != 9) throw Error(source, lineNo, $"expected 9 columns, found {fields.Count}");
            string ops = fields[0];
            int code = 0;
            if (ops.Length != Nb201Genotype.EdgeCount) throw Error(source, lineNo, $"'{ops}' is not six operation digits");
            foreach (char ch in ops)
            {
                if (ch < '0' || ch > '4') throw Error(source, lineNo, $"'{ops}' is not six operation digits 0..4");
                code = code * 5 + (ch - '0');
            }
            genotypes[row] = Nb201Genotype.FromCode(code);
            values[0][row] = ParseNumber(fields[1], "cifar10_test_acc", source, lineNo);
            values[1][row] = ParseNumber(fields[2], "cifar100_test_acc", source, lineNo);
            values[2][row] = ParseNumber(fields[3], "imagenet16_120_test_acc", source, lineNo);
            if (!int.TryParse(fields[4], NumberStyles.None, CultureInfo.InvariantCulture, out int cls) || cls >= classes.Length)
                throw Error(source, lineNo, $"class id '{fields[4]}' is not in 0..{classes.Length - 1}");
            classIds[row] = cls;
            for (int s = 3; s < Nb201Table.MetricSlots; s++) values[s][row] = ParseNumber(fields[2 + s], s_validColumns[s - 1], source, lineNo);
            row++;
        }
        if (row < N) throw Error(source, null, $"file ended after {Th(row)} of {Th(N)} architectures");
        return new Nb201Table(genotypes, classIds, classes, values, source);
    }

    internal static Nb201Table ReadCsv(TextReader accuracy, string accSource, TextReader? valid, string? validSource)
    {
        var genotypes = new Nb201Genotype[N];
        var classIds = new int[N];
        var values = new double[]?[Nb201Table.MetricSlots];
        for (int s = 0; s < 3; s++) values[s] = new double[N];
        var classes = new List<string>();
        var classIdByName = new Dictionary<string, int>(StringComparer.Ordinal);
        var lineOfIndex = new int[N];
        var lineOfCode = new int[N];

        ReadRows(accuracy, accSource, s_accColumns, (cols, lineNo) =>
        {
            int index = ParseIndex(cols[0], lineOfIndex, accSource, lineNo);
            var genotype = ParseArch(cols[1], accSource, lineNo);
            if (lineOfCode[genotype.Code] != 0)
                throw Error(accSource, lineNo, $"arch string '{cols[1]}' appears twice (first on line {lineOfCode[genotype.Code]})");
            lineOfCode[genotype.Code] = lineNo;
            genotypes[index] = genotype;
            for (int s = 0; s < 3; s++) values[s]![index] = ParseNumber(cols[2 + s], s_accColumns[2 + s], accSource, lineNo);
            string cls = cols[5];
            if (cls.Length == 0) throw Error(accSource, lineNo, "column 'nats_unique_str' is empty");
            if (!classIdByName.TryGetValue(cls, out int id))
            {
                id = classes.Count;
                classIdByName.Add(cls, id);
                classes.Add(cls);
            }
            classIds[index] = id;
        });

        // Class ids in order of first appearance by benchmark index (rows may come in any order).
        var remap = new int[classes.Count];
        Array.Fill(remap, -1);
        var ordered = new string[classes.Count];
        int next = 0;
        for (int i = 0; i < N; i++)
        {
            if (remap[classIds[i]] < 0)
            {
                remap[classIds[i]] = next;
                ordered[next++] = classes[classIds[i]];
            }
            classIds[i] = remap[classIds[i]];
        }

        if (valid is not null)
        {
            string source = validSource ?? "cifar10-valid table";
            for (int s = 3; s < Nb201Table.MetricSlots; s++) values[s] = new double[N];
            var lineOfValidIndex = new int[N];
            ReadRows(valid, source, s_validColumns, (cols, lineNo) =>
            {
                int index = ParseIndex(cols[0], lineOfValidIndex, source, lineNo);
                var genotype = ParseArch(cols[1], source, lineNo);
                if (!genotype.Equals(genotypes[index]))
                    throw Error(source, lineNo, $"index {index} has arch string '{cols[1]}', but the test-accuracy table has '{genotypes[index]}' there");
                for (int s = 3; s < Nb201Table.MetricSlots; s++) values[s]![index] = ParseNumber(cols[s - 1], s_validColumns[s - 1], source, lineNo);
            });
        }
        return new Nb201Table(genotypes, classIds, ordered, values, accSource);
    }

    private static void ReadRows(TextReader reader, string source, string[] required, Action<string[], int> onRow)
    {
        string? header = reader.ReadLine();
        if (header is null || header.Trim().Length == 0)
            throw Error(source, 1, $"the file is empty; expected a header with columns {string.Join(", ", required)}");
        var fields = new List<string>(32);
        CsvLine.Split(header.TrimStart('\uFEFF'), fields);
        int width = fields.Count;
        var positions = new int[required.Length];
        for (int r = 0; r < required.Length; r++)
        {
            positions[r] = fields.FindIndex(f => string.Equals(f.Trim(), required[r], StringComparison.Ordinal));
            if (positions[r] < 0)
                throw Error(source, 1, $"the header has no column '{required[r]}'; expected columns {string.Join(", ", required)}");
        }
        var cols = new string[required.Length];
        int lineNo = 1, rows = 0;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNo++;
            if (line.Trim().Length == 0) continue;
            if (rows >= N) throw Error(source, lineNo, $"more than {Th(N)} architectures");
            CsvLine.Split(line, fields);
            if (fields.Count != width) throw Error(source, lineNo, $"expected {width} columns, found {fields.Count}");
            for (int r = 0; r < required.Length; r++) cols[r] = fields[positions[r]].Trim();
            onRow(cols, lineNo);
            rows++;
        }
        if (rows < N) throw Error(source, null, $"file ended after {Th(rows)} of {Th(N)} architectures");
    }

    private static int ParseIndex(string text, int[] lineOfIndex, string source, int lineNo)
    {
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int index))
            throw Error(source, lineNo, $"index '{text}' is not an integer");
        if ((uint)index >= N) throw Error(source, lineNo, $"index {index} is outside 0..{Th(N - 1)}");
        if (lineOfIndex[index] != 0) throw Error(source, lineNo, $"index {index} appears twice (first on line {lineOfIndex[index]})");
        lineOfIndex[index] = lineNo;
        return index;
    }

    private static Nb201Genotype ParseArch(string text, string source, int lineNo)
    {
        try
        {
            return Nb201Genotype.Parse(text);
        }
        catch (GenotypeFormatException ex)
        {
            throw new InvalidDataException($"{source} line {lineNo}: '{ErrorText.Echo(text)}' is not a valid arch string: {ex.Message}", ex);
        }
    }

    private static double ParseNumber(string text, string column, string source, int lineNo)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
            throw Error(source, lineNo, $"column '{column}' value '{ErrorText.Echo(text)}' is not a number");
        if (column.Contains("acc", StringComparison.Ordinal))
        {
            if (!(value >= 0 && value <= 100))
                throw Error(source, lineNo, $"column '{column}' value '{ErrorText.Echo(text)}' is not an accuracy in percent (0 to 100)");
        }
        else if (!(double.IsFinite(value) && value >= 0))
            throw Error(source, lineNo, $"column '{column}' value '{ErrorText.Echo(text)}' is not a non-negative finite loss");
        return value;
    }

    private static string Th(int value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static InvalidDataException Error(string source, int? lineNo, string message) =>
        new(lineNo is null ? $"{source}: {message}" : $"{source} line {lineNo}: {message}");
}
