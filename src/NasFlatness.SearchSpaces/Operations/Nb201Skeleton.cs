using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.SearchSpaces.Operations;

/// <summary>
/// The NAS-Bench-201 macro skeleton shared by its supernets and its discrete network: stem, three stages of N cells
/// (C, 2C, 4C channels) separated by <see cref="ResNetBasicBlock"/> reductions, and the <see cref="ClassifierHead"/>.
/// A network keeps the three parts as its own fields (so parameter names stay <c>stem.…</c>, <c>layers.…</c>, <c>head.…</c>)
/// and runs them with <see cref="Forward"/>. Use it for any space with the NAS-Bench-201 macro structure.
/// </summary>
public static class Nb201Skeleton
{
    /// <summary>Builds the stem, the layer list (cells and reduction blocks in order) and the head, in that creation order.</summary>
    /// <param name="channels">Channels C of the first stage.</param>
    /// <param name="cellsPerStage">Cells N per stage.</param>
    /// <param name="dataset">Image channels and class count.</param>
    /// <param name="createCell">Creates one cell for a stage width.</param>
    public static (Stem Stem, ModuleList<nn.Module<Tensor, Tensor>> Layers, ClassifierHead Head) Build(
        long channels, int cellsPerStage, DatasetInfo dataset, Func<long, nn.Module<Tensor, Tensor>> createCell)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(createCell);
        var stem = new Stem(dataset.Channels, channels);
        var layers = new ModuleList<nn.Module<Tensor, Tensor>>();
        for (int stage = 0; stage < 3; stage++)
        {
            long width = channels << stage;
            if (stage > 0) layers.Add(new ResNetBasicBlock(width / 2, width));
            for (int i = 0; i < cellsPerStage; i++) layers.Add(createCell(width));
        }
        return (stem, layers, new ClassifierHead(channels * 4, dataset.ClassCount));
    }

    /// <summary>
    /// Runs stem, layers and head; <paramref name="runLayer"/> runs one layer on its input (cells that need mixing weights
    /// are called there; other layers with <c>forward</c>). Intermediate feature maps are disposed as soon as they are used.
    /// </summary>
    public static Tensor Forward(Stem stem, ModuleList<nn.Module<Tensor, Tensor>> layers, ClassifierHead head, Tensor input,
        Func<nn.Module<Tensor, Tensor>, Tensor, Tensor>? runLayer = null)
    {
        ArgumentNullException.ThrowIfNull(stem);
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(head);
        var x = stem.forward(input);
        foreach (var layer in layers)
        {
            var next = runLayer is null ? layer.forward(x) : runLayer(layer, x);
            x.Dispose(); // autograd keeps what it needs
            x = next;
        }
        using (x) return head.forward(x);
    }
}
