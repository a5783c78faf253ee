using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;

namespace NasFlatness.Genotypes;

/// <summary>One kept edge of a DARTS cell: the operation and the state it reads.</summary>
/// <param name="Operation">Operation name, e.g. <c>sep_conv_3x3</c>.</param>
/// <param name="Input">Input state: 0 = <c>c_{k-2}</c>, 1 = <c>c_{k-1}</c>, <c>2 + m</c> = intermediate node m.</param>
public readonly record struct DartsEdge(string Operation, int Input)
{
    /// <summary>The edge as the DARTS code prints it: <c>('sep_conv_3x3', 0)</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"('{Operation}', {Input})");
}
