namespace NasFlatness.Search;

/// <summary>The runner's ownership of the components it was created with by a registry.</summary>
public sealed partial class SearchRunner : IDisposable
{
    private List<IDisposable> _owned = [];
    private bool _disposed;

    /// <summary>
    /// Disposes the disposable components this runner owns: those a registry created for it
    /// (<see cref="NasFlatnessRegistry.CreateRunner"/>), never ones passed to its constructor. Idempotent; a disposed runner does not run.
    /// </summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        var owned = _owned;
        _owned = [];
        for (int i = owned.Count - 1; i >= 0; i--) owned[i].Dispose();
    }

    /// <summary>Makes this runner dispose the disposable ones of <paramref name="components"/> (each once) when it is disposed.</summary>
    internal SearchRunner Own(IEnumerable<object> components)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        foreach (var c in components)
            if (c is IDisposable d && !_owned.Any(o => ReferenceEquals(o, d))) _owned.Add(d);
        return this;
    }

    /// <summary>Hands this runner's owned components to <paramref name="successor"/> (a runner built from the same components), which then disposes them.</summary>
    internal SearchRunner TransferOwnershipTo(SearchRunner successor)
    {
        ArgumentNullException.ThrowIfNull(successor);
        ObjectDisposedException.ThrowIf(_disposed, this);
        successor.Own(_owned);
        _owned = [];
        return successor;
    }
}
