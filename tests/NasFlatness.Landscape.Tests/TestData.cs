using System.Globalization;
using NasFlatness.Genotypes;

namespace NasFlatness.Landscape.Tests;

/// <summary>Locates shared/data/nb201 and loads the tables once.</summary>
internal static class TestData
{
    private static readonly Lazy<string> s_folder = new(FindFolder);
    private static readonly Lazy<Nb201Table> s_fileTable = new(() => Nb201Table.Load(TestAccuracyCsv, Cifar10ValidCsv));
    private static readonly Lazy<RawRow[]> s_raw = new(ReadRaw);

    public static string Folder => s_folder.Value;

    public static string TestAccuracyCsv => Path.Combine(Folder, "nb201_hp200_test_acc.csv");

    public static string Cifar10ValidCsv => Path.Combine(Folder, "nb201_cifar10valid_hp200_full_ochoa.csv");

    public static Nb201Table FileTable => s_fileTable.Value;

    /// <summary>The test-accuracy file parsed naively (split on commas), independent of the library's reader.</summary>
    public static RawRow[] Raw => s_raw.Value;

    private static string FindFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "data", "nb201");
            if (File.Exists(Path.Combine(candidate, "nb201_hp200_test_acc.csv"))) return candidate;
        }
        throw new DirectoryNotFoundException(
            $"shared/data/nb201 was not found above {AppContext.BaseDirectory}; the tests expect the shared data folder beside the repository (<repo>/../shared/data).");
    }

    private static RawRow[] ReadRaw()
    {
        var lines = File.ReadAllLines(TestAccuracyCsv);
        var rows = new RawRow[lines.Length - 1];
        for (int i = 1; i < lines.Length; i++)
        {
            var f = lines[i].Split(',');
            rows[i - 1] = new RawRow(int.Parse(f[0], CultureInfo.InvariantCulture), f[1],
                double.Parse(f[2], CultureInfo.InvariantCulture), double.Parse(f[3], CultureInfo.InvariantCulture),
                double.Parse(f[4], CultureInfo.InvariantCulture), f[5]);
        }
        return rows;
    }

    /// <summary>Decodes an arch string without the library: the op names in order of appearance.</summary>
    public static int[] OpsOf(string arch)
    {
        string[] names = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"];
        return arch.Split(['|', '+'], StringSplitOptions.RemoveEmptyEntries)
            .Select(t => Array.IndexOf(names, t[..t.IndexOf('~')])).ToArray();
    }

    public static int Hamming(IReadOnlyList<int> a, IReadOnlyList<int> b)
    {
        int d = 0;
        for (int i = 0; i < a.Count; i++) if (a[i] != b[i]) d++;
        return d;
    }

    public static Nb201Genotype G(params int[] ops) => new(ops);
}

internal sealed record RawRow(int Index, string Arch, double Cifar10, double Cifar100, double ImageNet16, string Class);
