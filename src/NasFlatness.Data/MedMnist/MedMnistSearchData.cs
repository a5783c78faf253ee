using NasFlatness.Internal;
using TorchSharp;

namespace NasFlatness.Data;

/// <summary>Where the α-training (validation) split of <see cref="MedMnistSearchData"/> comes from.</summary>
public enum MedMnistSearchSplit
{
    /// <summary>Weights train on the official train split, α on the official validation split (the test split stays untouched).</summary>
    OfficialTrainAndValidation,

    /// <summary>The official train split divided by index: <c>[0, n·portion)</c> trains the weights, the rest trains α (DARTS <c>train_portion</c>).</summary>
    SplitTrain,
}

/// <summary>Options of <see cref="MedMnistSearchData"/>.</summary>
public sealed class MedMnistSearchDataOptions
{
    /// <summary>Which images train the weights and which train α.</summary>
    /// <value>
    /// Default <see cref="MedMnistSearchSplit.OfficialTrainAndValidation"/> (α on the validation split; docs/spec/algorithms.md §2.1).
    /// </value>
    public MedMnistSearchSplit Split { get; set; } = MedMnistSearchSplit.OfficialTrainAndValidation;

    /// <summary>Fraction of the official train split that trains the weights when <see cref="Split"/> is <see cref="MedMnistSearchSplit.SplitTrain"/>.</summary>
    /// <value>Default 0.5.</value>
    public double TrainPortion { get; set; } = 0.5;

    /// <summary>Use only the first this many examples of the weight-training split; null uses all.</summary>
    /// <value>Default null.</value>
    public int? MaxTrainExamples { get; set; }

    /// <summary>Use only the first this many examples of the validation split; null uses all.</summary>
    /// <value>Default null.</value>
    public int? MaxValidationExamples { get; set; }

    /// <summary>Zero padding of the random crop in pixels (the crop keeps the image size); 0 leaves only the random flip.</summary>
    /// <value>Default 4 (as for CIFAR).</value>
    public int CropPadding { get; set; } = 4;

    /// <summary>Device the images are kept on (batches are cropped, flipped and normalised there).</summary>
    /// <value>Default <c>cpu</c>.</value>
    public string Device { get; set; } = "cpu";
}

/// <summary>
/// Search data from a MedMNIST dataset (see <see cref="MedMnistSearchDataOptions.Split"/> for which images go where).
/// Images stay on the device as zero-padded bytes; a batch is gathered, randomly cropped (padding
/// <see cref="MedMnistSearchDataOptions.CropPadding"/>) and flipped when augmented, and normalised per channel with the mean and
/// standard deviation of the whole official train split (<see cref="MedMnistImages.Mean"/>, <see cref="MedMnistImages.Std"/>).
/// </summary>
public sealed class MedMnistSearchData : ISearchDataset
{
    private readonly PaddedImageSet _images;
    private readonly int _trainCount, _validationCount;

    /// <summary>Builds the search data.</summary>
    /// <exception cref="ArgumentException">The options are out of range or leave an empty split.</exception>
    public MedMnistSearchData(MedMnistData data, MedMnistSearchDataOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        options ??= new MedMnistSearchDataOptions();
        if (!Enum.IsDefined(options.Split))
            throw new ArgumentException($"{nameof(options.Split)} = {options.Split} is not a known split.", nameof(options));
        if (!(options.TrainPortion > 0 && options.TrainPortion < 1))
            throw new ArgumentException($"{nameof(options.TrainPortion)} = {options.TrainPortion} is invalid: must be in (0, 1).", nameof(options));
        if (options.MaxTrainExamples is < 1)
            throw new ArgumentException($"{nameof(options.MaxTrainExamples)} = {options.MaxTrainExamples} is invalid: must be at least 1 (or null for all).", nameof(options));
        if (options.MaxValidationExamples is < 1)
            throw new ArgumentException($"{nameof(options.MaxValidationExamples)} = {options.MaxValidationExamples} is invalid: must be at least 1 (or null for all).", nameof(options));
        if (options.CropPadding < 0 || options.CropPadding > Math.Min(data.Info.Height, data.Info.Width))
            throw new ArgumentException($"{nameof(options.CropPadding)} = {options.CropPadding} is invalid: must be in 0..{Math.Min(data.Info.Height, data.Info.Width)}.", nameof(options));
        if (string.IsNullOrWhiteSpace(options.Device))
            throw new ArgumentException($"{nameof(options.Device)} is empty: use cpu, cuda or cuda:N.", nameof(options));

        var train = data.Train;
        (MedMnistImages Images, int Start, int Count) weights, alpha;
        if (options.Split == MedMnistSearchSplit.OfficialTrainAndValidation)
        {
            weights = (train, 0, train.Count);
            alpha = (data.Validation, 0, data.Validation.Count);
        }
        else
        {
            int split = (int)Math.Floor(train.Count * options.TrainPortion);
            weights = (train, 0, split);
            alpha = (train, split, train.Count - split);
        }
        weights.Count = Math.Min(weights.Count, options.MaxTrainExamples ?? int.MaxValue);
        alpha.Count = Math.Min(alpha.Count, options.MaxValidationExamples ?? int.MaxValue);
        if (weights.Count < 1 || alpha.Count < 1)
            throw new ArgumentException($"{data.Name}: {train.Count} training images leave an empty split at train portion {options.TrainPortion}.", nameof(data));
        _trainCount = weights.Count;
        _validationCount = alpha.Count;
        Info = data.Info;
        RunSupport.RequireAvailable(options.Device);
        _images = new PaddedImageSet([weights, alpha], options.CropPadding, train.Mean(), train.Std(), torch.device(options.Device));
    }

    /// <inheritdoc />
    public DatasetInfo Info { get; }

    /// <inheritdoc />
    public int Count(SearchSplit split) => split == SearchSplit.Train ? _trainCount : _validationCount;

    /// <inheritdoc />
    public Batch GetBatch(SearchSplit split, ReadOnlySpan<int> indices, bool augment, Random random, torch.Device device)
    {
        ArgumentNullException.ThrowIfNull(random);
        var rows = PaddedImageSet.Rows(indices, Count(split), split == SearchSplit.Train ? 0 : _trainCount, split.ToString());
        return _images.Get(rows, augment, random, device);
    }

    /// <summary>Releases the device-resident images.</summary>
    public void Dispose() => _images.Dispose();
}
