namespace NasFlatness;

/// <summary>Where a search stands: the clock that every hook record (<see cref="EpochStart"/>, <see cref="WeightStep"/>,
/// <see cref="ScheduleContext"/>, <see cref="ArchitectureStep"/>) carries.</summary>
/// <param name="Epoch">Zero-based epoch.</param>
/// <param name="TotalEpochs">Number of epochs of the search.</param>
/// <param name="Step">Zero-based step within the epoch (0 at an epoch start).</param>
/// <param name="StepsPerEpoch">Steps (training minibatches) per epoch.</param>
/// <param name="GlobalStep">Zero-based step over the whole search.</param>
public readonly record struct SearchClock(int Epoch, int TotalEpochs, int Step, int StepsPerEpoch, long GlobalStep)
{
    /// <summary>The clock at <paramref name="step"/> of <paramref name="epoch"/>, with <see cref="GlobalStep"/> = epoch · steps per epoch + step.</summary>
    public static SearchClock At(int epoch, int totalEpochs, int step, int stepsPerEpoch) =>
        new(epoch, totalEpochs, step, stepsPerEpoch, (long)epoch * stepsPerEpoch + step);

    /// <summary>The fractional epoch clock t / T in [0, 1): (epoch + step / steps per epoch) / total epochs (a zero count counts as 1).</summary>
    public double Progress => (Epoch + (double)Step / Math.Max(1, StepsPerEpoch)) / Math.Max(1, TotalEpochs);
}
