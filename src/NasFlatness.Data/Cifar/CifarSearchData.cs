using NasFlatness.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.Data;

/// <summary>Options of <see cref="CifarSearchData"/>.</summary>
public sealed class CifarSearchDataOptions
{
    /// <summary>
    /// Fraction of the training set that trains the weights (the first ⌊n·portion⌋ images); the rest trains α
    /// (DARTS <c>train_portion</c>; see also <see cref="DynamicSplitTrainPortion"/>).
    /// </summary>
    /// <value>Default 0.5 (25,000 / 25,000 on CIFAR). Must be in (0, 1).</value>
    public double TrainPortion { get; set; } = 0.5;

    /// <summary>DARTS-PRIME's "dyno split" train portion for its default of 10 weight steps per α step: 1 − 1/11 = 10/11.</summary>
    public static double DynamicSplitTrainPortion { get; } = 1 - 1 / (1 + 10.0);

    /// <summary>Use only the first this many examples of the weight-training split (a CPU-sized proxy); null uses all. More than the split holds is an error.</summary>
    /// <value>Default null.</value>
    public int? MaxTrainExamples { get; set; }

    /// <summary>Use only the first this many examples of the validation split; null uses all. More than the split holds is an error.</summary>
    /// <value>Default null.</value>
    public int? MaxValidationExamples { get; set; }

    /// <summary>Device the images are kept on (batches are cropped, flipped and normalised there).</summary>
    /// <value>Default <c>cpu</c>.</value>
    public string Device { get; set; } = "cpu";

    /// <summary>Every problem with these options, each naming the field; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!(TrainPortion > 0 && TrainPortion < 1))
            errors.Add($"{nameof(TrainPortion)} = {TrainPortion} is invalid: must be in (0, 1).");
        if (MaxTrainExamples is < 1)
            errors.Add($"{nameof(MaxTrainExamples)} = {MaxTrainExamples} is invalid: must be at least 1 (or null for all).");
        if (MaxValidationExamples is < 1)
            errors.Add($"{nameof(MaxValidationExamples)} = {MaxValidationExamples} is invalid: must be at least 1 (or null for all).");
        return errors;
    }
}

/// <summary>
/// Search data from a CIFAR training set: split by index into a weight-training part
/// (<c>[0, n·portion)</c>) and a validation part (the rest). The images stay on the
/// device as bytes, zero-padded by 4 pixels; a batch is gathered, randomly cropped to 32×32, randomly
/// flipped and normalised on the device in a few tensor operations.
/// </summary>
public sealed class CifarSearchData : ISearchDataset
{
    private const int Pad = PaddedImages.Pad, Size = PaddedImages.Size;
    private readonly Tensor _padded;  // [n, 3, 40, 40] uint8 on _device
    private readonly Tensor _labels;  // [n] int64 on _device
    private readonly Tensor _mean, _std;
    private readonly Device _device;
    private readonly int _trainCount, _validationStart, _validationCount;

    /// <summary>Builds the search data from CIFAR training images.</summary>
    /// <exception cref="ArgumentException">The options are out of range, ask for more images than a split holds, or name an unavailable device.</exception>
    public CifarSearchData(CifarImages images, CifarSearchDataOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        options ??= new CifarSearchDataOptions();
        var errors = options.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join(" ", errors), nameof(options));

