using NasFlatness.Internal;
using NasFlatness.Evaluation;
using TorchSharp;

namespace NasFlatness.Data;

/// <summary>Options of <see cref="MedMnistClassificationData"/>.</summary>
public sealed class MedMnistClassificationDataOptions
{
    /// <summary>Whether the official validation split is appended to the training split (train on train + val).</summary>
    /// <value>Default false (train on the official train split only, as the MedMNIST benchmarks do).</value>
    public bool IncludeValidationInTraining { get; set; }

    /// <summary>Use only the first this many training images; null uses all.</summary>
    /// <value>Default null.</value>
    public int? MaxTrainExamples { get; set; }

    /// <summary>Use only the first this many test images; null uses all.</summary>
    /// <value>Default null.</value>
    public int? MaxTestExamples { get; set; }

    /// <summary>Zero padding of the random crop of augmented training batches; 0 leaves only the random flip.</summary>
    /// <value>Default 4.</value>
    public int CropPadding { get; set; } = 4;

    /// <summary>Device the images are kept on.</summary>
    /// <value>Default <c>cpu</c>.</value>
    public string Device { get; set; } = "cpu";
}

/// <summary>
/// The final-evaluation data of a MedMNIST dataset: training images (the official train split, optionally with the
/// validation split appended; augmented with a random crop and horizontal flip) and the official test split (not augmented).
/// Both are normalised per channel with the mean and standard deviation of the official train split.
/// </summary>
public sealed class MedMnistClassificationData : IClassificationDataset
{
    private readonly PaddedImageSet _images;
    private readonly int _trainCount, _testCount;

    /// <summary>Builds the evaluation data.</summary>
    /// <exception cref="ArgumentException">The options are out of range.</exception>
    public MedMnistClassificationData(MedMnistData data, MedMnistClassificationDataOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        options ??= new MedMnistClassificationDataOptions();
        if (options.MaxTrainExamples is < 1)
            throw new ArgumentException($"{nameof(options.MaxTrainExamples)} = {options.MaxTrainExamples} is invalid: must be at least 1 (or null for all).", nameof(options));
        if (options.MaxTestExamples is < 1)
            throw new ArgumentException($"{nameof(options.MaxTestExamples)} = {options.MaxTestExamples} is invalid: must be at least 1 (or null for all).", nameof(options));
        if (options.CropPadding < 0 || options.CropPadding > Math.Min(data.Info.Height, data.Info.Width))
            throw new ArgumentException($"{nameof(options.CropPadding)} = {options.CropPadding} is invalid: must be in 0..{Math.Min(data.Info.Height, data.Info.Width)}.", nameof(options));
        if (string.IsNullOrWhiteSpace(options.Device))
            throw new ArgumentException($"{nameof(options.Device)} is empty: use cpu, cuda or cuda:N.", nameof(options));

        int maxTrain = options.MaxTrainExamples ?? int.MaxValue;
        var sources = new List<(MedMnistImages, int, int)> { (data.Train, 0, Math.Min(data.Train.Count, maxTrain)) };
        if (options.IncludeValidationInTraining && maxTrain > data.Train.Count)
            sources.Add((data.Validation, 0, Math.Min(data.Validation.Count, maxTrain - data.Train.Count)));
        _trainCount = sources.Sum(s => s.Item3);
        _testCount = Math.Min(data.Test.Count, options.MaxTestExamples ?? int.MaxValue);
        sources.Add((data.Test, 0, _testCount));
        Info = data.Info;
        RunSupport.RequireAvailable(options.Device);
        _images = new PaddedImageSet(sources, options.CropPadding, data.Train.Mean(), data.Train.Std(), torch.device(options.Device));
    }

    /// <inheritdoc />
    public DatasetInfo Info { get; }

    /// <inheritdoc />
    public int Count(EvaluationSplit split) => split == EvaluationSplit.Train ? _trainCount : _testCount;

    /// <inheritdoc />
    public Batch GetBatch(EvaluationSplit split, ReadOnlySpan<int> indices, bool augment, Random random, torch.Device device)
    {
        ArgumentNullException.ThrowIfNull(random);
        bool train = split == EvaluationSplit.Train;
        var rows = PaddedImageSet.Rows(indices, Count(split), train ? 0 : _trainCount, split.ToString());
        // The test split is never augmented.
        return _images.Get(rows, augment && train, random, device);
    }

    /// <summary>Releases the device-resident images.</summary>
    public void Dispose() => _images.Dispose();
}
