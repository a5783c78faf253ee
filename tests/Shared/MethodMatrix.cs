namespace NasFlatness.Testing;

/// <summary>The method matrix's expectations, shared by the tool's and the dependency-injection matrix tests.</summary>
internal static class MethodMatrix
{
    /// <summary>The combinations that cannot run, and the supernet feature their space lacks (docs/cli.md, "Method matrix").</summary>
    public static readonly IReadOnlyDictionary<(string Space, string Method), string> Refused = new Dictionary<(string, string), string>
    {
        // The A²M repository's PC-DARTS samples channels once per cell, which only the NAS-Bench-201 supernet offers.
        [("darts", "pc-darts-a2m-repo")] = "PerCellPartialChannels",
        [("darts", "pc-darts-a2m-repo+a2m")] = "PerCellPartialChannels",
        // DARTS-PRIME's unit clamp needs the BatchNorm after each node's sum that softmax's normalisation gave (NAS-Bench-201 only).
        [("darts", "darts-clamp")] = "NodeBatchNorm",
        [("nas-bench-201-varied", "darts-clamp")] = "NodeBatchNorm",
        // The ZO-DARTS++ budget penalty needs the parameter model of the ZO-DARTS++ space.
        [("nas-bench-201", "zo-darts++-small")] = "ParameterBudgetModel",
        [("nas-bench-201", "zo-darts++-medium")] = "ParameterBudgetModel",
        [("nas-bench-201", "zo-darts++-large")] = "ParameterBudgetModel",
        [("darts", "zo-darts++-small")] = "ParameterBudgetModel",
        [("darts", "zo-darts++-medium")] = "ParameterBudgetModel",
        [("darts", "zo-darts++-large")] = "ParameterBudgetModel",
        // The ZO-DARTS++ space has no partial-channel supernet.
        [("nas-bench-201-varied", "pc-darts")] = "PartialChannels",
        [("nas-bench-201-varied", "pc-darts+a2m")] = "PartialChannels",
        [("nas-bench-201-varied", "pc-darts-a2m-repo")] = "PerCellPartialChannels",
        [("nas-bench-201-varied", "pc-darts-a2m-repo+a2m")] = "PerCellPartialChannels",
    };

    /// <summary>
    /// Training images of a matrix search at batch 8: 800 (100 steps) for DARTS-PRIME's dynamic schedule, whose threshold grows for
    /// tens of minibatches before its first α step; 80 (10 steps) for a ZO round of 10 and the cheap spaces; 24 (3 steps) in the
    /// costly DARTS space (8 operations on 14 edges per cell).
    /// </summary>
    public static int Images(string space, string? schedule) => schedule switch
    {
        "dynamic" => 800,
        "every-10-steps" => 80,
        _ => space == "darts" ? 24 : 80,
    };

    /// <summary>Supernet channels C of a matrix search: 4, or 8 for partial channels in the DARTS space, whose C / K must be even (K = 4).</summary>
    public static int Channels(string space, bool partialChannels) => space == "darts" && partialChannels ? 8 : 4;
}
