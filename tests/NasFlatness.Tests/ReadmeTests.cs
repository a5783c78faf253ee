using System.Reflection;
using System.Text.RegularExpressions;
using Xunit;

namespace NasFlatness.Tests;

/// <summary>
/// The README's "Use it from code" programs are the compiled snippets of samples/NasFlatness.QuickStart/UseFromCode*.cs:
/// each is its usings region and its body region, quoted exactly, with the package list right above it. That every program
/// builds on its own from the README's text is checked against the packed packages in <see cref="PackageConsumerTests"/>.
/// </summary>
public sealed class ReadmeTests
{
    /// <summary>The snippet name, the sample file that holds it and the sample method whose body it is.</summary>
    public static TheoryData<string, string, string> Snippets => new()
    {
        { "code", "UseFromCode.cs", nameof(NasFlatness.QuickStart.UseFromCode.Search) },
        { "di", "UseFromCode.DependencyInjection.cs", nameof(NasFlatness.QuickStart.UseFromCode.FromConfiguration) },
    };

    internal static string RepositoryFile(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine([dir.FullName, .. parts]);
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException($"{Path.Combine(parts)} not found above {AppContext.BaseDirectory}.");
    }

    private static string Region(string source, string name)
    {
        var m = Regex.Match(source, $@"// <snippet:{Regex.Escape(name)}>\r?\n(.*?)\r?\n[ \t]*// </snippet:{Regex.Escape(name)}>", RegexOptions.Singleline);
        Assert.True(m.Success, $"snippet '{name}' not found");
        var lines = m.Groups[1].Value.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        int indent = lines.Where(l => l.Trim().Length > 0).Min(l => l.Length - l.TrimStart().Length);
        return string.Join("\n", lines.Select(l => l.Length >= indent ? l[indent..] : l.TrimStart()));
    }

    /// <summary>The program the README shows for snippet <paramref name="name"/>: its usings, a blank line, its body.</summary>
    internal static string Program(string file, string name)
    {
        var source = File.ReadAllText(RepositoryFile("samples", "NasFlatness.QuickStart", file)).Replace("\r\n", "\n");
        return Region(source, name + ":usings") + "\n\n" + Region(source, name);
    }

    /// <summary>The README's code blocks in order, each as (language, text).</summary>
    internal static List<(string Language, string Text)> ReadmeBlocks() =>
        Regex.Matches(File.ReadAllText(RepositoryFile("README.md")).Replace("\r\n", "\n"), "```(\\w+)\n(.*?)\n```", RegexOptions.Singleline)
            .Select(m => (m.Groups[1].Value, m.Groups[2].Value)).ToList();

    /// <summary>The packages of the <c>dotnet add package</c> block right above the README's block <paramref name="program"/>.</summary>
    internal static string[] PackagesAbove(string program)
    {
        var blocks = ReadmeBlocks();
        int index = blocks.FindIndex(b => b.Language == "csharp" && b.Text == program);
        Assert.True(index > 0, "the README does not quote the program:\n" + program);
        var (language, text) = blocks[index - 1];
        Assert.Equal("bash", language);
        var packages = Regex.Matches(text, @"^dotnet add package (\S+)$", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal(text.Split('\n').Length, packages.Length); // the block is the package list and nothing else
        return packages;
    }

    [Theory]
    [MemberData(nameof(Snippets))]
    public void ReadmeQuotesTheCompiledSnippetWithItsUsingsAndPackageList(string name, string file, string method)
    {
        string program = Program(file, name);
        var packages = PackagesAbove(program); // asserts the README holds it verbatim

        // The usings region is the file's every using directive: the body compiles with nothing the README leaves out.
        var source = File.ReadAllText(RepositoryFile("samples", "NasFlatness.QuickStart", file)).Replace("\r\n", "\n");
        var fileUsings = Regex.Matches(source, @"^using [^;]+;$", RegexOptions.Multiline).Select(m => m.Value).ToArray();
        var snippetUsings = Regex.Matches(program, @"^using [^;=]+;$", RegexOptions.Multiline).Select(m => m.Value).ToArray();
        Assert.NotEmpty(snippetUsings);
        Assert.Equal(fileUsings, snippetUsings);

        // The body is a program's: the method it is compiled in takes nothing but the program's `args`, and its class has no
        // state it could read, so every variable it uses is defined in the snippet.
        var type = typeof(NasFlatness.QuickStart.UseFromCode);
        var parameters = type.GetMethod(method)!.GetParameters();
        Assert.All(parameters, p => Assert.True(p.Name == "args" && p.ParameterType == typeof(string[]), $"{method} takes {p.Name}"));
        Assert.Empty(type.GetFields(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic));
        Assert.Empty(type.GetProperties(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic));

        // The application picks the native backend (docs/packages.md); the list names one.
        Assert.Contains("libtorch-cpu-linux-x64", packages);
    }
}

/// <summary>The README's snippets also run.</summary>
[Collection(TorchCollection.Name)]
public sealed class ReadmeSnippetRunTests
{
    private static string Captured(Action run)
    {
        var output = new StringWriter();
        var old = Console.Out;
        Console.SetOut(output);
        try
        {
            run();
        }
        finally
        {
            Console.SetOut(old);
        }
        return output.ToString();
    }

    [Fact]
    public void CodeSnippetSearchesAndLooksTheCellUp()
    {
        NasFlatness.Search.SearchResult? result = null;
        string text = Captured(() => result = NasFlatness.QuickStart.UseFromCode.Search([TestData.Cifar10, "1"]));
        Assert.Single(result!.Epochs);
        var line = Regex.Match(text, @"^(\|.*\|): (\d+\.\d\d) % on CIFAR-10");
        Assert.True(line.Success, text);
        var cell = NasFlatness.Genotypes.Nb201Genotype.Parse(line.Groups[1].Value);
        Assert.Equal(result.GetGenotype<NasFlatness.Genotypes.Nb201Genotype>(), cell);
        Assert.Equal(NasFlatness.Landscape.Nb201Table.Embedded.Get(cell).Cifar10TestAccuracy.ToString("F2", System.Globalization.CultureInfo.InvariantCulture), line.Groups[2].Value);
    }

    [Fact]
    public void DependencyInjectionSnippetComposesFromTheSamplesAppSettings()
    {
        // What the sample's appsettings.json (copied next to the program) asks for, read here independently.
        using var settings = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "appsettings.json")));
        var section = settings.RootElement.GetProperty("NasFlatness");
        var preset = NasFlatness.Optimizers.MethodPresets.Get(section.GetProperty("Method").GetString()!);

        NasFlatness.Search.SearchRunner? runner = null;
        string text = Captured(() => runner = NasFlatness.QuickStart.UseFromCode.FromConfiguration());
        Assert.Equal(preset.Optimizer, runner!.Optimizer.Name);
        Assert.Equal(preset.Regularizers, runner.Regularizers.Select(r => r.Name).ToArray());
        Assert.Equal(section.GetProperty("Search").GetProperty("Epochs").GetInt32(), runner.Options.Epochs);
        Assert.Contains($"{runner.Optimizer.Name} + {string.Join(", ", preset.Regularizers)}, {runner.Options.Epochs} epochs", text, StringComparison.Ordinal);
    }
}
