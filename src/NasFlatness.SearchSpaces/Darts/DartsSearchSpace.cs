using NasFlatness.Genotypes;
using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.SearchSpaces.Darts;

/// <summary>
/// The DARTS cell search space (docs/spec/algorithms.md §1.2): normal and reduction cells with 4 intermediate nodes
/// and 14 mixed edges each, over the eight DARTS operations (or the seven without <c>none</c>, see
/// <see cref="DartsOperationSet"/>); α_normal and α_reduce of shape [14, |O|]; PC-DARTS partial channels
/// and edge normalisation as supernet options; genotypes in the DARTS code's <c>Genotype(...)</c> text.
/// </summary>
public sealed class DartsSearchSpace : ISearchSpace
{
    private readonly DartsSpaceOptions _options;

    /// <summary>The space's name.</summary>
    public const string SpaceName = SpaceNames.Darts;

    /// <summary>Creates the space; null options use the DARTS paper's shapes (search C = 16, 8 cells; evaluation C = 36, 20 cells).</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public DartsSearchSpace(DartsSpaceOptions? options = null)
    {
        _options = (options ?? new DartsSpaceOptions()).Clone();
        var errors = _options.Validate();
        if (errors.Count > 0) throw new ArgumentException("Invalid DARTS space options: " + string.Join(" ", errors), nameof(options));
    }

    /// <inheritdoc />
    public string Name => SpaceName;

    /// <summary>The options (a copy).</summary>
    public DartsSpaceOptions Options => _options.Clone();

    /// <inheritdoc />
    public IReadOnlyList<string> OperationNames => DartsOperations.Names(_options.Operations);

    /// <inheritdoc />
    public void Validate(DatasetInfo dataset) => ValidateSearch(dataset);

    private static void ValidateCommon(DatasetInfo dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (dataset.Channels < 1)
            throw new ArgumentException($"The dataset has {dataset.Channels} image channels; at least 1 is needed.", nameof(dataset));
        if (dataset.ClassCount < 2)
            throw new ArgumentException($"The dataset has {dataset.ClassCount} classes; a classifier needs at least 2.", nameof(dataset));
    }

    private static void ValidateSearch(DatasetInfo dataset)
    {
        ValidateCommon(dataset);
        if (dataset.Height < 4 || dataset.Width < 4 || dataset.Height % 4 != 0 || dataset.Width % 4 != 0)
            throw new ArgumentException(
                $"DARTS networks halve the image twice (FactorizedReduce needs even sizes), so height and width must be multiples of 4 (at least 4); the dataset's images are {dataset.Height}×{dataset.Width}.",
                nameof(dataset));
    }

    /// <summary>Throws a clear <see cref="ArgumentException"/> if the evaluation network cannot be built for <paramref name="dataset"/>.</summary>
    public void ValidateNetwork(DatasetInfo dataset)
    {
        ValidateCommon(dataset);
        bool imageNet = _options.NetworkKind == DartsNetworkKind.ImageNet;
        int multiple = imageNet ? 32 : 4;
        int size = Math.Min(dataset.Height, dataset.Width);
        if (dataset.Height % multiple != 0 || dataset.Width % multiple != 0 || size < multiple)
            throw new ArgumentException(
                $"The DARTS {_options.NetworkKind} network halves the image {(imageNet ? "five" : "two")} times, so height and width must be multiples of {multiple}; the dataset's images are {dataset.Height}×{dataset.Width}.",
                nameof(dataset));
        if (_options.AuxiliaryHead)
        {
            int auxInput = size / multiple;
            int stride = imageNet ? 2 : 3;
            int pooled = auxInput < 5 ? 0 : (auxInput - 5) / stride + 1;
            if (pooled < 2)
                throw new ArgumentException(
                    $"The auxiliary head of the DARTS {_options.NetworkKind} network needs a feature map of at least {5 + stride} pixels after the second reduction (AvgPool 5, stride {stride}, then a 2×2 convolution); {dataset.Height}×{dataset.Width} images give {auxInput}. Use larger images or set {nameof(DartsSpaceOptions.AuxiliaryHead)} = false.",
                    nameof(dataset));
        }
    }

    /// <inheritdoc />
    public Supernet CreateSupernet(DatasetInfo dataset)
    {
        ValidateSearch(dataset);
        return new DartsSupernet(_options, dataset);
    }

    /// <inheritdoc />
    public nn.Module<Tensor, Tensor> CreateNetwork(Genotype genotype, DatasetInfo dataset) => CreateDartsNetwork(genotype, dataset);

    /// <summary>Builds the evaluation network of <paramref name="genotype"/> (typed).</summary>
    public DartsNetwork CreateDartsNetwork(Genotype genotype, DatasetInfo dataset)
    {
        var g = AsDarts(genotype);
        ValidateNetwork(dataset);
        return new DartsNetwork(g, _options, dataset);
    }

    /// <inheritdoc />
    public Genotype Parse(string text) => DartsGenotype.Parse(text);

    /// <summary>
    /// All genotypes one change away: on every kept edge of either cell, each other operation of the space
    /// (never <c>none</c>); and every move of one kept edge of a node to another input that node does not
    /// read yet, with any operation (the A²M code's single move, docs/spec/algorithms.md §7.4).
    /// </summary>
    public IEnumerable<Genotype> Neighbors(Genotype genotype)
    {
        var g = AsDarts(genotype);
        var seen = new HashSet<DartsGenotype> { g };
        return DartsSingleChanges.Enumerate(g, OperationNames.Where(o => o != DartsOperations.None).ToArray()).Where(seen.Add);
    }

