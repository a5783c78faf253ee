using NasFlatness.Genotypes;
using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.SearchSpaces.Nb201;

/// <summary>
/// Closed-form size of the NAS-Bench-201 evaluation network (<see cref="Nb201Network"/>) of any cell: trainable parameters and
/// MACs of one example's inference, counted as <see cref="NasFlatness.Evaluation.NetworkSize"/> counts them, and the
/// differentiable expected size under per-edge operation probabilities (for resource penalties on α). Only the 1×1 and 3×3
/// convolution edges cost anything beyond the shared stem, reductions and head; the numbers: docs/multi-objective.md.
/// </summary>
public sealed class Nb201ResourceModel
{
    private readonly Nb201Options _options;

    /// <summary>Creates the model of the networks that <c>new Nb201SearchSpace(options).CreateNetwork(genotype, dataset)</c> builds.</summary>
    /// <param name="options">Network shape; null uses the benchmark's (C = 16, N = 5). Only the channels and cells per stage matter.</param>
    /// <param name="dataset">Image shape and class count; null uses CIFAR-10 (3×32×32, 10 classes).</param>
    /// <exception cref="ArgumentException">The options are invalid, or the images cannot be halved twice (height and width must be multiples of 4).</exception>
    public Nb201ResourceModel(Nb201Options? options = null, DatasetInfo? dataset = null)
    {
        var o = (options ?? new Nb201Options()).Clone();
        var d = dataset ?? DatasetInfo.Cifar10;
        new Nb201SearchSpace(o).Validate(d); // throws with the same messages as the network builder

        long c = o.Channels;
        long n = o.CellsPerStage;
        long pixels = (long)d.Height * d.Width;

        // Stem: Conv3×3 (image channels → C, no bias) then an affine BN.
        long fixedParams = 9L * d.Channels * c + 2 * c;
        long fixedMacs = pixels * c * 9L * d.Channels;

        long conv3Params = 0, conv1Params = 0, conv3Macs = 0, conv1Macs = 0;
        for (int stage = 0; stage < 3; stage++)
        {
            long channels = c << stage;
            long stagePixels = pixels >> (2 * stage); // each reduction halves height and width
            if (stage > 0)
            {
                // Residual reduction block from channels/2 at the previous resolution to channels at this one:
                // a = ReLU-Conv3×3(stride 2)-BN, b = ReLU-Conv3×3-BN, shortcut = AvgPool(2) → Conv1×1 (no BN).
                long input = channels / 2;
                fixedParams += 9 * input * channels + 2 * channels   // a
                             + 9 * channels * channels + 2 * channels // b
                             + input * channels;                      // shortcut
                fixedMacs += stagePixels * channels * (9 * input + 9 * channels + input);
            }

            // One edge of one cell: ReLU-Conv(k×k, channels → channels, stride 1)-BN(affine).
            conv3Params += n * (9 * channels * channels + 2 * channels);
            conv1Params += n * (channels * channels + 2 * channels);
            conv3Macs += n * stagePixels * channels * 9 * channels;
            conv1Macs += n * stagePixels * channels * channels;
        }

        // Head: affine BN on 4C channels, global average pool, Linear(4C → classes) with bias.
        long last = c * 4;
        fixedParams += 2 * last + last * d.ClassCount + d.ClassCount;
        fixedMacs += last * d.ClassCount;

        _options = o;
        Dataset = d;
        FixedParameters = fixedParams;
        FixedMultiplyAccumulates = fixedMacs;
        ParametersPerConv3x3Edge = conv3Params;
        ParametersPerConv1x1Edge = conv1Params;
        MultiplyAccumulatesPerConv3x3Edge = conv3Macs;
        MultiplyAccumulatesPerConv1x1Edge = conv1Macs;
    }

    /// <summary>The network shape modelled (a copy).</summary>
    public Nb201Options Options => _options.Clone();

    /// <summary>The image shape and class count modelled.</summary>
    public DatasetInfo Dataset { get; }

    /// <summary>Parameters every network has, whatever its cell: stem, the two reduction blocks and the head (73,306 for C = 16, N = 5, 10 classes).</summary>
    public long FixedParameters { get; }

    /// <summary>MACs every network has, whatever its cell (7,783,040 for C = 16, N = 5, 10 classes, 32×32).</summary>
    public long FixedMultiplyAccumulates { get; }

    /// <summary>Parameters one <c>nor_conv_3x3</c> edge adds, summed over all 3N cells (243,040 for C = 16, N = 5).</summary>
    public long ParametersPerConv3x3Edge { get; }

    /// <summary>Parameters one <c>nor_conv_1x1</c> edge adds, summed over all 3N cells (28,000 for C = 16, N = 5).</summary>
    public long ParametersPerConv1x1Edge { get; }

