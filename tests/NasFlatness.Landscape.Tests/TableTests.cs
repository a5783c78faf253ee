using NasFlatness.Genotypes;

namespace NasFlatness.Landscape.Tests;

public sealed class TableTests
{
    private static Nb201Table Table => Nb201Table.Embedded;

    [Theory]
    [InlineData("cifar10", 94.3733, 6111)]
    [InlineData("cifar100", 73.5133, 9930)]
    [InlineData("ImageNet16-120", 47.3111, 857)]
    public void BestArchitectureMatchesPublishedOptimum(string dataset, double best, int index)
    {
        var metric = Nb201Metrics.TestAccuracy(dataset);
        int argmax = Enumerable.Range(0, Table.Count).MaxBy(i => Table.GetValue(i, metric));
        Assert.Equal(index, argmax);
        Assert.Equal(best, Math.Round(Table.GetValue(argmax, metric), 4));
    }

    [Fact]
    public void AllSkipCellScores5430OnCifar10()
    {
        var allSkip = Nb201Genotype.FromNames("skip_connect", "skip_connect", "skip_connect", "skip_connect", "skip_connect", "skip_connect");
        Assert.Equal(54.30, Math.Round(Table.GetValue(allSkip, Nb201Metrics.Cifar10TestAccuracy), 2));
        Assert.Equal(54.30, Math.Round(Table.Get(allSkip.ToString()).Cifar10TestAccuracy, 2));
    }

    [Fact]
    public void HasAllArchitecturesAnd6466IsomorphismClasses()
    {
        Assert.Equal(15_625, Table.Count);
        Assert.Equal(15_625, Table.Architectures.Select(g => g.Code).Distinct().Count());
        Assert.Equal(6_466, Table.IsomorphismClasses.Count);
        Assert.Equal(6_466, TestData.Raw.Select(r => r.Class).Distinct().Count());
        Assert.Equal(15_625, Table.IsomorphismClasses.Sum(c => Table.IndicesInClass(c).Count));
    }

    [Fact]
    public void EmbeddedTableEqualsTableLoadedFromFiles()
    {
        var file = TestData.FileTable;
        Assert.Equal(Table.Metrics, file.Metrics);
        Assert.True(Table.HasCifar10Valid);
        Assert.Equal(Table.IsomorphismClasses, file.IsomorphismClasses);
        for (int i = 0; i < Table.Count; i++)
        {
            Assert.Equal(file.GenotypeAt(i), Table.GenotypeAt(i));
            Assert.Equal(file[i].IsomorphismClass, Table[i].IsomorphismClass);
            foreach (var m in Table.Metrics)
                Assert.Equal(BitConverter.DoubleToInt64Bits(file.GetValue(i, m)), BitConverter.DoubleToInt64Bits(Table.GetValue(i, m)));
        }
    }

    [Fact]
    public void RowsMatchTheRawFile()
    {
        foreach (var raw in TestData.Raw)
        {
            var rec = Table[raw.Index];
            Assert.Equal(raw.Arch, rec.ArchString);
            Assert.Equal(TestData.OpsOf(raw.Arch), rec.Genotype.Operations);
            Assert.Equal(raw.Cifar10, rec.Cifar10TestAccuracy);
            Assert.Equal(raw.Cifar100, rec.Cifar100TestAccuracy);
            Assert.Equal(raw.ImageNet16, rec.ImageNet16TestAccuracy);
            Assert.Equal(raw.Class, rec.IsomorphismClass);
        }
    }

    [Fact]
    public void Cifar10ValidNumbersMatchTheRawFile()
    {
        var lines = File.ReadAllLines(TestData.Cifar10ValidCsv);
        var header = lines[0].Split(',');
        int arch = Array.IndexOf(header, "arch_str"), valid = Array.IndexOf(header, "valid-accuracy"), trainLoss = Array.IndexOf(header, "train-loss");
        Assert.Equal(91.6067, Math.Round(Enumerable.Range(0, Table.Count).Max(i => Table[i].Cifar10ValidValidAccuracy!.Value), 4));
        foreach (var line in lines.Skip(1).Take(500))
        {
            var f = line.Split(',');
            var rec = Table.Get(f[arch]);
            Assert.Equal(double.Parse(f[valid], System.Globalization.CultureInfo.InvariantCulture), rec.Cifar10ValidValidAccuracy);
            Assert.Equal(double.Parse(f[trainLoss], System.Globalization.CultureInfo.InvariantCulture), rec.Cifar10ValidTrainLoss);
        }
    }

    [Fact]
    public void LookupsByIndexGenotypeAndArchStringAgree()
    {
        var rng = new Random(7);
        for (int k = 0; k < 200; k++)
        {
            int i = rng.Next(Table.Count);
            var g = Table.GenotypeAt(i);
            Assert.Equal(i, Table.IndexOf(g));
            Assert.Equal(i, Table.IndexOf(g.ToString()));
            Assert.Same(Table[i], Table.Get(g));
            Assert.Equal(Table.IsomorphismClassOf(g), Table[i].IsomorphismClass);
            Assert.Contains(i, Table.IndicesInClass(Table[i].IsomorphismClass));
            Assert.True(Table.TryGetValue(g, Nb201Metrics.Cifar100TestAccuracy, out double v));
            Assert.Equal(Table[i].Cifar100TestAccuracy, v);
        }
        Assert.NotEqual(6111, Table.GenotypeAt(6111).Code);
    }

    [Fact]
    public void IsomorphicArchitecturesShareTheClassString()
    {
        // Every member of a class has the same test accuracy only by coincidence, but all are listed once.
        var members = TestData.Raw.GroupBy(r => r.Class).ToDictionary(g => g.Key, g => g.Select(r => r.Index).Order().ToArray());
        foreach (var cls in Table.IsomorphismClasses.Take(300))
            Assert.Equal(members[cls], Table.IndicesInClass(cls));
    }

    [Fact]
    public void BadArgumentsGetClearErrors()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Table[15_625]);
        Assert.Throws<GenotypeFormatException>(() => Table.IndexOf("|conv~0|"));
        Assert.Throws<KeyNotFoundException>(() => Table.IndicesInClass("nope"));
        var ex = Assert.Throws<ArgumentException>(() => Table.Scorer(new BenchmarkMetric("cifar10", "flops", true)));
        Assert.Contains("cifar10/flops", ex.Message);
        var noValid = Nb201Table.Load(TestData.TestAccuracyCsv);
        Assert.False(noValid.HasCifar10Valid);
        Assert.Null(noValid[0].Cifar10ValidTrainLoss);
        ex = Assert.Throws<ArgumentException>(() => noValid.Scorer(Nb201Metrics.Cifar10ValidTrainLoss));
        Assert.Contains("cifar10-valid", ex.Message);
        Assert.False(noValid.TryGetValue(noValid.GenotypeAt(0), Nb201Metrics.Cifar10ValidTrainLoss, out _));
        Assert.Throws<FileNotFoundException>(() => Nb201Table.Load("/nonexistent/nb201.csv"));
    }

    [Fact]
    public void ScorersReadTheTable()
    {
        var g = Table.GenotypeAt(6111);
        Assert.Equal(Table[6111].Cifar10TestAccuracy, Table.Scorer(Nb201Metrics.Cifar10TestAccuracy).Score(g));
        Assert.Equal(Table[6111].Cifar10ValidValidLoss!.Value, ArchitectureScorer.FromTable(Table, Nb201Metrics.Cifar10ValidValidLoss).Score(g));
    }
}
