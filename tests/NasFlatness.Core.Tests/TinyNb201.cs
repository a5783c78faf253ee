using NasFlatness.Data;
using NasFlatness.Search;
using NasFlatness.SearchSpaces.Nb201;

namespace NasFlatness.Tests;

/// <summary>CPU-sized configurations used across tests.</summary>
internal static class Tiny
{
    public static Nb201SearchSpace Space(int channels = 4, int cells = 1) => new(new Nb201Options { Channels = channels, CellsPerStage = cells });

    public static CifarSearchData Data(int train = 256, int valid = 256) =>
        new(TestData.Cifar10Train, new CifarSearchDataOptions { MaxTrainExamples = train, MaxValidationExamples = valid });

    public static SearchOptions Options(int epochs = 2, int seed = 1) => new()
    {
        Epochs = epochs,
        BatchSize = 32,
        Seed = seed,
        ArchitectureLearningRate = 3e-2,
        EpochValidationBatches = 2,
    };
}
