using CsCheck;
using NasFlatness.Genotypes;
using Xunit;

namespace NasFlatness.SearchSpaces.Tests;

public sealed class DartsGenotypePropertyTests
{
    private static DartsGenotype RandomGenotype(Random r)
    {
        DartsEdge[] Cell()
        {
            var edges = new DartsEdge[8];
            for (int k = 0; k < 8; k++)
                edges[k] = new DartsEdge(DartsGenotype.OperationNames[r.Next(DartsGenotype.OperationNames.Length)], r.Next(k / 2 + 2));
            return edges;
        }
        int[] Concat()
        {
            if (r.Next(2) == 0) return [2, 3, 4, 5];
            return Enumerable.Range(0, 6).Where(_ => r.Next(2) == 0).DefaultIfEmpty(5).OrderBy(_ => r.Next()).ToArray();
        }
        return new DartsGenotype(Cell(), Concat(), Cell(), Concat());
    }

    [Fact]
    public void AnyGenotypeRoundTripsThroughItsText() =>
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            var g = RandomGenotype(new Random(seed));
            Assert.Equal(g, DartsGenotype.Parse(g.ToString()));
        }, iter: 500);

    [Fact]
    public void CorruptedTextEitherParsesOrGetsAFormatException() =>
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            var r = new Random(seed);
            var text = RandomGenotype(r).ToString();
            int at = r.Next(text.Length);
            text = r.Next(3) switch
            {
                0 => text.Remove(at, 1),
                1 => text.Insert(at, "x),['9 "[r.Next(7)].ToString()),
                _ => text[..at],
            };
            try
            {
                DartsGenotype.Parse(text);
            }
            catch (GenotypeFormatException ex)
            {
                Assert.StartsWith("DARTS genotype '", ex.Message, StringComparison.Ordinal);
            }
        }, iter: 1000);
}
