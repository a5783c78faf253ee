using TorchSharp;
using Xunit;

namespace NasFlatness.Optimizers.Tests;

/// <summary>Torch tests share global state (seed, threads): they run one at a time in this collection.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchCollection : ICollectionFixture<TorchFixture>
{
    public const string Name = "torch";
}

public sealed class TorchFixture
{
    public TorchFixture()
    {
        TorchRuntime.EnsureCorrectCpuKernels();
        torch.set_num_threads(Math.Max(1, Environment.ProcessorCount));
    }
}
