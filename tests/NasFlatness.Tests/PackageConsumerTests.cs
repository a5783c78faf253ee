using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace NasFlatness.Tests;

/// <summary>
/// A console app outside the repository that references only the packed packages (a local folder feed, no project
/// references) builds the custom-space sample's sources, searches with checkpoints, is killed after an epoch, resumes,
/// and ends with the same α, genotype and losses as an uninterrupted run; a second such app runs public API of every
/// package the sample does not reach (protocols, trial plans, JPEG corruption, the surrogate, ZO-DARTS++ genotypes); a third, a
/// DARTS user who references only what a NB201 search on CIFAR-10 needs, restores no ML.NET and no SkiaSharp native package.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class PackageConsumerTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("nasflatness-consumer-").FullName;
    private readonly string _version = "0.2.0-consumer." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", System.Globalization.CultureInfo.InvariantCulture);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_temp, recursive: true);
        }
        catch (IOException)
        {
        }
        // The consumer's restore put this test version of the packages into the global package folder; take it out again.
        var global = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (var id in Packages)
        {
            var folder = Path.Combine(global, id.ToLowerInvariant(), _version);
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Every library package: the consumer references them all, so a missing dependency of any of them fails its restore.</summary>
    private static readonly string[] Packages =
    [
        "NasFlatness.Core", "NasFlatness.SearchSpaces", "NasFlatness.Optimizers", "NasFlatness.Data", "NasFlatness.Landscape",
        "NasFlatness.MultiObjective", "NasFlatness.Trials", "NasFlatness.Extensions.DependencyInjection",
        "NasFlatness.MultiObjective.MLNet", "NasFlatness.Data.Jpeg", "NasFlatness.Reports", "NasFlatness.Onnx",
    ];

    /// <summary>What an app that searches NB201 with DARTS on CIFAR-10 and looks its cell up in the table references.</summary>
    private static readonly string[] DartsUserPackages =
        ["NasFlatness.Core", "NasFlatness.SearchSpaces", "NasFlatness.Optimizers", "NasFlatness.Data", "NasFlatness.Landscape"];

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NasFlatness.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("The repository root (NasFlatness.sln) was not found above " + AppContext.BaseDirectory);
    }

    private (int Code, string Output) Run(string file, string arguments, string workingDirectory, int timeoutSeconds, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file, arguments) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeoutSeconds * 1000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{file} {arguments}' did not finish in {timeoutSeconds} s.");
        }
        var text = stdout.Result + FilterNative(stderr.Result);
        output.WriteLine($"$ {file} {arguments} → {process.ExitCode}\n{Tail(text)}");
        return (process.ExitCode, text);
    }

    private static string FilterNative(string stderr) => string.Join('\n', stderr.Split('\n').Where(l => !l.Contains("NNPACK", StringComparison.Ordinal)));

    private static string Tail(string text) => text.Length <= 3000 ? text : "…" + text[^3000..];

    private string PackFeed(string root)
    {
        string feed = Directory.CreateDirectory(Path.Combine(_temp, "feed")).FullName;
        foreach (var id in Packages)
        {
            var (code, text) = Run("dotnet", $"pack \"{Path.Combine(root, "src", id, id + ".csproj")}\" -c Release --no-build -o \"{feed}\" -p:Version={_version}", root, 300);
            Assert.True(code == 0, text);
        }
        Assert.Equal(Packages.Length, Directory.GetFiles(feed, "*.nupkg").Length);
        return feed;
    }

    private static string ProjectFile(IEnumerable<string> packages, string version, string torchVersion, bool nativeBackend = true) =>
        ProjectFile([.. packages.Select(id => (id, version)), .. nativeBackend ? new[] { ("libtorch-cpu-linux-x64", torchVersion) } : []]);

    private static string ProjectFile(IEnumerable<(string Id, string Version)> packages) => $"""
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <OutputType>Exe</OutputType>
            <TargetFramework>net10.0</TargetFramework>
            <ImplicitUsings>enable</ImplicitUsings>
            <Nullable>enable</Nullable>
            <NoWarn>$(NoWarn);NU1603</NoWarn>
          </PropertyGroup>
          <ItemGroup>
            {string.Join("\n    ", packages.Select(p => $"<PackageReference Include=\"{p.Id}\" Version=\"{p.Version}\" />"))}
          </ItemGroup>
        </Project>
        """;

    private static string NugetConfig(string feed) => $"""
        <?xml version="1.0" encoding="utf-8"?>
        <configuration>
          <packageSources>
            <clear />
            <add key="local-feed" value="{feed}" />
            <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
          </packageSources>
        </configuration>
        """;

    private static string TorchVersion(string root) => CentralVersion(root, "libtorch-cpu-linux-x64");

    /// <summary>The version Directory.Packages.props pins for <paramref name="id"/>.</summary>
    private static string CentralVersion(string root, string id)
    {
        var m = Regex.Match(File.ReadAllText(Path.Combine(root, "Directory.Packages.props")), $"Include=\"{Regex.Escape(id)}\" Version=\"([^\"]+)\"");
        Assert.True(m.Success, $"Directory.Packages.props pins no version of {id}");
        return m.Groups[1].Value;
    }

    /// <summary>
    /// The package ids in an app's restore (<c>obj/project.assets.json</c> "libraries"), and the closure of
    /// <paramref name="from"/>'s dependencies among them, read from the same file.
    /// </summary>
    private static (HashSet<string> All, HashSet<string> Closure) RestoredPackages(string app, string from)
    {
        using var assets = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(app, "obj", "project.assets.json")));
        var dependencies = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
        foreach (var target in assets.RootElement.GetProperty("targets").EnumerateObject())
            foreach (var library in target.Value.EnumerateObject())
            {
                var id = library.Name[..library.Name.IndexOf('/', StringComparison.Ordinal)];
                if (!dependencies.TryGetValue(id, out var list)) dependencies[id] = list = [];
                if (library.Value.TryGetProperty("dependencies", out var deps)) list.AddRange(deps.EnumerateObject().Select(d => d.Name));
            }
        var all = assets.RootElement.GetProperty("libraries").EnumerateObject()
            .Select(l => l.Name[..l.Name.IndexOf('/', StringComparison.Ordinal)]).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var closure = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var pending = new Stack<string>([from]);
        while (pending.TryPop(out var id))
            if (closure.Add(id) && dependencies.TryGetValue(id, out var next)) foreach (var d in next) pending.Push(d);
        return (all, closure);
    }

    /// <summary>
    /// A DARTS user: an app that references only Core, SearchSpaces, Optimizers, Data and Landscape searches NB201 with DARTS on
    /// CIFAR-10 and looks its cell up in the table; its restore holds no ML.NET package and no SkiaSharp native package that
    /// TorchSharp does not bring itself. The same app without the native backend package gets one sentence naming it, and
    /// the README's programs build from their text and package lists alone (both on the same packed feed).
    /// </summary>
    [Fact]
    public void DartsUserOfThePackedPackagesRestoresNoMlNetAndNoSkiaNativePackage()
    {
        string root = RepositoryRoot();
        string feed = PackFeed(root);
        string app = Directory.CreateDirectory(Path.Combine(_temp, "darts-user")).FullName;
        File.WriteAllText(Path.Combine(app, "DartsUser.csproj"), ProjectFile(DartsUserPackages, _version, TorchVersion(root)));
        File.WriteAllText(Path.Combine(app, "nuget.config"), NugetConfig(feed));
        File.WriteAllText(Path.Combine(app, "Program.cs"), """
            using NasFlatness.Data;
            using NasFlatness.Genotypes;
            using NasFlatness.Landscape;
            using NasFlatness.Optimizers;
            using NasFlatness.Search;
            using NasFlatness.SearchSpaces.Nb201;

            var images = CifarImages.Load(args[0]);
            using var data = new CifarSearchData(images, new CifarSearchDataOptions { MaxTrainExamples = 64, MaxValidationExamples = 64 });
            var space = new Nb201SearchSpace(new Nb201Options { Channels = 4, CellsPerStage = 1 });
            var runner = new SearchRunner(space, new DartsFirstOrder(), [], new SearchOptions { Epochs = 1, BatchSize = 32, Device = "cpu" });
            var genotype = runner.Run(data).GetGenotype<Nb201Genotype>();
            Console.WriteLine($"cell {genotype} accuracy {Nb201Table.Embedded.Get(genotype).Cifar10TestAccuracy:F2}");
            """);
        var (buildCode, buildText) = Run("dotnet", "build -c Release", app, 600);
        Assert.True(buildCode == 0, buildText);

        var (all, torch) = RestoredPackages(app, "TorchSharp");
        Assert.Contains("NasFlatness.Landscape", all);
        Assert.Contains("TorchSharp", all);
        Assert.DoesNotContain(all, id => id.StartsWith("Microsoft.ML", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(all, id => id.StartsWith("NasFlatness.MultiObjective", StringComparison.OrdinalIgnoreCase) || id == "NasFlatness.Data.Jpeg");
        var skiaNative = all.Where(id => id.StartsWith("SkiaSharp.NativeAssets", StringComparison.OrdinalIgnoreCase)).ToArray();
        Assert.All(skiaNative, id => Assert.Contains(id, torch)); // only what TorchSharp itself brings
        Assert.DoesNotContain(all, id => id.StartsWith("SkiaSharp.NativeAssets.Linux", StringComparison.OrdinalIgnoreCase) && !torch.Contains(id));

        var (code, text) = Run("dotnet", $"\"{Path.Combine(app, "bin", "Release", "net10.0", "DartsUser.dll")}\" \"{TestData.Cifar10}\"", app, 300);
        Assert.True(code == 0, text);
        var line = Regex.Match(text, @"cell (\S+) accuracy (\S+)");
        Assert.True(line.Success, text);
        // The accuracy printed is the table's own entry for the printed cell (checked against the library's table here).
        var cell = NasFlatness.Genotypes.Nb201Genotype.Parse(line.Groups[1].Value);
        Assert.Equal(NasFlatness.Landscape.Nb201Table.Embedded.Get(cell).Cifar10TestAccuracy.ToString("F2", System.Globalization.CultureInfo.InvariantCulture), line.Groups[2].Value);

        // The same app without the native backend package: its first NasFlatness call that needs torch (the data set's
        // constructor) throws one InvalidOperationException whose message names the packages to add, and TorchSharp's
        // probing trace does not reach the console. NUGET_PACKAGES points at an empty folder so that TorchSharp's fallback
        // cannot find libtorch in this machine's package cache either, as on a machine that never restored it.
        string forgetful = Directory.CreateDirectory(Path.Combine(_temp, "forgetful")).FullName;
        File.WriteAllText(Path.Combine(forgetful, "Forgetful.csproj"), ProjectFile(DartsUserPackages, _version, TorchVersion(root), nativeBackend: false));
        File.WriteAllText(Path.Combine(forgetful, "nuget.config"), NugetConfig(feed));
        File.WriteAllText(Path.Combine(forgetful, "Program.cs"), """
            using NasFlatness.Data;

            try
            {
                var images = CifarImages.Load(args[0]);
                using var data = new CifarSearchData(images, new CifarSearchDataOptions { MaxTrainExamples = 64, MaxValidationExamples = 64 });
                Console.WriteLine("loaded");
                return 0;
            }
            catch (InvalidOperationException ex)
            {
                Console.WriteLine("error: " + ex.Message);
                return 2;
            }
            """);
        var (forgetfulBuild, forgetfulBuildText) = Run("dotnet", "build -c Release", forgetful, 600);
        Assert.True(forgetfulBuild == 0, forgetfulBuildText);
        Assert.False(RestoredPackages(forgetful, "TorchSharp").All.Contains("libtorch-cpu-linux-x64"), "the app must not get a backend from the NasFlatness packages");
        string empty = Directory.CreateDirectory(Path.Combine(_temp, "no-package-cache")).FullName;
        var (forgetfulCode, forgetfulText) = Run("dotnet", $"\"{Path.Combine(forgetful, "bin", "Release", "net10.0", "Forgetful.dll")}\" \"{TestData.Cifar10}\"", forgetful, 300,
            new Dictionary<string, string> { ["NUGET_PACKAGES"] = empty });
        Assert.True(forgetfulCode == 2, forgetfulText);
        Assert.Equal(
            "error: NasFlatness could not load libtorch, TorchSharp's native backend: add one native package to your application — " +
            NasFlatness.Advanced.TorchRuntime.NativeBackendPackages + " (see docs/packages.md).",
            forgetfulText.Trim());

        ReadmeProgramsBuildFromTheirTextAndPackageListAlone(root, feed);
    }

    /// <summary>
    /// The README's "Use it from code" programs, each taken from the README as text — its <c>dotnet add package</c> list and its
    /// <c>Program.cs</c> — build on their own against the packed packages (NasFlatness packages from the folder feed, the others
    /// at the versions this repository pins), so neither needs a using, a variable or a package the README leaves out.
    /// </summary>
    private void ReadmeProgramsBuildFromTheirTextAndPackageListAlone(string root, string feed)
    {
        foreach (var (name, file, _) in ReadmeTests.Snippets.Select(row => ((string)row[0], (string)row[1], (string)row[2])))
        {
            string program = ReadmeTests.Program(file, name);
            var packages = ReadmeTests.PackagesAbove(program)
                .Select(id => (id, id.StartsWith("NasFlatness.", StringComparison.Ordinal) ? _version : CentralVersion(root, id))).ToArray();
            string app = Directory.CreateDirectory(Path.Combine(_temp, "readme-" + name)).FullName;
            File.WriteAllText(Path.Combine(app, "Readme.csproj"), ProjectFile(packages));
            File.WriteAllText(Path.Combine(app, "nuget.config"), NugetConfig(feed));
            File.WriteAllText(Path.Combine(app, "Program.cs"), program);
            var (code, text) = Run("dotnet", "build -c Release", app, 600);
            Assert.True(code == 0, $"README program '{name}':\n{program}\n{text}");
        }
    }

    [Fact]
    public void ConsumerOfThePackedPackagesSearchesACustomSpaceIsKilledAndResumesToTheSameResult()
    {
        string root = RepositoryRoot();
        string feed = PackFeed(root);

        // The consumer: the sample's sources, a project file with package references only, a feed of the packed packages.
        string app = Directory.CreateDirectory(Path.Combine(_temp, "consumer")).FullName;
        foreach (var source in Directory.GetFiles(Path.Combine(root, "samples", "NasFlatness.CustomSpace"), "*.cs"))
            File.Copy(source, Path.Combine(app, Path.GetFileName(source)));
        File.WriteAllText(Path.Combine(app, "Consumer.csproj"), ProjectFile(Packages, _version, TorchVersion(root)));
        File.WriteAllText(Path.Combine(app, "nuget.config"), NugetConfig(feed));
        var (buildCode, buildText) = Run("dotnet", "build -c Release", app, 600);
        Assert.True(buildCode == 0, buildText);
        Assert.DoesNotContain("ProjectReference", File.ReadAllText(Path.Combine(app, "Consumer.csproj")));

        // A second consumer on the same packages runs public API the sample does not touch: a protocol's derived α-lr
        // (Optimizers), a trial plan (Trials), JPEG compression through the Data.Jpeg satellite's Skia codec, the ML.NET
        // surrogate (the MultiObjective.MLNet satellite), a ZO-DARTS++ genotype (SearchSpaces), a found cell's neighbourhood flatness (Landscape), an
        // epoch's named metrics in the run manifest (Core) and a DARTS cell drawing (Reports).
        string surface = Directory.CreateDirectory(Path.Combine(_temp, "surface")).FullName;
        File.Copy(Path.Combine(app, "Consumer.csproj"), Path.Combine(surface, "Surface.csproj"));
        File.Copy(Path.Combine(app, "nuget.config"), Path.Combine(surface, "nuget.config"));
        File.WriteAllText(Path.Combine(surface, "Program.cs"), """
            using System.Globalization;
            using NasFlatness.Data;
            using NasFlatness.Genotypes;
            using NasFlatness.Landscape;
            using NasFlatness.MultiObjective.MLNet;
            using NasFlatness.Optimizers;
            using NasFlatness.Reports;
            using NasFlatness.Reproducibility;
            using NasFlatness.Search;
            using NasFlatness.Trials;
            using TorchSharp;

            double lr = SearchProtocols.Get("quick-nb201").ArchitectureLearningRate(MethodPresets.Darts);
            var grid = new TrialGrid();
            grid.Options["space"] = "nas-bench-201";
            grid.Axes.Add(new TrialAxis("method", ["darts", "beta-darts"]));
            grid.Axes.Add(new TrialAxis("seed", ["0", "1"]));
            var plan = grid.Expand();
            torch.manual_seed(0);
            using var images = torch.rand(2, 3, 32, 32);
            using var jpeg = ImageCorruptions.Jpeg(images, 50);
            double change = jpeg.sub(images).abs().mean().item<float>();
            var surrogate = new TreeEnsembleSurrogate();
            double[][] features = [.. Enumerable.Range(0, 20).Select(i => new double[] { i, i % 3 })];
            surrogate.Fit(features, [.. features.Select(f => 2 * f[0])], seed: 0);
            var varied = new ZoDartsPlusPlusGenotype(new int[18], new int[18], [1, 2, 3]);
            var quality = Nb201CellQualityMeter.Embedded.Measure("|skip_connect~0|+|skip_connect~0|skip_connect~1|+|nor_conv_1x1~0|nor_conv_1x1~1|nor_conv_3x3~2|");
            var epoch = new EpochManifest { Metrics = { [ArchitectureHessianObserver.MetricName] = 0.25 } };
            int drawnEdges = System.Text.RegularExpressions.Regex.Matches(CellDrawing.Svg(DartsGenotype.DartsV2), "<g class=\"edge\"").Count;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"lr {lr:R} trials {plan.Count} jpeg {string.Join("x", jpeg.shape)} change {change:F4} predict {surrogate.Predict([10, 1]):F1} varied {ZoDartsPlusPlusGenotype.Parse(varied.ToString()).Equals(varied)} r1 {quality.Radius1.NeighborMean:F2} metric {epoch.Metrics["alpha-hessian-max-eigenvalue"]:R} edges {drawnEdges}"));
            """);
        var (surfaceBuild, surfaceBuildText) = Run("dotnet", "build -c Release", surface, 600);
        Assert.True(surfaceBuild == 0, surfaceBuildText);
        var (surfaceCode, surfaceText) = Run("dotnet", $"\"{Path.Combine(surface, "bin", "Release", "net10.0", "Surface.dll")}\"", surface, 300);
        Assert.True(surfaceCode == 0, surfaceText);
        var line = Regex.Match(surfaceText, @"lr (\S+) trials (\d+) jpeg (\S+) change (\S+) predict (\S+) varied (\S+) r1 (\S+) metric (\S+) edges (\d+)");
        Assert.True(line.Success, surfaceText);
        Assert.Equal(3e-4 * 19_550 / 320, double.Parse(line.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 12);
        Assert.Equal("4", line.Groups[2].Value);
        Assert.Equal("2x3x32x32", line.Groups[3].Value);
        Assert.InRange(double.Parse(line.Groups[4].Value, System.Globalization.CultureInfo.InvariantCulture), 1e-4, 0.5); // JPEG changed the noise images
        Assert.InRange(double.Parse(line.Groups[5].Value, System.Globalization.CultureInfo.InvariantCulture), 10, 30); // target 2·10 = 20
        Assert.Equal("True", line.Groups[6].Value);
        // The README's seed-0 cell: radius-1 neighbour mean 91.54 % (docs/cli.md); the metric under the observer's public key.
        Assert.Equal("91.54", line.Groups[7].Value);
        Assert.Equal("0.25", line.Groups[8].Value);
        Assert.Equal("16", line.Groups[9].Value); // DARTS_V2: 8 operation edges in each of its two cells, none of them 'none'
        string dll = Path.Combine(app, "bin", "Release", "net10.0", "Consumer.dll");

        // Uninterrupted.
        var (code1, text1) = Run("dotnet", $"\"{dll}\" --epochs 4 --result uninterrupted.json", app, 300);
        Assert.True(code1 == 0, text1);

        // Killed after the first epoch's checkpoint, then resumed with the same command.
        string checkpoint = Path.Combine(app, "ckpt"), manifest = Path.Combine(checkpoint, "checkpoint.json");
        var start = new ProcessStartInfo("dotnet", $"\"{dll}\" --epochs 4 --checkpoint \"{checkpoint}\" --result resumed.json --step-delay-ms 150")
        {
            WorkingDirectory = app, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using (var process = Process.Start(start)!)
        {
            try
            {
                process.OutputDataReceived += (_, _) => { };
                process.ErrorDataReceived += (_, _) => { };
                process.BeginOutputReadLine();
                process.BeginErrorReadLine();
                var clock = Stopwatch.StartNew();
                while (!(File.Exists(manifest) && File.ReadAllText(manifest).Contains("\"CompletedEpochs\": 1", StringComparison.Ordinal)))
                {
                    Assert.False(process.HasExited, "the search ended before its first checkpoint");
                    Assert.True(clock.Elapsed < TimeSpan.FromMinutes(5), "no checkpoint within 5 minutes");
                    Thread.Sleep(50);
                }
            }
            finally
            {
                if (!process.HasExited) process.Kill(entireProcessTree: true); // the kill the test is about, and never a leftover
                process.WaitForExit();
            }
        }
        Assert.False(File.Exists(Path.Combine(app, "resumed.json")), "the killed search must not have finished");
        var (code2, text2) = Run("dotnet", $"\"{dll}\" --epochs 4 --checkpoint \"{checkpoint}\" --result resumed.json", app, 300);
        Assert.True(code2 == 0, text2);
        Assert.DoesNotContain("epoch 1/4", text2); // resumed after epoch 1, not started over

        string a = File.ReadAllText(Path.Combine(app, "uninterrupted.json")), b = File.ReadAllText(Path.Combine(app, "resumed.json"));
        output.WriteLine(a);
        Assert.Equal(a, b);
        Assert.DoesNotContain("NaN", a);
    }

    /// <summary>
    /// The tool as a user gets it: <c>dotnet pack</c> into a folder feed, <c>dotnet tool install</c> from it (no repository
    /// on the path), a tiny <c>nasflatness search</c> that leaves a manifest, and <c>nasflatness reproduce</c> on that manifest
    /// giving the same genotype.
    /// </summary>
    [Fact]
    public void ToolInstalledFromThePackedFeedSearchesAndReproducesItsManifest()
    {
        string root = RepositoryRoot();
        string feed = Directory.CreateDirectory(Path.Combine(_temp, "tool-feed")).FullName;
        // Not --no-build: the linux-x64 package is packed from its own build (bin/Release/net10.0/linux-x64/), which a plain
        // `dotnet build` does not make. PackageVersion, not Version, so that no assembly is rebuilt with the test's version.
        var (packCode, packText) = Run("dotnet", $"pack \"{Path.Combine(root, "tools", "NasFlatness.Cli", "NasFlatness.Cli.csproj")}\" -c Release -o \"{feed}\" -p:PackageVersion={_version}", root, 600);
        Assert.True(packCode == 0, packText);
        // A runtime-specific tool (.NET 10): a pointer package and the linux-x64 package that holds the tool, with the native
        // libraries of linux-x64 only (libtorch's CPU build and ScottPlot's SkiaSharp/HarfBuzz, none of their other platforms),
        // and without the libtorch libraries TorchSharp never loads.
        Assert.Equal(
            new[] { $"NasFlatness.Cli.{_version}.nupkg", $"NasFlatness.Cli.linux-x64.{_version}.nupkg" },
            Directory.GetFiles(feed, "*.nupkg").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray());
        using (var pointer = System.IO.Compression.ZipFile.OpenRead(Path.Combine(feed, $"NasFlatness.Cli.{_version}.nupkg")))
            Assert.DoesNotContain(pointer.Entries, e => e.Name.EndsWith(".dll", StringComparison.Ordinal) || e.Name.EndsWith(".so", StringComparison.Ordinal));
        using (var package = System.IO.Compression.ZipFile.OpenRead(Path.Combine(feed, $"NasFlatness.Cli.linux-x64.{_version}.nupkg")))
        {
            var natives = package.Entries.Where(e => Regex.IsMatch(e.Name, @"\.(so|dylib)$|^lib.*\.dll$|^(libSkiaSharp|libHarfBuzzSharp|torch_cpu|LibTorchSharp)\.")).Select(e => e.FullName).ToArray();
            Assert.Contains("tools/net10.0/linux-x64/libtorch_cpu.so", natives);
            Assert.Contains("tools/net10.0/linux-x64/libSkiaSharp.so", natives);
            Assert.All(natives, n => Assert.Matches(@"^tools/net10\.0/linux-x64/[^/]+\.so$", n));
            Assert.DoesNotContain(package.Entries, e => e.FullName.Contains("runtimes/", StringComparison.Ordinal) || e.Name == "libtorch_python.so");
        }

        string toolPath = Path.Combine(_temp, "tools");
        var (installCode, installText) = Run("dotnet", $"tool install NasFlatness.Cli --version {_version} --tool-path \"{toolPath}\" --add-source \"{feed}\"", _temp, 600);
        Assert.True(installCode == 0, installText);
        string tool = Path.Combine(toolPath, "nasflatness");
        Assert.True(File.Exists(tool), "the tool's command was not installed: " + installText);

        string work = Directory.CreateDirectory(Path.Combine(_temp, "work")).FullName; // no repository above: the data folder is passed
        string data = TestData.Cifar10;
        var (searchCode, searchText) = Run(tool, $"search --method darts --channels 4 --train-examples 128 --valid-examples 128 --epochs 2 --threads 1 --data \"{data}\" --output run --json", work, 300);
        Assert.True(searchCode == 0, searchText);
        string manifest = Path.Combine(work, "run", "manifest.json");
        Assert.True(File.Exists(manifest), searchText);
        Assert.True(File.Exists(Path.Combine(work, "run", "alpha.png")));
        Assert.True(File.Exists(Path.Combine(work, "run", "cell.svg")), searchText);
        Assert.True(File.Exists(Path.Combine(work, "run", "report.html")), searchText);
        string genotype = Regex.Match(searchText, "\"event\":\"result\",\"genotype\":\"([^\"]+)\"").Groups[1].Value;
        Assert.Matches(@"^\|[a-z_0-9x]+~0\|\+", genotype);

        var (reproCode, reproText) = Run(tool, $"reproduce \"{manifest}\" --output again --json", work, 300);
        Assert.True(reproCode == 0, reproText);
        Assert.Contains(genotype, reproText, StringComparison.Ordinal);
        Assert.Contains("\"match\":true", reproText, StringComparison.Ordinal);

        // The methods that did not run from the tool before 0.2.0: PC-DARTS, ZO-DARTS(+) on NAS-Bench-201, ZO-DARTS++ on its space
        // (with its switch epoch and sizes), and evaluate on the ZO-DARTS++ cell found.
        string tiny = $"--channels 4 --train-examples 80 --valid-examples 16 --batch-size 8 --warmup 0 --threads 1 --data \"{data}\" --json";
        foreach (var method in new[] { "pc-darts", "zo-darts", "zo-darts+" })
        {
            var (code, text) = Run(tool, $"search --method {method} --epochs 1 {tiny} --output {method}", work, 300);
            Assert.True(code == 0, text);
            Assert.Contains("\"event\":\"result\"", text, StringComparison.Ordinal);
        }
        var (variedCode, variedText) = Run(tool, $"search --space nas-bench-201-varied --method zo-darts++ --cells 2 --epochs 2 --switch-epoch 1 {tiny} --output varied", work, 300);
        Assert.True(variedCode == 0, variedText);
        string variedCell = Regex.Match(variedText, "\"event\":\"result\",\"genotype\":\"([^\"]+)\"").Groups[1].Value;
        Assert.StartsWith("cells=", variedCell, StringComparison.Ordinal);
        var (evaluateCode, evaluateText) = Run(tool, $"evaluate -g \"{variedCell}\" --channels 4 --epochs 1 --train-examples 16 --test-examples 16 --batch-size 8 --threads 1 --data \"{data}\" --output varied-evaluation --json", work, 300);
        Assert.True(evaluateCode == 0, evaluateText);
        Assert.Contains("\"event\":\"result\"", evaluateText, StringComparison.Ordinal);
        // The found cell trained briefly with --onnx, then exported again from the evaluation folder (issue 22).
        var (evalCode, evalText) = Run(tool, $"evaluate --genotype \"{genotype}\" --channels 4 --epochs 1 --train-examples 64 --test-examples 64 --threads 1 --data \"{data}\" --output eval --onnx --json", work, 300);
        Assert.True(evalCode == 0, evalText);
        Assert.True(new FileInfo(Path.Combine(work, "eval", "model.onnx")).Length > 0, evalText);
        var (exportCode, exportText) = Run(tool, "export eval -o found.onnx --json", work, 300);
        Assert.True(exportCode == 0, exportText);
        Assert.Contains("\"event\":\"exported\"", exportText, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllBytes(Path.Combine(work, "eval", "model.onnx")), File.ReadAllBytes(Path.Combine(work, "found.onnx"))); // same weights, same metadata
    }
}
