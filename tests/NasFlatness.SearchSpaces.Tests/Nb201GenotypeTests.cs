using System.Text.Json;
using NasFlatness.Genotypes;
using Xunit;

namespace NasFlatness.Tests;

public sealed class Nb201GenotypeTests
{
    private static IEnumerable<string> TableArchStrings() =>
        File.ReadLines(TestData.Nb201TestAccuracyCsv).Skip(1).Select(line => line.Split(',')[1]);

    [Fact]
    public void EveryArchStringOfTheBenchmarkRoundTrips()
    {
        var codes = new HashSet<int>();
        int n = 0;
        foreach (var arch in TableArchStrings())
        {
            var g = Nb201Genotype.Parse(arch);
            Assert.Equal(arch, g.ToString());
            Assert.Equal(g, Nb201Genotype.FromCode(g.Code));
            codes.Add(g.Code);
            n++;
        }
        Assert.Equal(15_625, n);
        Assert.Equal(15_625, codes.Count); // every architecture exactly once
    }

    [Fact]
    public void EdgeOrderMatchesTheArchString()
    {
        // Edges 1←0, 2←0, 2←1, 3←0, 3←1, 3←2 in the string's left-to-right order.
        var g = Nb201Genotype.Parse("|none~0|+|skip_connect~0|nor_conv_1x1~1|+|nor_conv_3x3~0|avg_pool_3x3~1|none~2|");
        Assert.Equal([0, 1, 2, 3, 4, 0], g.Operations);
        Assert.Equal(["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3", "none"], g.OperationNamesPerEdge);
        Assert.Equal(((((0 * 5 + 1) * 5 + 2) * 5 + 3) * 5 + 4) * 5 + 0, g.Code);
    }

    [Theory]
    [InlineData("", "has 1 node group(s)")]
    [InlineData("|none~0|+|none~0|none~1|", "has 2 node group(s)")]
    [InlineData("|none~0|+|none~0|none~1|+|none~0|none~1|", "Node 3 group '|none~0|none~1|'")]
    [InlineData("|conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|", "Unknown operation 'conv_3x3'")]
    [InlineData("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "names input '1', expected input 0")]
    [InlineData("|none|+|none~0|none~1|+|none~0|none~1|none~2|", "Token 'none' at position 1")]
    [InlineData("none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "must start and end with '|'")]
    public void MalformedStringsNameTheProblem(string text, string expected)
    {
        var ex = Assert.Throws<GenotypeFormatException>(() => Nb201Genotype.Parse(text));
        Assert.Contains(expected, ex.Message);
        Assert.False(Nb201Genotype.TryParse(text, out _));
    }

    [Fact]
    public void ErrorPositionPointsAtTheBadToken()
    {
        const string text = "|none~0|+|none~0|bogus~1|+|none~0|none~1|none~2|";
        var ex = Assert.Throws<GenotypeFormatException>(() => Nb201Genotype.Parse(text));
        Assert.Equal(text.IndexOf("bogus", StringComparison.Ordinal), ex.Position);
    }

    [Fact]
    public void ValueEqualityAndJsonRoundTrip()
    {
        var a = Nb201Genotype.FromNames("nor_conv_3x3", "nor_conv_3x3", "avg_pool_3x3", "skip_connect", "nor_conv_3x3", "skip_connect");
        var b = Nb201Genotype.Parse(a.ToString());
        Assert.Equal(a, b);
        Assert.True(a == b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, a.With(0, 0));

        string json = JsonSerializer.Serialize<Genotype>(a);
        Assert.Contains("\"space\":\"nas-bench-201\"", json);
        var back = JsonSerializer.Deserialize<Genotype>(json);
        Assert.Equal(a, back);
    }

    [Fact]
    public void DistanceIsHammingOverEdges()
    {
        var a = Nb201Genotype.FromCode(0);
        var b = a.With(1, 3).With(4, 2);
        Assert.Equal(2, a.DistanceTo(b));
        Assert.Equal(0, b.DistanceTo(b));
    }

    [Fact]
    public void ConstructorRejectsBadOperations()
    {
        Assert.Contains("6 edges", Assert.Throws<ArgumentException>(() => new Nb201Genotype([0, 1])).Message);
        Assert.Contains("outside 0..4", Assert.Throws<ArgumentException>(() => new Nb201Genotype([0, 1, 2, 3, 4, 5])).Message);
        Assert.Contains("Unknown NAS-Bench-201 operation 'conv'", Assert.Throws<ArgumentException>(() => Nb201Genotype.FromNames("conv")).Message);
    }
}
