namespace NasFlatness.Landscape;

/// <summary>Options of <see cref="LandscapeAnalyzer{TGenotype}"/>.</summary>
public sealed class LandscapeOptions
{
    /// <summary>
    /// When set, neighbourhoods are random samples of this many distinct architectures of S_r (drawn with
    /// <see cref="INeighborhoodSpace{TGenotype}.SampleNeighbor"/>) instead of the whole sphere. Required for
    /// spaces that cannot enumerate spheres (<see cref="INeighborhoodSpace{TGenotype}.CanEnumerate"/> false).
    /// <value>Default <see langword="null"/> (exact spheres).</value>
    /// </summary>
    public int? SampleCount { get; set; }

    /// <summary>Seed of the neighbour sampler; the same seed gives the same samples. <value>Default 0.</value></summary>
    public int Seed { get; set; }

    /// <summary>Largest distance for which all k! paths are listed by <see cref="LandscapeAnalyzer{TGenotype}.ShortestPaths"/>. <value>Default 8 (40,320 paths).</value></summary>
    public int MaxPathListDistance { get; set; } = 8;

    internal void Validate()
    {
        if (SampleCount is < 1) throw new ArgumentException($"LandscapeOptions.SampleCount must be at least 1, got {SampleCount}.", nameof(SampleCount));
        if (MaxPathListDistance < 0) throw new ArgumentException($"LandscapeOptions.MaxPathListDistance must be ≥ 0, got {MaxPathListDistance}.", nameof(MaxPathListDistance));
    }
}