        int split = (int)Math.Floor(images.Count * options.TrainPortion);
        if (options.MaxTrainExamples > split)
            throw new ArgumentException(FormattableString.Invariant(
                $"{nameof(options.MaxTrainExamples)} = {options.MaxTrainExamples:N0} is more than the {split:N0} images of the weight-training split ({images.Count:N0} images at train portion {options.TrainPortion}); ask for at most {split:N0}."), nameof(options));
        if (options.MaxValidationExamples > images.Count - split)
            throw new ArgumentException(FormattableString.Invariant(
                $"{nameof(options.MaxValidationExamples)} = {options.MaxValidationExamples:N0} is more than the {images.Count - split:N0} images of the validation split ({images.Count:N0} images at train portion {options.TrainPortion}); ask for at most {images.Count - split:N0}."), nameof(options));
        RunSupport.RequireAvailable(options.Device);
        _trainCount = Math.Min(split, options.MaxTrainExamples ?? int.MaxValue);
        _validationStart = split;
        _validationCount = Math.Min(images.Count - split, options.MaxValidationExamples ?? int.MaxValue);
        if (_trainCount < 1 || _validationCount < 1)
            throw new ArgumentException($"{images.Count} images leave an empty split at train portion {options.TrainPortion}.", nameof(images));
        Info = images.Kind == CifarKind.Cifar10 ? DatasetInfo.Cifar10 : DatasetInfo.Cifar100;
        _device = torch.device(options.Device);
        Fingerprint = FormattableString.Invariant(
            $"{images.Kind} {images.Source ?? "(images not read from files)"}; {images.Count} images, train portion {options.TrainPortion}, train [0, {_trainCount}), validation [{_validationStart}, {_validationStart + _validationCount})");

        // Keep only the examples the splits use.
        var keep = Enumerable.Range(0, _trainCount).Concat(Enumerable.Range(_validationStart, _validationCount)).ToArray();
        var pixels = new byte[keep.Length * CifarImages.ImageBytes];
        var labels = new long[keep.Length];
        for (int i = 0; i < keep.Length; i++)
        {
            images.Image(keep[i]).CopyTo(pixels.AsSpan(i * CifarImages.ImageBytes));
            labels[i] = images.Labels[keep[i]];
        }
        using (var raw = torch.tensor(pixels, [keep.Length, 3, Size, Size], dtype: uint8))
        {
            _padded = nn.functional.pad(raw, [Pad, Pad, Pad, Pad]).to(_device).DetachFromDisposeScope();
        }
        _labels = torch.tensor(labels, dtype: int64).to(_device).DetachFromDisposeScope();
        _mean = torch.tensor(CifarImages.Mean(images.Kind).ToArray(), [1, 3, 1, 1]).to(_device).DetachFromDisposeScope();
        _std = torch.tensor(CifarImages.Std(images.Kind).ToArray(), [1, 3, 1, 1]).to(_device).DetachFromDisposeScope();
    }

    /// <inheritdoc />
    public DatasetInfo Info { get; }

    /// <inheritdoc />
    /// <remarks>The CIFAR kind, the source folder with its files' sizes (<see cref="CifarImages.Source"/>), the image count and the split ranges.</remarks>
    public string? Fingerprint { get; }

    /// <inheritdoc />
    public int Count(SearchSplit split) => split == SearchSplit.Train ? _trainCount : _validationCount;

    /// <inheritdoc />
    public Batch GetBatch(SearchSplit split, ReadOnlySpan<int> indices, bool augment, Random random, Device device)
    {
        ArgumentNullException.ThrowIfNull(random);
        int count = Count(split), offset = split == SearchSplit.Train ? 0 : _trainCount;
        int b = indices.Length;
        if (b == 0) throw new ArgumentException("A batch needs at least one index.", nameof(indices));
        var rows = new long[b];
        for (int i = 0; i < b; i++)
        {
            if ((uint)indices[i] >= (uint)count)
                throw new ArgumentOutOfRangeException(nameof(indices), indices[i], $"Index outside the {split} split (0..{count - 1}).");
            rows[i] = indices[i] + offset;
        }

        Tensor images, labels;
        using (var scope = torch.NewDisposeScope())
        {
            var index = torch.tensor(rows, dtype: int64).to(_device);
            var cropped = PaddedImages.Crop(_padded.index_select(0, index), augment, random);
            images = cropped.to(float32).div_(255f).sub_(_mean).div_(_std).to(device).MoveToOuterDisposeScope();
            labels = _labels.index_select(0, index).to(device).MoveToOuterDisposeScope();
        }
        return new Batch(images, labels);
    }

    /// <summary>Releases the device-resident images.</summary>
    public void Dispose()
    {
        _padded.Dispose();
        _labels.Dispose();
        _mean.Dispose();
        _std.Dispose();
    }
}
