namespace NasFlatness.SearchSpaces.Nb201;

/// <summary>Where a partial-channel (PC-DARTS) supernet samples its 1/K channels.</summary>
public enum PartialChannelScope
{
    /// <summary>Official PC-DARTS: every mixed edge runs its operations on the first C/K channels of its input, passes the
    /// rest through, and channel-shuffles the result (groups K).</summary>
    PerEdge,

    /// <summary>The A²M repository's NAS-Bench-201 variant (<c>forward_mode='pc'</c>): the first C/K channels run through
    /// the whole cell DAG (operations built for C/K channels), the other channels are concatenated to the cell output, which
    /// is then channel-shuffled (groups K).</summary>
    PerCell,
}
