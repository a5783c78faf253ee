using NasFlatness.Genotypes;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.Optimizers.Tests;

internal static class TestHelpers
{
    public static Batch RandomBatch(int seed, int n = 8)
    {
        var g = new torch.Generator((ulong)seed);
        return new Batch(torch.randn([n, TinyLinearSupernet.Features], dtype: float64, generator: g),
            torch.randint(TinyLinearSupernet.Classes, [n], generator: g));
    }

    public static Batch RandomImages(int seed, int n = 8, int classes = 10)
    {
        var g = new torch.Generator((ulong)seed);
        return new Batch(torch.randn([n, 3, 32, 32], generator: g), torch.randint(classes, [n], generator: g));
    }

    /// <summary>A step of a 50-epoch search under <paramref name="activation"/> (default softmax); with <paramref name="regularizers"/>, its
    /// validation loss carries their loss terms.</summary>
    public static ArchitectureStep Step(Supernet net, Batch train, Batch valid, int epoch = 0, long globalStep = 0, IReadOnlyList<IFlatnessRegularizer>? regularizers = null,
        IArchitectureActivation? activation = null)
    {
        var step = new ArchitectureStep(net, train, valid, new WeightOptimizerState(0.1, 0.9, 3e-4), activation ?? SoftmaxActivation.Instance, new SearchClock(epoch, 50, 0, 1, globalStep));
        return regularizers is null ? step : step.WithLossTerms(regularizers.Select(r => r.Contribute(step).LossTerm).OfType<ArchitectureLossTerm>());
    }
}

/// <summary>Delegates to another supernet and counts forward passes.</summary>
internal sealed class CountingSupernet : Supernet
{
    private readonly Supernet inner;

    public CountingSupernet(Supernet inner) : base(nameof(CountingSupernet))
    {
        this.inner = inner;
        RegisterComponents();
    }

    public int Forwards { get; set; }

    public override IReadOnlyList<Parameter> ArchitectureParameters() => inner.ArchitectureParameters();

    public override Tensor Forward(Tensor input, IReadOnlyList<Tensor> architecture, IArchitectureActivation activation)
    {
        Forwards++;
        return inner.Forward(input, architecture, activation);
    }

    public override Genotype DeriveGenotype(IReadOnlyList<Tensor> architecture, IArchitectureActivation activation) => inner.DeriveGenotype(architecture, activation);
}

internal static class TensorAssert
{
    public static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.dtype == b.dtype && a.eq(b).all().item<bool>();
}
