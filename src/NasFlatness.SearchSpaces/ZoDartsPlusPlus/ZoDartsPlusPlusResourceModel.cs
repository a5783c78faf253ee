using NasFlatness.Genotypes;
using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.SearchSpaces.ZoDartsPlusPlus;

/// <summary>
/// Closed-form parameter count of the networks of the ZO-DARTS++ space (<see cref="ZoDartsPlusPlusNetwork"/>): exact for a genotype,
/// and differentiable in expectation under the mixing weights of α [18, 5], α_mix [18, 3] and α_exit [3, N]
/// (docs/spec/secondary-methods.md §2.3.3): <c>P = fixed + Σ_s Σ_j exit[s, j]·(j + 1)·Σ_e (p[e, kv]·Σ_k mix[e, k]·cost_k(s) + p[e, 1×1]·cost_1×1(s))</c>,
/// with <c>cost_k(s) = k²·C_s² + 2·C_s</c> (ReLU → conv k×k without bias → affine BatchNorm, C_s = C·2^s) and a fixed part for the stem,
/// the two residual reduction blocks and the head. At one-hot weights it equals <see cref="Parameters"/>.
/// </summary>
public sealed class ZoDartsPlusPlusResourceModel
{
    private readonly ZoDartsPlusPlusOptions _options;
    private readonly long[] _conv1x1;
    private readonly long[][] _kernel;
    private readonly Dictionary<ParameterBudgetSize, (double, double)> _budgets = [];
    private readonly Lock _gate = new();

    /// <summary>Creates the model of the networks that <c>new ZoDartsPlusPlusSearchSpace(options).CreateNetwork(genotype, dataset)</c> builds.</summary>
    /// <param name="options">Space options; null uses the defaults (C = 16, N = 3).</param>
    /// <param name="dataset">Image shape and class count; null uses CIFAR-10.</param>
    /// <exception cref="ArgumentException">The options are invalid or the images cannot be halved twice.</exception>
    public ZoDartsPlusPlusResourceModel(ZoDartsPlusPlusOptions? options = null, DatasetInfo? dataset = null)
    {
        var o = (options ?? new ZoDartsPlusPlusOptions()).Clone();
        var d = dataset ?? DatasetInfo.Cifar10;
        new ZoDartsPlusPlusSearchSpace(o).Validate(d);
        long c = o.Channels;
        long fixedParams = 9L * d.Channels * c + 2 * c; // stem: conv 3×3 without bias, affine BN
        _conv1x1 = new long[ZoDartsPlusPlusGenotype.StageCount];
        _kernel = new long[ZoDartsPlusPlusGenotype.StageCount][];
        for (int s = 0; s < ZoDartsPlusPlusGenotype.StageCount; s++)
        {
            long w = c << s;
            if (s > 0)
            {
                long input = w / 2;
                fixedParams += 9 * input * w + 2 * w + 9 * w * w + 2 * w + input * w; // residual reduction block
            }
            _conv1x1[s] = w * w + 2 * w;
            _kernel[s] = ZoDartsPlusPlusGenotype.KernelSizes.Select(k => (long)k * k * w * w + 2 * w).ToArray();
        }
        long last = 4 * c;
        fixedParams += 2 * last + last * d.ClassCount + d.ClassCount; // head: affine BN, Linear with bias
        FixedParameters = fixedParams;
        _options = o;
        Dataset = d;
    }

    /// <summary>The dataset shape modelled.</summary>
    public DatasetInfo Dataset { get; }

    /// <summary>The space options modelled (a copy).</summary>
    public ZoDartsPlusPlusOptions Options => _options.Clone();

    /// <summary>Parameters every network has: stem, two reduction blocks, head.</summary>
    public long FixedParameters { get; }

    /// <summary>Parameters of one <c>nor_conv_1x1</c> edge of one cell of <paramref name="stage"/>.</summary>
    public long Conv1x1Parameters(int stage) => _conv1x1[stage];

    /// <summary>Parameters of one k×k edge of one cell of <paramref name="stage"/> (k = 7, 5 or 3).</summary>
    public long KernelParameters(int stage, int kernel) => _kernel[stage][KernelIndex(kernel)];

