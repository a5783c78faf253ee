using System.Text.Json;
using NasFlatness.Genotypes;
using NasFlatness.SearchSpaces.Darts;
using Xunit;

namespace NasFlatness.SearchSpaces.Tests;

public sealed class DartsGenotypeTests
{
    public static TheoryData<string> PublishedNames => ["DARTS_V1", "DARTS_V2", "PC_DARTS"];

    [Theory]
    [MemberData(nameof(PublishedNames))]
    public void PublishedGenotypesRoundTripThroughTextAndJson(string name)
    {
        var g = DartsGenotype.FromName(name);
        var text = g.ToString();
        Assert.Equal(g, DartsGenotype.Parse(text));
        Assert.Equal(g, new DartsSearchSpace().Parse(text));
        var json = JsonSerializer.Serialize<Genotype>(g);
        Assert.Contains("\"space\":\"darts\"", json);
        Assert.Equal(g, JsonSerializer.Deserialize<Genotype>(json));
    }

    [Fact]
    public void PublishedTextMatchesTheReferenceCode()
    {
        // DARTS_V2 as printed in quark0/darts genotypes.py; its concat lists are written [2, 3, 4, 5].
        const string reference = "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";
        var parsed = DartsGenotype.Parse(reference);
        Assert.Equal(DartsGenotype.DartsV2, parsed);
        Assert.Equal(reference.Replace("[2, 3, 4, 5]", "range(2, 6)", StringComparison.Ordinal), parsed.ToString());
        Assert.Equal(new DartsEdge("dil_conv_3x3", 2), parsed.Normal[7]);
        Assert.Equal([2, 3, 4, 5], parsed.ReduceConcat);
        Assert.Same(DartsGenotype.DartsV2, DartsGenotype.FromName("darts"));
    }

    [Fact]
    public void ParsesMultiLineDoubleQuotedAndPositionalForms()
    {
        var g = DartsGenotype.PcDarts;
        var multi = g.ToString().Replace("), (", "),\n    (", StringComparison.Ordinal).Replace('\'', '"');
        Assert.Equal(g, DartsGenotype.Parse(multi));
        var positional = g.ToString().Replace("normal=", "", StringComparison.Ordinal).Replace("normal_concat=", "", StringComparison.Ordinal)
            .Replace("reduce=", "", StringComparison.Ordinal).Replace("reduce_concat=", "", StringComparison.Ordinal);
        Assert.Equal(g, DartsGenotype.Parse(positional));
    }

    [Theory]
    [InlineData("Genotype(normal=[('sep_conv_9x9', 0)", "sep_conv_9x9")]
    [InlineData("Genotype(normal=[('sep_conv_3x3' 0)])", "expected ','")]
    [InlineData("Genotype(normal=[('sep_conv_3x3', x)])", "expected an integer")]
    [InlineData("Genotype(normal=[], normal_concat=range(6, 2), reduce=[])", "range(6, 2)")]
    [InlineData("Genotype(normal=[], normal_concat=rangex, reduce=[])", "expected '('")]
    [InlineData("Genotype(normal=[('sep_conv_3x3', 0)], colour=[])", "unknown field 'colour'")]
    [InlineData("Genotype(reduce=[])", "'normal' is missing")]
    [InlineData("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1)], reduce=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1)])", "has 2 edges")]
    [InlineData("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 2), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], reduce=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)])", "can only read states 0..1, not 2")]
    [InlineData("Genotype(normal=[]) trailing", "after the closing")]
    public void MalformedTextGetsAClearError(string text, string expected)
    {
        var ex = Assert.Throws<GenotypeFormatException>(() => DartsGenotype.Parse(text));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.False(DartsGenotype.TryParse(text, out _));
    }

    [Fact]
    public void WrongNodeCountInConstructorIsRejected()
    {
        var edges = DartsGenotype.DartsV2.Normal.Take(6).ToArray();
        var ex = Assert.Throws<ArgumentException>(() => new DartsGenotype(edges, DartsGenotype.DartsV2.Reduce));
        Assert.Contains("4 intermediate nodes", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => DartsGenotype.FromName("BETA_DARTS"));
    }

    [Fact]
    public void NeighboursDifferInExactlyOneEdgeAndAreComplete()
    {
        var space = new DartsSearchSpace();
        var g = DartsGenotype.DartsV2;
        var neighbours = space.Neighbors(g).Cast<DartsGenotype>().ToList();
        Assert.Equal(neighbours.Count, neighbours.Distinct().Count());
        // Independent count: per kept edge 6 other ops (7 non-none ops) + (free inputs of the node) × 7 ops.
        int expected = 0;
        foreach (var cell in new[] { g.Normal, g.Reduce })
        {
            for (int k = 0; k < 8; k++)
            {
                int node = k / 2;
                int used = cell[k].Input == cell[k ^ 1].Input ? 1 : 2;
                expected += 6 + (node + 2 - used) * 7;
            }
        }
        Assert.Equal(expected, neighbours.Count);
        foreach (var n in neighbours)
        {
            int diff = n.Normal.Zip(g.Normal).Count(p => p.First != p.Second) + n.Reduce.Zip(g.Reduce).Count(p => p.First != p.Second);
            Assert.Equal(1, diff);
            Assert.DoesNotContain(n.Normal.Concat(n.Reduce), e => e.Operation == "none");
        }
    }
}