    /// <summary>MACs one <c>nor_conv_3x3</c> edge adds, summed over all 3N cells (35,389,440 for C = 16, N = 5, 32×32).</summary>
    public long MultiplyAccumulatesPerConv3x3Edge { get; }

    /// <summary>MACs one <c>nor_conv_1x1</c> edge adds, summed over all 3N cells (3,932,160 for C = 16, N = 5, 32×32).</summary>
    public long MultiplyAccumulatesPerConv1x1Edge { get; }

    /// <summary>Exact trainable parameters of the network of <paramref name="genotype"/>.</summary>
    public long Parameters(Nb201Genotype genotype) =>
        Count(genotype, FixedParameters, ParametersPerConv1x1Edge, ParametersPerConv3x3Edge);

    /// <summary>Exact MACs of one example's inference through the network of <paramref name="genotype"/>.</summary>
    public long MultiplyAccumulates(Nb201Genotype genotype) =>
        Count(genotype, FixedMultiplyAccumulates, MultiplyAccumulatesPerConv1x1Edge, MultiplyAccumulatesPerConv3x3Edge);

    /// <summary>
    /// Expected parameters when each edge independently takes operation o with probability p[e, o]:
    /// <c>P(p) = fixed + Σ_e (per3x3·p[e, nor_conv_3x3] + per1x1·p[e, nor_conv_1x1])</c>, differentiable in p
    /// (∂P/∂p[e, 3×3] = <see cref="ParametersPerConv3x3Edge"/>, ∂P/∂p[e, 1×1] = <see cref="ParametersPerConv1x1Edge"/>).
    /// At one-hot p it equals <see cref="Parameters"/>.
    /// </summary>
    /// <param name="mixingWeights">Per-edge operation probabilities, shape [6, 5], in the column order of
    /// <see cref="Nb201Genotype.OperationNames"/> (e.g. the softmax of α). Use float64 for exact values; float32 rounds.</param>
    /// <returns>A scalar tensor of the dtype and device of <paramref name="mixingWeights"/>.</returns>
    /// <exception cref="ArgumentException">The shape is not [6, 5] or the dtype is not floating point.</exception>
    public Tensor ExpectedParameters(Tensor mixingWeights) =>
        Expected(mixingWeights, FixedParameters, ParametersPerConv1x1Edge, ParametersPerConv3x3Edge);

    /// <summary>
    /// Expected MACs under per-edge operation probabilities (see <see cref="ExpectedParameters"/>):
    /// <c>fixed + Σ_e (per3x3·p[e, nor_conv_3x3] + per1x1·p[e, nor_conv_1x1])</c> with the MAC constants. MAC counts
    /// exceed float32's exact integers, so use float64 for exact values.
    /// </summary>
    /// <param name="mixingWeights">Per-edge operation probabilities, shape [6, 5].</param>
    /// <returns>A scalar tensor of the dtype and device of <paramref name="mixingWeights"/>.</returns>
    /// <exception cref="ArgumentException">The shape is not [6, 5] or the dtype is not floating point.</exception>
    public Tensor ExpectedMultiplyAccumulates(Tensor mixingWeights) =>
        Expected(mixingWeights, FixedMultiplyAccumulates, MultiplyAccumulatesPerConv1x1Edge, MultiplyAccumulatesPerConv3x3Edge);

    private static long Count(Nb201Genotype genotype, long fixedPart, long perConv1x1, long perConv3x3)
    {
        ArgumentNullException.ThrowIfNull(genotype);
        long total = fixedPart;
        foreach (int op in genotype.Operations)
        {
            if (op == Nb201Operations.Conv3x3) total += perConv3x3;
            else if (op == Nb201Operations.Conv1x1) total += perConv1x1;
        }
        return total;
    }

    private static Tensor Expected(Tensor p, long fixedPart, long perConv1x1, long perConv3x3)
    {
        ArgumentNullException.ThrowIfNull(p);
        if (p.dim() != 2 || p.shape[0] != Nb201Genotype.EdgeCount || p.shape[1] != Nb201Genotype.OperationCount)
            throw new ArgumentException($"The mixing weights must have shape [6, 5], got [{string.Join(", ", p.shape)}].", nameof(p));
        if (!p.is_floating_point())
            throw new ArgumentException($"The mixing weights must be floating point, got {p.dtype}.", nameof(p));
        var perOperation = new double[Nb201Genotype.OperationCount];
        perOperation[Nb201Operations.Conv1x1] = perConv1x1;
        perOperation[Nb201Operations.Conv3x3] = perConv3x3;
        using var costs = torch.tensor(perOperation, dtype: p.dtype, device: p.device);
        using var weighted = p * costs; // [6, 5] · [5] broadcasts over the edges
        using var sum = weighted.sum();
        return sum + (double)fixedPart;
    }
}
