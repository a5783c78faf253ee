namespace NasFlatness.Landscape;

/// <summary>
/// Maps an architecture to a number: a tabular benchmark metric (<see cref="Nb201Table.Scorer"/>), a user
/// function (<see cref="ArchitectureScorer.FromFunction{TGenotype}"/>), a surrogate model, or the accuracy a
/// supernet gives the architecture. Scorers may be expensive: the landscape tools evaluate each distinct
/// architecture at most once per <see cref="LandscapeAnalyzer{TGenotype}"/>.
/// </summary>
/// <typeparam name="TGenotype">The genotype type of the search space.</typeparam>
public interface IArchitectureScorer<in TGenotype> where TGenotype : notnull
{
    /// <summary>Short description of what the score is, e.g. <c>NAS-Bench-201 cifar10/test-accuracy</c>.</summary>
    string Name { get; }

    /// <summary>The score of <paramref name="genotype"/> (e.g. an accuracy in percent, or a loss).</summary>
    double Score(TGenotype genotype);
}
