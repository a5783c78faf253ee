// Reproduces the A²M landscape analysis of NAS-Bench-201 (class neighbour distributions, radius profiles,
// path profiles and barriers of the paper's endpoint pairs, whole-space flatness summaries) and writes PNG
// plots plus a markdown report.
//
//   dotnet run --project samples/NasFlatness.LandscapeReport -c Release -- [--table <test-acc.csv> [--valid <cifar10valid.csv>]] [--out <dir>]
//
// Defaults: the table embedded in NasFlatness.Landscape; output to <repo>/docs (landscape.md and landscape/*.png).

using NasFlatness.LandscapeReport;

string? tablePath = null, validPath = null, outDir = null;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
    switch (args[i])
    {
        case "--table": tablePath = Next(); break;
        case "--valid": validPath = Next(); break;
        case "--out": outDir = Next(); break;
        case "-h" or "--help":
            Console.WriteLine("usage: NasFlatness.LandscapeReport [--table <nb201_hp200_test_acc.csv> [--valid <nb201_cifar10valid_hp200_full_ochoa.csv>]] [--out <dir>]");
            return 0;
        default:
            Console.Error.WriteLine($"Unknown argument '{args[i]}'; try --help.");
            return 2;
    }
}

outDir ??= Path.Combine(RepoRoot() ?? Directory.GetCurrentDirectory(), "docs");
string command = "dotnet run --project samples/NasFlatness.LandscapeReport -c Release --" +
    (tablePath is null ? "" : $" --table {tablePath}") + (validPath is null ? "" : $" --valid {validPath}") +
    (args.Contains("--out") ? $" --out {outDir}" : "");
var report = new LandscapeReport(tablePath, validPath, outDir, command);
report.Run();
Console.WriteLine($"Wrote {Path.Combine(outDir, "landscape.md")} and {report.PlotCount} plots in {Path.Combine(outDir, "landscape")}.");
return 0;

static string? RepoRoot()
{
    for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "NasFlatness.slnx"))) return dir.FullName;
    return null;
}
