namespace NasFlatness.SearchSpaces.Nb201;

/// <summary>Shape of NAS-Bench-201 networks (docs/spec/algorithms.md §1.1). Defaults are the benchmark's: C = 16, N = 5.</summary>
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

    /// <summary>
    /// Whether the search cells of the plain supernet normalise every node: an affine-free BatchNorm (running statistics as
    /// <see cref="TrackRunningStats"/>) after the sum of each intermediate and output node (DARTS-PRIME's "CRB" cells, which replace the
    /// normalisation softmax gave with the unit-clamp activation). Not available with <see cref="PartialChannels"/>. Discrete networks are unchanged.
    /// </summary>
    /// <value>Default false.</value>
    public bool NodeBatchNorm { get; set; }

    /// <summary>Use a PC-DARTS partial-channel supernet (<see cref="Nb201PartialChannelSupernet"/>) instead of the plain one.</summary>
    /// <value>Default false.</value>
    public bool PartialChannels { get; set; }

    /// <summary>Channel proportion K of the partial-channel supernet: 1/K of the channels go through the mixed operations;
    /// <see cref="Channels"/> must be divisible by K.</summary>
    /// <value>Default 4 (PC-DARTS).</value>
    public int PartialChannelProportion { get; set; } = 4;

    /// <summary>Whether partial channels are sampled per edge (official PC-DARTS) or per cell (the A²M repository's variant).</summary>
    /// <value>Default <see cref="PartialChannelScope.PerEdge"/>.</value>
    public PartialChannelScope PartialChannelScope { get; set; } = PartialChannelScope.PerEdge;

    /// <summary>Whether the partial-channel supernet has PC-DARTS edge normalisation (an extra architecture tensor β).</summary>
    /// <value>Default true (PC-DARTS); the A²M repository's variant has none.</value>
    public bool EdgeNormalization { get; set; } = true;

    /// <summary>Every problem with the options, each naming the field; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Channels < 1) errors.Add($"{nameof(Channels)} = {Channels} is invalid: must be at least 1.");
        if (CellsPerStage < 1) errors.Add($"{nameof(CellsPerStage)} = {CellsPerStage} is invalid: must be at least 1.");
        if (PartialChannels && NodeBatchNorm)
            errors.Add($"{nameof(NodeBatchNorm)} = true is invalid with {nameof(PartialChannels)} = true: only the plain supernet has node BatchNorms.");
        if (PartialChannels)
        {
            if (PartialChannelProportion < 1)
                errors.Add($"{nameof(PartialChannelProportion)} = {PartialChannelProportion} is invalid: must be at least 1.");
            else if (Channels >= 1 && Channels % PartialChannelProportion != 0)
                errors.Add($"{nameof(PartialChannelProportion)} = {PartialChannelProportion} is invalid: {nameof(Channels)} = {Channels} must be divisible by it.");
            if (!Enum.IsDefined(PartialChannelScope))
                errors.Add($"{nameof(PartialChannelScope)} = {PartialChannelScope} is invalid: must be PerEdge or PerCell.");
        }
        return errors;
    }

    /// <summary>Returns a copy.</summary>
    public Nb201Options Clone() => (Nb201Options)MemberwiseClone();
}
