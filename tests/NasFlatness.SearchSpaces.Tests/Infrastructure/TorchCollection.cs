using TorchSharp;
using Xunit;

namespace NasFlatness.SearchSpaces.Tests;

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
        // One intra-op thread: these tests run many tiny convolutions, for which libtorch's OpenMP synchronisation
        // costs more than it gains, catastrophically so on the shared 2-core machine (10-100x slower with 2 threads
        // when other processes are busy); it also keeps the resume-equality checks bit-stable.
        torch.set_num_threads(1);
    }
}
