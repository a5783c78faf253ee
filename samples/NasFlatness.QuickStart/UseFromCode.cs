using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using NasFlatness.Data;
using NasFlatness.Genotypes;
using NasFlatness.Landscape;
using NasFlatness.Optimizers;
using NasFlatness.Search;
using NasFlatness.SearchSpaces.Nb201;

namespace NasFlatness.QuickStart;

/// <summary>
/// The README's "Use it from code" snippets, compiled with the quick start so they cannot rot; a test checks that the
/// README quotes exactly the lines between the snippet markers.
/// </summary>
public static class UseFromCode
{
    /// <summary>The plain-API snippet: a CPU-sized DARTS + β-DARTS search on NAS-Bench-201 / CIFAR-10, then its table accuracy.</summary>
    public static SearchResult Search(string cifarFolder, int epochs = 10, CancellationToken cancellationToken = default)
    {
        // <snippet:code>
        var images = CifarImages.Load(cifarFolder);                               // the 50,000 CIFAR-10 training images
        using var data = new CifarSearchData(images, new CifarSearchDataOptions { MaxTrainExamples = 2_560, MaxValidationExamples = 2_560 });
        var space = new Nb201SearchSpace(new Nb201Options { Channels = 8, CellsPerStage = 1 });
        var runner = new SearchRunner(space, new DartsFirstOrder(), [new BetaDecayRegularizer()],
            new SearchOptions { Epochs = epochs, Device = "cpu" });                // "cuda" with a CUDA backend package
        SearchResult result = runner.Run(data, cancellationToken: cancellationToken);
        Nb201Genotype genotype = result.GetGenotype<Nb201Genotype>();
        Console.WriteLine($"{genotype}: {Nb201Table.Embedded.Get(genotype).Cifar10TestAccuracy:F2} % on CIFAR-10");
        // </snippet:code>
        return result;
    }

    /// <summary>The dependency-injection snippet: the search composed from configuration.</summary>
    public static SearchRunner FromConfiguration(IConfiguration configuration)
    {
        // <snippet:di>
        // appsettings.json: { "NasFlatness": { "Method": "beta-darts+a2m", "Search": { "Epochs": 50 } } }
        var services = new ServiceCollection().AddLogging();
        services.AddNasFlatness(configuration.GetSection("NasFlatness"));   // names and options validated at start
        using var provider = services.BuildServiceProvider();
        var runner = provider.GetRequiredService<SearchRunner>();
        // </snippet:di>
        return runner;
    }
}
