using Microsoft.Extensions.Logging;

namespace NasFlatness.Evaluation;

internal static partial class Log
{
    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Evaluation started: {Parameters} parameters ({ParametersWithoutAuxiliary} without auxiliary head), {Epochs} epochs, {StepsPerEpoch} steps/epoch, device {Device}, seed {Seed}")]
    public static partial void Started(ILogger logger, long parameters, long parametersWithoutAuxiliary, int epochs, int stepsPerEpoch, string device, int seed);

    [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "Evaluation epoch {Epoch}: lr {LearningRate:G4}, drop-path {DropPath:F3}, train loss {TrainLoss:F4}, train acc {TrainAccuracy:P2}, test acc {TestAccuracy}, {Seconds:F1} s")]
    public static partial void EpochCompleted(ILogger logger, int epoch, double learningRate, double dropPath, double trainLoss, double trainAccuracy, string testAccuracy, double seconds);

    [LoggerMessage(EventId = 103, Level = LogLevel.Information, Message = "Resuming evaluation from checkpoint {Path} after epoch {Epoch}")]
    public static partial void Resuming(ILogger logger, string path, int epoch);

    [LoggerMessage(EventId = 104, Level = LogLevel.Debug, Message = "Evaluation checkpoint written to {Path} after epoch {Epoch}")]
    public static partial void CheckpointWritten(ILogger logger, string path, int epoch);

    [LoggerMessage(EventId = 105, Level = LogLevel.Information, Message = "Evaluation finished: test accuracy {TestAccuracy:P2}, test loss {TestLoss:F4}, {Seconds:F1} s")]
    public static partial void Finished(ILogger logger, double testAccuracy, double testLoss, double seconds);

    [LoggerMessage(EventId = 106, Level = LogLevel.Warning, Message = "Checkpoint folder lock: {Message}")]
    public static partial void StaleLock(ILogger logger, string message);
}