    private static int KernelIndex(int kernel)
    {
        int i = ZoDartsPlusPlusGenotype.KernelSizes.IndexOf(kernel);
        return i >= 0 ? i : throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "Kernel sizes are 7, 5 and 3.");
    }

    /// <summary>Exact trainable parameters of the network of <paramref name="genotype"/>.</summary>
    public long Parameters(ZoDartsPlusPlusGenotype genotype)
    {
        ArgumentNullException.ThrowIfNull(genotype);
        long total = FixedParameters;
        for (int s = 0; s < ZoDartsPlusPlusGenotype.StageCount; s++)
        {
            long cell = 0;
            for (int e = 0; e < ZoDartsPlusPlusGenotype.EdgeCount; e++)
            {
                int i = s * ZoDartsPlusPlusGenotype.EdgeCount + e;
                if (genotype.Operations[i] == ZoDartsPlusPlusGenotype.Conv1x1) cell += _conv1x1[s];
                else if (genotype.Operations[i] == ZoDartsPlusPlusGenotype.KernelVariable) cell += KernelParameters(s, genotype.Kernels[i]);
            }
            total += genotype.CellsPerStage[s] * cell;
        }
        return total;
    }

    /// <summary>
    /// Expected parameters under independent per-row distributions (see the class summary), differentiable in all three tensors.
    /// </summary>
    /// <param name="operations">p, shape [18, 5] (rows stage by stage).</param>
    /// <param name="kernels">Kernel mixture, shape [18, 3] over 7, 5, 3.</param>
    /// <param name="exits">Depth mixture, shape [3, M] over 1..M cells.</param>
    /// <returns>A scalar of the dtype and device of <paramref name="operations"/>; use float64 for exact values.</returns>
    /// <exception cref="ArgumentException">A shape is wrong.</exception>
    public Tensor ExpectedParameters(Tensor operations, Tensor kernels, Tensor exits)
    {
        ArgumentNullException.ThrowIfNull(operations);
        ArgumentNullException.ThrowIfNull(kernels);
        ArgumentNullException.ThrowIfNull(exits);
        const int rows = ZoDartsPlusPlusGenotype.StageCount * ZoDartsPlusPlusGenotype.EdgeCount;
        if (operations.dim() != 2 || operations.shape[0] != rows || operations.shape[1] != ZoDartsPlusPlusGenotype.OperationNames.Length)
            throw new ArgumentException($"The operation weights must have shape [18, 5], got [{string.Join(", ", operations.shape)}].", nameof(operations));
        if (kernels.dim() != 2 || kernels.shape[0] != rows || kernels.shape[1] != ZoDartsPlusPlusGenotype.KernelSizes.Length)
            throw new ArgumentException($"The kernel weights must have shape [18, 3], got [{string.Join(", ", kernels.shape)}].", nameof(kernels));
        if (exits.dim() != 2 || exits.shape[0] != ZoDartsPlusPlusGenotype.StageCount || exits.shape[1] < 1)
            throw new ArgumentException($"The exit weights must have shape [3, M], got [{string.Join(", ", exits.shape)}].", nameof(exits));
        using var scope = torch.NewDisposeScope();
        var dtype = operations.dtype;
        var device = operations.device;
        Tensor total = torch.tensor((double)FixedParameters, dtype: dtype, device: device);
        var depth = torch.arange(1, exits.shape[1] + 1, dtype: dtype, device: device);
        for (int s = 0; s < ZoDartsPlusPlusGenotype.StageCount; s++)
        {
            var p = operations.narrow(0, s * ZoDartsPlusPlusGenotype.EdgeCount, ZoDartsPlusPlusGenotype.EdgeCount);
            var m = kernels.narrow(0, s * ZoDartsPlusPlusGenotype.EdgeCount, ZoDartsPlusPlusGenotype.EdgeCount);
            var costs = torch.tensor(_kernel[s].Select(x => (double)x).ToArray(), dtype: dtype, device: device);
            var variable = (m * costs).sum(1);                                          // [6]: Σ_k mix[e, k]·cost_k
            var cell = (p[.., ZoDartsPlusPlusGenotype.KernelVariable] * variable).sum()
                     + p[.., ZoDartsPlusPlusGenotype.Conv1x1].sum() * (double)_conv1x1[s];
            var expectedCells = (exits[s] * depth).sum();                               // Σ_j exit_j·(j + 1)
            total = total + expectedCells * cell;
        }
        return total.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The budget [L, U] of <paramref name="size"/>, derived as percentiles of the exact parameter counts of
    /// <see cref="ZoDartsPlusPlusOptions.BudgetSamples"/> architectures drawn uniformly (operation, kernel and cell count per stage
    /// uniform; a generator with seed 0): small [0, P20], medium [P40, P60], large [P80, max]. Computed once per model.
    /// </summary>
    public (double Lower, double Upper) Budget(ParameterBudgetSize size)
    {
        lock (_gate)
        {
            if (_budgets.Count == 0)
            {
                var counts = SampleParameterCounts(_options.BudgetSamples, 0);
                Array.Sort(counts);
                double P(double q) => counts[(int)Math.Round(q * (counts.Length - 1))];
                _budgets[ParameterBudgetSize.Small] = (0, P(0.2));
                _budgets[ParameterBudgetSize.Medium] = (P(0.4), P(0.6));
                _budgets[ParameterBudgetSize.Large] = (P(0.8), P(1.0));
            }
            return _budgets.TryGetValue(size, out var b) ? b : throw new ArgumentOutOfRangeException(nameof(size), size, "Small, Medium or Large.");
        }
    }

    /// <summary>Exact parameter counts of <paramref name="count"/> uniformly drawn genotypes (seeded).</summary>
    public long[] SampleParameterCounts(int count, int seed)
    {
        var random = new Random(seed);
        var result = new long[count];
        for (int n = 0; n < count; n++) result[n] = Parameters(RandomGenotype(random, _options.CellsPerStage));
        return result;
    }

    /// <summary>A uniformly drawn genotype: operation per edge, kernel per kernel-variable edge, cells 1..N per stage.</summary>
    public static ZoDartsPlusPlusGenotype RandomGenotype(Random random, int cellsPerStage)
    {
        ArgumentNullException.ThrowIfNull(random);
        const int rows = ZoDartsPlusPlusGenotype.StageCount * ZoDartsPlusPlusGenotype.EdgeCount;
        var ops = new int[rows];
        var kernels = new int[rows];
        for (int i = 0; i < rows; i++)
        {
            ops[i] = random.Next(ZoDartsPlusPlusGenotype.OperationNames.Length);
            kernels[i] = ops[i] == ZoDartsPlusPlusGenotype.KernelVariable ? ZoDartsPlusPlusGenotype.KernelSizes[random.Next(3)] : 0;
        }
        var cells = new int[ZoDartsPlusPlusGenotype.StageCount];
        for (int s = 0; s < cells.Length; s++) cells[s] = 1 + random.Next(cellsPerStage);
        return new ZoDartsPlusPlusGenotype(ops, kernels, cells);
    }
}
