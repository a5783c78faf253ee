using System.Globalization;

namespace NasFlatness.SearchSpaces.ZoDartsPlusPlus;

/// <summary>How <see cref="ZoDartsPlusPlusSupernet.DeriveGenotype(IReadOnlyList{TorchSharp.torch.Tensor}, IArchitectureActivation)"/> turns the mixing weights into a genotype.</summary>
public enum VariedDerivation
{
    /// <summary>Draw every edge's operation, every kernel-variable edge's kernel and every stage's cell count from the activated
    /// distributions, with a generator seeded by <see cref="ZoDartsPlusPlusOptions.DerivationSeed"/> (the official code's
    /// <c>StructureSampler</c>, <c>np.random.choice(ops, p = …)</c>).</summary>
    Sampled,

    /// <summary>The largest logit of every row (ties to the lower column), as the code's <c>genotype()</c> prints it.</summary>
    Argmax,
}

/// <summary>
/// Shape and schedule of the ZO-DARTS++ size-variable space <c>nas-bench-201-varied</c> (docs/methods-zo.md). Defaults follow the
/// official code (<c>search_model_ZO_SMEA.py</c>, <c>ZO-DARTS_SAMVR.py</c>): C = 16, N = 3 cells per stage, the switch at epoch 20,
/// batch statistics only in the search cells, the sampled final architecture.
/// </summary>
public sealed class ZoDartsPlusPlusOptions
{
    /// <summary>Channels C of the first stage (stages have C, 2C, 4C).</summary>
    /// <value>Default 16.</value>
    public int Channels { get; set; } = 16;

    /// <summary>Cells N per stage of the supernet (α_exit chooses 1..N of them per stage); also the cell count of a stage before the switch.</summary>
    /// <value>Default 3 (the code).</value>
    public int CellsPerStage { get; set; } = 3;

    /// <summary>First zero-based epoch with the kernel mixture α_mix and the depth mixture α_exit (the code's <c>epoch_threshold</c>).</summary>
    /// <value>Default 20 (of 50).</value>
    public int SwitchEpoch { get; set; } = 20;

    /// <summary>Whether the affine-free BatchNorms of the search cells track running statistics.</summary>
    /// <value>Default false (the code searches with batch statistics; ZO-DARTS requires it).</value>
    public bool TrackRunningStats { get; set; }

    /// <summary>How the genotype is derived from α, α_mix and α_exit.</summary>
    /// <value>Default <see cref="VariedDerivation.Sampled"/> (the code).</value>
    public VariedDerivation Derivation { get; set; } = VariedDerivation.Sampled;

    /// <summary>Seed of the sampled derivation: the same mixing weights and seed give the same genotype.</summary>
    /// <value>Default 0.</value>
    public int DerivationSeed { get; set; }

    /// <summary>Architectures sampled (uniformly) to derive the parameter budgets as percentiles.</summary>
    /// <value>Default 10,000.</value>
    public int BudgetSamples { get; set; } = 10_000;

    /// <summary>Every problem with the options, each naming the field; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        void Check(bool ok, string field, object value, string expected)
        {
            if (!ok) errors.Add(string.Create(CultureInfo.InvariantCulture, $"{field} = {value} is invalid: {expected}."));
        }
        Check(Channels >= 1, nameof(Channels), Channels, "must be at least 1");
        Check(CellsPerStage >= 1, nameof(CellsPerStage), CellsPerStage, "must be at least 1");
        Check(SwitchEpoch >= 0, nameof(SwitchEpoch), SwitchEpoch, "must be non-negative");
        Check(Enum.IsDefined(Derivation), nameof(Derivation), Derivation, "must be Sampled or Argmax");
        Check(BudgetSamples >= 10, nameof(BudgetSamples), BudgetSamples, "must be at least 10");
        return errors;
    }

    /// <summary>Returns a copy.</summary>
    public ZoDartsPlusPlusOptions Clone() => (ZoDartsPlusPlusOptions)MemberwiseClone();
}
