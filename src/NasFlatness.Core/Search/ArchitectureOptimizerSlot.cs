using TorchSharp;
using TorchSharp.Modules;

namespace NasFlatness.Search;

/// <summary>The architecture Adam over the supernet's active architecture tensors (<see cref="Supernet.IsArchitectureTensorActive"/>), re-created when that set changes.</summary>
internal sealed class ArchitectureOptimizerSlot(Supernet supernet, SearchOptions options) : IDisposable
{
    private OptimizerHelper? _current;
    private bool[] _active = [];

    public OptimizerHelper Current => _current ?? Renew();

    public bool IsStale => !_active.SequenceEqual(ActiveFlags());

    private bool[] ActiveFlags() => Enumerable.Range(0, supernet.ArchitectureParameters().Count).Select(supernet.IsArchitectureTensorActive).ToArray();

    public OptimizerHelper Renew()
    {
        _current?.Dispose();
        _active = ActiveFlags();
        var all = supernet.ArchitectureParameters();
        var active = all.Where((_, i) => _active[i]).ToArray();
        _current = torch.optim.Adam(active, options.ArchitectureLearningRate, options.ArchitectureBeta1, options.ArchitectureBeta2, 1e-8, options.ArchitectureWeightDecay);
        return _current;
    }

    public void Dispose() => _current?.Dispose();
}
