namespace NasFlatness.MultiObjective;

/// <summary>
/// CNAS's <c>tiny_ml</c> objective (FlatNAS objective 2): the sum of penalised resource terms,
/// <c>wp·(params + P·max(0, params − pmax)) + wm·(macs + P·max(0, macs − mmax)) + wa·(acts + P·max(0, acts − amax))</c>,
/// each term a <see cref="PenaltyConstraint"/>. Leave out a term (or give it weight 0) to drop it.
/// </summary>
public sealed class TinyMlObjective : ISearchObjective
{
    private readonly PenaltyConstraint[] _terms;

    /// <summary>Creates the objective from its terms.</summary>
    /// <param name="terms">The penalised terms (at least one).</param>
    /// <exception cref="ArgumentException">No terms, or a null term.</exception>
    public TinyMlObjective(params IEnumerable<PenaltyConstraint> terms)
    {
        ArgumentNullException.ThrowIfNull(terms);
        _terms = [.. terms];
        if (_terms.Length == 0) throw new ArgumentException("tiny_ml needs at least one term.", nameof(terms));
        if (_terms.Any(t => t is null)) throw new ArgumentException("A tiny_ml term is null.", nameof(terms));
    }

    /// <inheritdoc />
    public string Name => "tiny_ml";

    /// <summary>The terms.</summary>
    public IReadOnlyList<PenaltyConstraint> Terms => _terms;

    /// <inheritdoc />
    public double Value(IReadOnlyList<double> metrics)
    {
        double sum = 0;
        foreach (var term in _terms) sum += term.Value(metrics);
        return sum;
    }

    /// <summary>The sum of the terms' violations (0 when every limit holds).</summary>
    public double Violation(IReadOnlyList<double> metrics)
    {
        double sum = 0;
        foreach (var term in _terms) sum += term.Violation(metrics);
        return sum;
    }
}
