namespace NasFlatness.Genotypes;

/// <summary>Thrown when a genotype text cannot be parsed; the message names the offending token and what was expected.</summary>
public sealed class GenotypeFormatException : FormatException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong and what was expected.</param>
    /// <param name="position">Zero-based character position of the problem in the input, or -1 when unknown.</param>
    public GenotypeFormatException(string message, int position = -1) : base(message) => Position = position;

    /// <summary>Zero-based character position of the problem in the input, or -1 when unknown.</summary>
    public int Position { get; }
}
