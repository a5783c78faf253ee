using System.Diagnostics;
using NasFlatness.Optimizers;
using NasFlatness.Search;
using Xunit;
using Xunit.Abstractions;

namespace NasFlatness.Tests;

[Collection(TorchCollection.Name)]
public sealed class SearchSmokeTests(ITestOutputHelper output)
{
    [Fact]
    public void TinySearchRuns()
    {
        using var data = Tiny.Data();
        var sw = Stopwatch.StartNew();
        var result = new SearchRunner(Tiny.Space(), new DartsFirstOrder(), options: Tiny.Options()).Run(data);
        output.WriteLine($"{sw.ElapsedMilliseconds} ms; {result.Genotype}; {string.Join(" ", result.Epochs.Select(e => e.TrainLoss.ToString("F3")))}");
        Assert.Equal(2, result.Epochs.Count);
    }
}
