namespace NasFlatness;

/// <summary>
/// A search component (usually an <see cref="ISearchObserver"/> in <see cref="Search.SearchRunner.Observers"/>) that
/// contributes named numbers to every epoch's <see cref="EpochRecord.Metrics"/>. The runner calls
/// <see cref="AddEpochMetrics"/> once per epoch, after the epoch's steps and its end-of-epoch validation and before
/// <see cref="ISearchObserver.OnEpochCompleted"/>, on the search thread; the supernet holds the epoch's final α and weights.
/// </summary>
public interface IEpochMetricsProvider
{
    /// <summary>Adds this component's measurements of epoch <paramref name="epoch"/> to <paramref name="metrics"/>.</summary>
    /// <param name="epoch">Zero-based epoch that just ended.</param>
    /// <param name="metrics">The epoch's metrics so far; use names unique to the component (a duplicate name overwrites).</param>
    void AddEpochMetrics(int epoch, IDictionary<string, double> metrics);
}
