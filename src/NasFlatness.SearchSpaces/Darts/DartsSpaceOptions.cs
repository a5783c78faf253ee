namespace NasFlatness.SearchSpaces.Darts;

/// <summary>Which candidate operations a DARTS-space supernet mixes (docs/spec/algorithms.md §1.2).</summary>
public enum DartsOperationSet
{
    /// <summary>The eight operations of the DARTS paper: <c>none, max_pool_3x3, avg_pool_3x3, skip_connect, sep_conv_3x3, sep_conv_5x5, dil_conv_3x3, dil_conv_5x5</c>.</summary>
    Standard,

    /// <summary>The seven operations without <c>none</c> that the A²M and β-DARTS code search ("s5").</summary>
    NoNone,
}

/// <summary>Macro shape of DARTS-space evaluation networks (docs/spec/algorithms.md §11.2, §11.3).</summary>
public enum DartsNetworkKind
{
    /// <summary>CIFAR network: stem Conv3×3(3→3C) + BN, auxiliary head after cell 2·cells/3 (AvgPool 5, stride 3).</summary>
    Cifar,

    /// <summary>ImageNet mobile-setting network: two stride-2 stems (three stride-2 convolutions), auxiliary head with AvgPool 5, stride 2.</summary>
    ImageNet,
}

/// <summary>
/// Options of the DARTS search space: the supernet shape (C = 16, 8 cells), the operation set, the
/// PC-DARTS options (partial channels, edge normalisation) and the evaluation-network shape
/// (CIFAR: C = 36, 20 cells, auxiliary head). Defaults are the DARTS paper's.
/// </summary>
public sealed class DartsSpaceOptions
{
    /// <summary>Candidate operations of the supernet (the column order of α).</summary>
    /// <value>Default <see cref="DartsOperationSet.Standard"/> (8 operations).</value>
    public DartsOperationSet Operations { get; set; } = DartsOperationSet.Standard;

    /// <summary>Initial channels C of the search supernet.</summary>
    /// <value>Default 16.</value>
    public int Channels { get; set; } = 16;

    /// <summary>Cells of the search supernet (reduction cells at cells/3 and 2·cells/3).</summary>
    /// <value>Default 8.</value>
    public int Cells { get; set; } = 8;

    /// <summary>
    /// PC-DARTS partial channels K: each mixed edge processes 1/K of its channels and passes the rest through
    /// (max-pooled on stride-2 edges), followed by a channel shuffle with K groups. 1 turns it off.
    /// </summary>
    /// <value>Default 1 (off); PC-DARTS uses 4.</value>
    public int PartialChannels { get; set; } = 1;

    /// <summary>PC-DARTS edge normalisation: extra architecture parameters β_normal, β_reduce ∈ R^14, softmax over each node's incoming edges.</summary>
    /// <value>Default false.</value>
    public bool EdgeNormalization { get; set; }

    /// <summary>Whether the affine-free BatchNorms of the search supernet track running statistics (the reference code does).</summary>
    /// <value>Default true.</value>
    public bool TrackRunningStats { get; set; } = true;

    /// <summary>Macro shape of evaluation networks built by <c>CreateNetwork</c>.</summary>
    /// <value>Default <see cref="DartsNetworkKind.Cifar"/>.</value>
    public DartsNetworkKind NetworkKind { get; set; } = DartsNetworkKind.Cifar;

    /// <summary>Initial channels C of evaluation networks.</summary>
    /// <value>Default 36 (CIFAR); the ImageNet mobile setting uses 48.</value>
    public int NetworkChannels { get; set; } = 36;

    /// <summary>Cells of evaluation networks.</summary>
    /// <value>Default 20 (CIFAR); the ImageNet mobile setting uses 14.</value>
    public int NetworkCells { get; set; } = 20;

    /// <summary>Whether evaluation networks have the auxiliary head after cell 2·cells/3.</summary>
    /// <value>Default true.</value>
    public bool AuxiliaryHead { get; set; } = true;

    /// <summary>The ImageNet mobile setting for evaluation networks: C = 48, 14 cells, ImageNet stems, auxiliary head.</summary>
    public static DartsSpaceOptions ImageNetMobile() => new() { NetworkKind = DartsNetworkKind.ImageNet, NetworkChannels = 48, NetworkCells = 14 };

    /// <summary>PC-DARTS supernet (partial channels K = 4 and edge normalisation); other options at their defaults.</summary>
    public static DartsSpaceOptions PcDarts() => new() { PartialChannels = 4, EdgeNormalization = true };

    /// <summary>Every problem with the options, each naming the field; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!Enum.IsDefined(Operations)) errors.Add($"{nameof(Operations)} = {Operations} is not a known operation set.");
        if (!Enum.IsDefined(NetworkKind)) errors.Add($"{nameof(NetworkKind)} = {NetworkKind} is not a known network kind.");
        if (Channels < 2 || Channels % 2 != 0) errors.Add($"{nameof(Channels)} = {Channels} is invalid: must be even and at least 2 (FactorizedReduce halves it).");
        if (Cells < 3) errors.Add($"{nameof(Cells)} = {Cells} is invalid: must be at least 3 (two reduction cells and a normal cell).");
        if (NetworkChannels < 2 || NetworkChannels % 2 != 0) errors.Add($"{nameof(NetworkChannels)} = {NetworkChannels} is invalid: must be even and at least 2 (FactorizedReduce halves it).");
        if (NetworkCells < 3) errors.Add($"{nameof(NetworkCells)} = {NetworkCells} is invalid: must be at least 3.");
        if (PartialChannels < 1) errors.Add($"{nameof(PartialChannels)} = {PartialChannels} is invalid: must be at least 1 (1 = off).");
        else if (Channels % PartialChannels != 0)
            errors.Add($"{nameof(Channels)} = {Channels} is not divisible by {nameof(PartialChannels)} = {PartialChannels}; every partial edge needs C/K channels.");
        if (PartialChannels > 1 && (Channels / PartialChannels) % 2 != 0)
            errors.Add($"{nameof(Channels)} / {nameof(PartialChannels)} = {Channels / PartialChannels} must be even (the partial skip_connect on stride-2 edges is a FactorizedReduce).");
        return errors;
    }

    /// <summary>Returns a copy.</summary>
    public DartsSpaceOptions Clone() => (DartsSpaceOptions)MemberwiseClone();
}
