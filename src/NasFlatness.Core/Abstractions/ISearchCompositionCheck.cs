namespace NasFlatness;

/// <summary>
/// A search component (activation, update schedule, architecture optimizer, regularizer or observer) that cannot be
/// combined with some others, e.g. an activation under which a softmax-specific regularizer has no meaning. The search
/// runner asks every component that implements it at the start of <c>SearchRunner.Run</c>, before any compute, and
/// refuses the search with an <see cref="ArgumentException"/> that lists every problem.
/// </summary>
public interface ISearchCompositionCheck
{
    /// <summary>
    /// The problems of composing this component with <paramref name="components"/> (the search's activation, schedule,
    /// optimizer, regularizers and observers, in the order their hooks are called; this component is among them). Each
    /// message names the components involved and what to use instead. Empty when the composition is fine.
    /// </summary>
    IEnumerable<string> CheckComposition(IReadOnlyList<ISearchObserver> components);
}
