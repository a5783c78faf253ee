using NasFlatness.Advanced;
using TorchSharp;
using Xunit;

namespace NasFlatness.Testing;

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
        NasFlatness.Advanced.TorchRuntime.EnsureCorrectCpuKernels();
        // One intra-op thread: the tests run many tiny convolutions, for which libtorch's OpenMP synchronisation
        // costs more than it gains (10-100x slower with 2 threads whenever another process is busy on the 2-core
        // machine); it also keeps the bit-for-bit reproducibility checks independent of thread scheduling.
        torch.set_num_threads(1);
    }
}
