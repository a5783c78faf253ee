using Microsoft.Extensions.Configuration;
using System.Text.RegularExpressions;
using Xunit;

namespace NasFlatness.Tests;

/// <summary>The README's code blocks are the compiled snippets of samples/NasFlatness.QuickStart/UseFromCode.cs.</summary>
public sealed class ReadmeTests
{
    private static string RepositoryFile(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine([dir.FullName, .. parts]);
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException($"{Path.Combine(parts)} not found above {AppContext.BaseDirectory}.");
    }

    private static string Snippet(string source, string name)
    {
        var m = Regex.Match(source, $@"// <snippet:{name}>\r?\n(.*?)\r?\n[ \t]*// </snippet:{name}>", RegexOptions.Singleline);
        Assert.True(m.Success, $"snippet '{name}' not found");
        var lines = m.Groups[1].Value.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        int indent = lines.Where(l => l.Trim().Length > 0).Min(l => l.Length - l.TrimStart().Length);
        return string.Join("\n", lines.Select(l => l.Length >= indent ? l[indent..] : l.TrimStart()));
    }

    [Theory]
    [InlineData("code")]
    [InlineData("di")]
    public void ReadmeQuotesTheCompiledSnippet(string name)
    {
        var readme = File.ReadAllText(RepositoryFile("README.md")).Replace("\r\n", "\n");
        var source = File.ReadAllText(RepositoryFile("samples", "NasFlatness.QuickStart", "UseFromCode.cs"));
        var blocks = Regex.Matches(readme, "```csharp\n(.*?)\n```", RegexOptions.Singleline).Select(m => m.Groups[1].Value).ToList();
        Assert.Contains(Snippet(source, name), blocks);
    }
}

/// <summary>The README's snippets also run.</summary>
[Collection(TorchCollection.Name)]
public sealed class ReadmeSnippetRunTests
{
    [Fact]
    public void CodeSnippetSearchesAndLooksTheCellUp()
    {
        var output = new StringWriter();
        var old = Console.Out;
        Console.SetOut(output);
        try
        {
            var result = NasFlatness.QuickStart.UseFromCode.Search(TestData.Cifar10, epochs: 1);
            Assert.Single(result.Epochs);
            Assert.Matches(@"^\|.*\|: \d+\.\d\d % on CIFAR-10", output.ToString());
        }
        finally
        {
            Console.SetOut(old);
        }
    }

    [Fact]
    public void DependencyInjectionSnippetComposesFromConfiguration()
    {
        var configuration = new Microsoft.Extensions.Configuration.ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["NasFlatness:Method"] = "beta-darts+a2m",
            ["NasFlatness:Search:Epochs"] = "50",
        }).Build();
        var runner = NasFlatness.QuickStart.UseFromCode.FromConfiguration(configuration);
        Assert.Equal(["beta-decay", "a2m"], runner.Regularizers.Select(r => r.Name).ToArray());
        Assert.Equal(50, runner.Options.Epochs);
    }
}
