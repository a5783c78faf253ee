namespace NasFlatness.SearchSpaces.Nb201;

/// <summary>Shape of NAS-Bench-201 networks (algorithms.md §1.1). Defaults are the benchmark's: C = 16, N = 5.</summary>
public sealed class Nb201Options
{
    /// <summary>Channels C of the first stage (stages have C, 2C, 4C).</summary>
    /// <value>Default 16.</value>
    public int Channels { get; set; } = 16;

    /// <summary>Cells per stage N (the network has 3N cells and 2 residual reduction blocks).</summary>
    /// <value>Default 5.</value>
    public int CellsPerStage { get; set; } = 5;

    /// <summary>Whether the affine-free BatchNorms of the search cells track running statistics (the A²M and β-DARTS code do).</summary>
    /// <value>Default true.</value>
    public bool TrackRunningStats { get; set; } = true;

    /// <summary>Every problem with the options, each naming the field; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Channels < 1) errors.Add($"{nameof(Channels)} = {Channels} is invalid: must be at least 1.");
        if (CellsPerStage < 1) errors.Add($"{nameof(CellsPerStage)} = {CellsPerStage} is invalid: must be at least 1.");
        return errors;
    }

    /// <summary>Returns a copy.</summary>
    public Nb201Options Clone() => (Nb201Options)MemberwiseClone();
}