    /// <summary>
    /// Derives the genotype from α (docs/spec/algorithms.md §1.2): for every node, the two incoming edges with the
    /// largest strongest non-<c>none</c> softmax weight (times softmax(β) over the node's incoming edges when
    /// β is given; ties go to the lower edge index), each with its strongest non-<c>none</c> operation.
    /// </summary>
    /// <param name="alphaNormal">α_normal, shape [14, |O|].</param>
    /// <param name="alphaReduce">α_reduce, shape [14, |O|].</param>
    /// <param name="operations">The operation set α's columns follow.</param>
    /// <param name="betaNormal">β_normal, shape [14], or null without edge normalisation.</param>
    /// <param name="betaReduce">β_reduce, shape [14], or null without edge normalisation.</param>
    public static DartsGenotype Derive(Tensor alphaNormal, Tensor alphaReduce, DartsOperationSet operations = DartsOperationSet.Standard, Tensor? betaNormal = null, Tensor? betaReduce = null)
    {
        ArgumentNullException.ThrowIfNull(alphaNormal);
        ArgumentNullException.ThrowIfNull(alphaReduce);
        if ((betaNormal is null) != (betaReduce is null))
            throw new ArgumentException("Give both β_normal and β_reduce, or neither.", nameof(betaNormal));
        using var scope = torch.NewDisposeScope();
        return DeriveFromWeights(alphaNormal.detach().to(float64).softmax(-1), alphaReduce.detach().to(float64).softmax(-1), operations, betaNormal, betaReduce);
    }

    /// <summary>
    /// Derives the genotype from mixing weights p (any activation of α, e.g. softmax or sparsemax), with the rule of
    /// <see cref="Derive"/>: per node the two incoming edges with the largest strongest non-<c>none</c> weight (times
    /// softmax(β) over the node's incoming edges when β is given), each with its strongest non-<c>none</c> operation.
    /// </summary>
    /// <param name="weightsNormal">p of the normal cell, shape [14, |O|].</param>
    /// <param name="weightsReduce">p of the reduction cell, shape [14, |O|].</param>
    /// <param name="operations">The operation set p's columns follow.</param>
    /// <param name="betaNormal">β_normal, shape [14], or null without edge normalisation.</param>
    /// <param name="betaReduce">β_reduce, shape [14], or null without edge normalisation.</param>
    public static DartsGenotype DeriveFromWeights(Tensor weightsNormal, Tensor weightsReduce, DartsOperationSet operations = DartsOperationSet.Standard, Tensor? betaNormal = null, Tensor? betaReduce = null)
    {
        ArgumentNullException.ThrowIfNull(weightsNormal);
        ArgumentNullException.ThrowIfNull(weightsReduce);
        if ((betaNormal is null) != (betaReduce is null))
            throw new ArgumentException("Give both β_normal and β_reduce, or neither.", nameof(betaNormal));
        var names = DartsOperations.Names(operations);
        return new DartsGenotype(DeriveCell(weightsNormal, betaNormal, names, "α_normal"), DeriveCell(weightsReduce, betaReduce, names, "α_reduce"));
    }

    private static DartsEdge[] DeriveCell(Tensor alpha, Tensor? beta, IReadOnlyList<string> names, string what)
    {
        int ops = names.Count;
        if (alpha.dim() != 2 || alpha.shape[0] != DartsSupernet.EdgeCount || alpha.shape[1] != ops)
            throw new ArgumentException($"{what} must have shape [14, {ops}], got [{string.Join(", ", alpha.shape)}].", nameof(alpha));
        if (beta is not null && (beta.dim() != 1 || beta.shape[0] != DartsSupernet.EdgeCount))
            throw new ArgumentException($"β for {what} must have shape [14], got [{string.Join(", ", beta.shape)}].", nameof(beta));
        double[] p;
        using (var weights = alpha.detach().to(float64).cpu().contiguous()) p = weights.data<double>().ToArray();
        double[]? b = null;
        if (beta is not null)
        {
            using var cpu = beta.detach().to(float64).cpu().contiguous();
            b = cpu.data<double>().ToArray();
        }
        int none = names.Count > 0 && names[0] == DartsOperations.None ? 0 : -1;
        var result = new DartsEdge[DartsGenotype.EdgesPerCell];
        int start = 0;
        for (int node = 0; node < DartsGenotype.NodeCount; node++)
        {
            int n = node + 2;
            var edgeWeight = new double[n];
            if (b is null) Array.Fill(edgeWeight, 1.0);
            else
            {
                double max = b.AsSpan(start, n).ToArray().Max(), sum = 0;
                for (int j = 0; j < n; j++) sum += edgeWeight[j] = Math.Exp(b[start + j] - max);
                for (int j = 0; j < n; j++) edgeWeight[j] /= sum;
            }
            var bestOp = new int[n];
            var score = new double[n];
            for (int j = 0; j < n; j++)
            {
                int row = (start + j) * ops, best = -1;
                for (int o = 0; o < ops; o++)
                {
                    if (o == none) continue;
                    if (best < 0 || p[row + o] > p[row + best]) best = o;
                }
                bestOp[j] = best;
                score[j] = p[row + best] * edgeWeight[j];
            }
            // Top two edges by score; a stable order keeps the lower index on ties.
            var order = Enumerable.Range(0, n).OrderByDescending(j => score[j]).ToArray();
            result[2 * node] = new DartsEdge(names[bestOp[order[0]]], order[0]);
            result[2 * node + 1] = new DartsEdge(names[bestOp[order[1]]], order[1]);
            start += n;
        }
        return result;
    }

    private static DartsGenotype AsDarts(Genotype genotype)
    {
        ArgumentNullException.ThrowIfNull(genotype);
        return genotype as DartsGenotype
            ?? throw new ArgumentException($"The DARTS space takes DARTS genotypes, got a '{genotype.SpaceName}' genotype.", nameof(genotype));
    }
}
