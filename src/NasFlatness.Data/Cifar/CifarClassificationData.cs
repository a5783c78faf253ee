using NasFlatness.Internal;
using NasFlatness.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.Data;

/// <summary>Options of <see cref="CifarClassificationData"/>.</summary>
public sealed class CifarClassificationDataOptions
{
    /// <summary>Use only the first this many training images (a CPU-sized proxy); null uses all 50,000.</summary>
    /// <value>Default null.</value>
    public int? MaxTrainExamples { get; set; }

    /// <summary>Use only the first this many test images; null uses all 10,000.</summary>
    /// <value>Default null.</value>
    public int? MaxTestExamples { get; set; }

    /// <summary>Side of the cutout square applied to augmented training batches; 0 turns cutout off.</summary>
    /// <value>Default 16 (DARTS).</value>
    public int CutoutLength { get; set; } = 16;

    /// <summary>Device the images are kept on.</summary>
    /// <value>Default <c>cpu</c>.</value>
    public string Device { get; set; } = "cpu";
}

/// <summary>
/// The final-evaluation data of CIFAR-10/100: the training set (augmented with 4-pixel-padded random crop,
/// horizontal flip, normalisation and cutout) and the test set (normalised only). Images stay on the device
/// as bytes; batches are built there in a few tensor operations.
/// </summary>
public sealed class CifarClassificationData : IClassificationDataset
{
    private const int Pad = PaddedImages.Pad, Size = PaddedImages.Size;
    private readonly Tensor _trainPadded, _trainLabels, _test, _testLabels, _mean, _std;
    private readonly Device _device;
    private readonly int _cutout;

    /// <summary>Builds the data from the CIFAR training and test images (<see cref="CifarImages.Load"/> with train = true and false).</summary>
    /// <exception cref="ArgumentException">The options are out of range, or the two sets are of different CIFAR kinds.</exception>
    public CifarClassificationData(CifarImages train, CifarImages test, CifarClassificationDataOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        options ??= new CifarClassificationDataOptions();
        if (train.Kind != test.Kind)
            throw new ArgumentException($"The training images are {train.Kind} but the test images are {test.Kind}.", nameof(test));
        if (options.MaxTrainExamples is < 1)
            throw new ArgumentException($"{nameof(options.MaxTrainExamples)} = {options.MaxTrainExamples} is invalid: must be at least 1 (or null for all).", nameof(options));
        if (options.MaxTestExamples is < 1)
            throw new ArgumentException($"{nameof(options.MaxTestExamples)} = {options.MaxTestExamples} is invalid: must be at least 1 (or null for all).", nameof(options));
        if (options.CutoutLength < 0 || options.CutoutLength > Size)
            throw new ArgumentException($"{nameof(options.CutoutLength)} = {options.CutoutLength} is invalid: must be in 0..{Size}.", nameof(options));
        if (train.Count == 0 || test.Count == 0) throw new ArgumentException("The training or test images are empty.", nameof(train));
        if (options.MaxTrainExamples > train.Count)
            throw new ArgumentException(FormattableString.Invariant($"{nameof(options.MaxTrainExamples)} = {options.MaxTrainExamples:N0} is more than the {train.Count:N0} training images; ask for at most {train.Count:N0}."), nameof(options));
        if (options.MaxTestExamples > test.Count)
            throw new ArgumentException(FormattableString.Invariant($"{nameof(options.MaxTestExamples)} = {options.MaxTestExamples:N0} is more than the {test.Count:N0} test images; ask for at most {test.Count:N0}."), nameof(options));
        RunSupport.RequireAvailable(options.Device);
        Info = train.Kind == CifarKind.Cifar10 ? DatasetInfo.Cifar10 : DatasetInfo.Cifar100;
        _device = torch.device(options.Device);
        _cutout = options.CutoutLength;
        int trainCount = Math.Min(train.Count, options.MaxTrainExamples ?? int.MaxValue);
        int testCount = Math.Min(test.Count, options.MaxTestExamples ?? int.MaxValue);
        using (var raw = ToTensor(train, trainCount))
            _trainPadded = nn.functional.pad(raw, [Pad, Pad, Pad, Pad]).to(_device).DetachFromDisposeScope();
        _test = ToTensor(test, testCount).to(_device).DetachFromDisposeScope();
        _trainLabels = Labels(train, trainCount).to(_device).DetachFromDisposeScope();
        _testLabels = Labels(test, testCount).to(_device).DetachFromDisposeScope();
        _mean = torch.tensor(CifarImages.Mean(train.Kind).ToArray(), [1, 3, 1, 1]).to(_device).DetachFromDisposeScope();
        _std = torch.tensor(CifarImages.Std(train.Kind).ToArray(), [1, 3, 1, 1]).to(_device).DetachFromDisposeScope();
        TrainCount = trainCount;
        TestCount = testCount;
    }

    private int TrainCount { get; }

    private int TestCount { get; }

    private static Tensor ToTensor(CifarImages images, int count) =>
        torch.tensor(images.Pixels.AsSpan(0, count * CifarImages.ImageBytes).ToArray(), [count, 3, Size, Size], dtype: uint8);

    private static Tensor Labels(CifarImages images, int count) =>
        torch.tensor(images.Labels.Take(count).Select(l => (long)l).ToArray(), dtype: int64);

    /// <inheritdoc />
    public DatasetInfo Info { get; }

    /// <inheritdoc />
    public int Count(EvaluationSplit split) => split == EvaluationSplit.Train ? TrainCount : TestCount;

    /// <inheritdoc />
    public Batch GetBatch(EvaluationSplit split, ReadOnlySpan<int> indices, bool augment, Random random, Device device)
    {
        ArgumentNullException.ThrowIfNull(random);
        int count = Count(split), b = indices.Length;
        if (b == 0) throw new ArgumentException("A batch needs at least one index.", nameof(indices));
        var rows = new long[b];
        for (int i = 0; i < b; i++)
        {
            if ((uint)indices[i] >= (uint)count)
                throw new ArgumentOutOfRangeException(nameof(indices), indices[i], $"Index outside the {split} split (0..{count - 1}).");
            rows[i] = indices[i];
        }
        Tensor images, labels;
        using (var scope = torch.NewDisposeScope())
        {
            var index = torch.tensor(rows, dtype: int64).to(_device);
            Tensor pixels;
            if (split == EvaluationSplit.Test)
            {
                pixels = _test.index_select(0, index);
            }
            else
            {
                pixels = PaddedImages.Crop(_trainPadded.index_select(0, index), augment, random);
            }
            var normalized = pixels.to(float32).div_(255f).sub_(_mean).div_(_std);
            if (augment && split == EvaluationSplit.Train && _cutout > 0) normalized = Cutout.Apply(normalized, _cutout, random);
            images = normalized.to(device).MoveToOuterDisposeScope();
            labels = (split == EvaluationSplit.Train ? _trainLabels : _testLabels).index_select(0, index).to(device).MoveToOuterDisposeScope();
        }
        return new Batch(images, labels);
    }

    /// <summary>Releases the device-resident images.</summary>
    public void Dispose()
    {
        _trainPadded.Dispose();
        _trainLabels.Dispose();
        _test.Dispose();
        _testLabels.Dispose();
        _mean.Dispose();
        _std.Dispose();
    }
}
