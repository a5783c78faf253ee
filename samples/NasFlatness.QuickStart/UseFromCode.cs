// <snippet:code:usings>
using NasFlatness.Data;
using NasFlatness.Genotypes;
using NasFlatness.Landscape;
using NasFlatness.Optimizers;
using NasFlatness.Search;
using NasFlatness.SearchSpaces.Nb201;
// </snippet:code:usings>

namespace NasFlatness.QuickStart;

/// <summary>
/// The README's first "Use it from code" snippet, compiled with the quick start so it cannot rot. The README shows the
/// usings above and the body of <see cref="Search"/> as one program (its body uses nothing but <c>args</c>, as top-level
/// statements do); tests check that the README quotes exactly the marked lines and that the README's text, with the
/// package list above it, builds on its own against the packed packages.
/// </summary>
public static partial class UseFromCode
{
    /// <summary>The plain-API snippet: a CPU-sized DARTS + β-DARTS search on NAS-Bench-201 / CIFAR-10, then its table accuracy.</summary>
    /// <param name="args">The program's arguments: the CIFAR-10 folder, then optionally the number of epochs (default 10).</param>
    public static SearchResult Search(string[] args)
    {
        // <snippet:code>
        string cifarFolder = args[0];                                             // CIFAR-10's binary version: cifar-10-batches-bin
        int epochs = args.Length > 1 ? int.Parse(args[1]) : 10;
        var images = CifarImages.Load(cifarFolder);                               // the 50,000 CIFAR-10 training images
        using var data = new CifarSearchData(images, new CifarSearchDataOptions { MaxTrainExamples = 2_560, MaxValidationExamples = 2_560 });
        var space = new Nb201SearchSpace(new Nb201Options { Channels = 8, CellsPerStage = 1 });
        var runner = new SearchRunner(space, new DartsFirstOrder(), [new BetaDecayRegularizer()],
            new SearchOptions { Epochs = epochs, Device = "cpu" });                // "cuda" with a CUDA backend package
        SearchResult result = runner.Run(data);
        Nb201Genotype genotype = result.GetGenotype<Nb201Genotype>();
        Console.WriteLine($"{genotype}: {Nb201Table.Embedded.Get(genotype).Cifar10TestAccuracy:F2} % on CIFAR-10");
        // </snippet:code>
        return result;
    }
}
