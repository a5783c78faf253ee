using Microsoft.Extensions.Logging;

namespace NasFlatness.Search;

internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Search started: space {Space}, optimizer {Optimizer}, regularizers [{Regularizers}], {Epochs} epochs, {StepsPerEpoch} steps/epoch, device {Device}, seed {Seed}")]
    public static partial void SearchStarted(ILogger logger, string space, string optimizer, string regularizers, int epochs, int stepsPerEpoch, string device, int seed);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Epoch {Epoch}: train loss {TrainLoss:F4}, train acc {TrainAccuracy:P2}, valid loss {ValidationLoss:F4}, valid acc {ValidationAccuracy:P2}, mean max weight {MeanMaxWeight:F3}, {Seconds:F1} s, genotype {Genotype}")]
    public static partial void EpochCompleted(ILogger logger, int epoch, double trainLoss, double trainAccuracy, double validationLoss, double validationAccuracy, double meanMaxWeight, double seconds, string genotype);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Resuming from checkpoint {Path} after epoch {Epoch}")]
    public static partial void Resuming(ILogger logger, string path, int epoch);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Stopping early after epoch {Epoch}: no validation-loss improvement for {Patience} epochs")]
    public static partial void StoppedEarly(ILogger logger, int epoch, int patience);

    [LoggerMessage(EventId = 5, Level = LogLevel.Debug, Message = "Checkpoint written to {Path} after epoch {Epoch}")]
    public static partial void CheckpointWritten(ILogger logger, string path, int epoch);

    [LoggerMessage(EventId = 6, Level = LogLevel.Information, Message = "Search finished: genotype {Genotype} (epoch {Epoch}, rule {Rule}) in {Seconds:F1} s")]
    public static partial void SearchFinished(ILogger logger, string genotype, int epoch, SelectionRule rule, double seconds);

    [LoggerMessage(EventId = 7, Level = LogLevel.Information, Message = "CPU convolutions: {Kernels}")]
    public static partial void CpuKernels(ILogger logger, string kernels);

    [LoggerMessage(EventId = 8, Level = LogLevel.Warning, Message = "Checkpoint folder lock: {Message}")]
    public static partial void StaleLock(ILogger logger, string message);
}
