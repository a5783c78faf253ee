using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.Search;

/// <summary>
/// Records, at the end of every epoch, the dominant eigenvalue of the Hessian ∇²_α of the supernet's validation cross-entropy
/// (no regularizer terms, training mode) on the validation batch of the epoch's last architecture step, at the epoch's final α.
/// Add it to <see cref="SearchRunner.Observers"/>; epoch e's value is <see cref="DominantEigenvalues"/>[e] and
/// <see cref="EpochRecord.Metrics"/>[<see cref="MetricName"/>].
/// </summary>
/// <remarks>
/// The search is unchanged by it: buffers, training mode and the torch generator are restored and no <c>.grad</c> is written.
/// An epoch without an architecture step records NaN and adds no metric; the values are checkpointed. Cost per measured
/// epoch: 1 + (number of α entries) backward passes on one batch. Method notes: docs/methods.md.
/// </remarks>
public sealed class ArchitectureHessianObserver : ISearchObserver, IEpochMetricsProvider, IStatefulSearchComponent, IDisposable
{
    /// <summary>Key of the dominant eigenvalue in <see cref="EpochRecord.Metrics"/>.</summary>
    public const string MetricName = "alpha-hessian-max-eigenvalue";

    private readonly List<double> _values = [];
    private Supernet? _supernet;
    private IArchitectureActivation _activation = SoftmaxActivation.Instance;
    private int _totalEpochs = int.MaxValue;
    private Tensor? _images, _labels;

    /// <summary>
    /// Measure every this many epochs (epochs k−1, 2k−1, … and always the last epoch); the other epochs record NaN and add
    /// no metric. Each measurement costs 1 + (number of α entries) backward passes on one minibatch.
    /// </summary>
    /// <value>Default 1 (every epoch). Must be ≥ 1.</value>
    public int EveryEpochs
    {
        get;
        init => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(EveryEpochs), value, $"{nameof(EveryEpochs)} = {value} is invalid: must be at least 1.");
    } = 1;

    /// <summary>The dominant eigenvalue of every completed epoch, in epoch order (NaN for an epoch without an α step).</summary>
    public IReadOnlyList<double> DominantEigenvalues => _values;

    /// <inheritdoc />
    public string StateName => "architecture-hessian";

    /// <inheritdoc />
    public void OnEpochStarting(EpochStart epoch)
    {
        ArgumentNullException.ThrowIfNull(epoch);
        _supernet = epoch.Supernet;
        _activation = epoch.Activation;
        _totalEpochs = epoch.Clock.TotalEpochs;
        ReleaseBatch();
    }

    /// <inheritdoc />
    public void OnArchitectureStepped(ArchitectureStep step)
    {
        ArgumentNullException.ThrowIfNull(step);
        _supernet = step.Supernet;
        _activation = step.Activation;
        ReleaseBatch();
        _images = step.Validation.Images.detach().clone().DetachFromDisposeScope();
        _labels = step.Validation.Labels.detach().clone().DetachFromDisposeScope();
    }

    /// <inheritdoc />
    public void AddEpochMetrics(int epoch, IDictionary<string, double> metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        // Align the list with the epoch index (a resumed search restores the earlier epochs' values).
        while (_values.Count < epoch) _values.Add(double.NaN);
        bool due = (epoch + 1) % EveryEpochs == 0 || epoch == _totalEpochs - 1;
        double value = !due || _supernet is null || _images is null || _labels is null ? double.NaN : DominantEigenvalue(_supernet, _images, _labels, _activation);
        if (_values.Count == epoch) _values.Add(value);
        else _values[epoch] = value;
        if (!double.IsNaN(value)) metrics[MetricName] = value;
        ReleaseBatch();
    }

    /// <summary>
    /// The full Hessian of the cross-entropy of <paramref name="supernet"/> on (<paramref name="images"/>, <paramref name="labels"/>)
    /// with respect to its architecture parameters (flattened in <see cref="Supernet.ArchitectureParameters"/> order), at
    /// the supernet's current α, in training mode, by double backward. Restores buffers, mode and the torch random generator.
    /// </summary>
    /// <param name="supernet">The supernet.</param>
    /// <param name="images">Input batch.</param>
    /// <param name="labels">Class labels.</param>
    /// <param name="activation">The search's activation; default <see cref="SoftmaxActivation"/>.</param>
    /// <returns>The n × n Hessian (n = number of α entries), in double precision.</returns>
    public static double[,] Hessian(Supernet supernet, Tensor images, Tensor labels, IArchitectureActivation? activation = null)
    {
        ArgumentNullException.ThrowIfNull(supernet);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        using var scope = torch.NewDisposeScope();
        var rng = torch.random.get_rng_state();
        bool wasTraining = supernet.training;
        var buffers = supernet.buffers().ToArray();
        var saved = buffers.Select(b => b.detach().clone()).ToArray();
        try
        {
            supernet.train();
            var alpha = supernet.ArchitectureParameters().Select(p => p.detach().clone().requires_grad_(true)).ToArray();
            var loss = nn.functional.cross_entropy(supernet.Forward(images, alpha, activation ?? SoftmaxActivation.Instance), labels);
            var gradients = torch.autograd.grad([loss], alpha, retain_graph: true, create_graph: true);
            var flat = torch.cat(gradients.Select(g => g.reshape(-1)).ToArray());
            int n = (int)flat.shape[0];
            var hessian = new double[n, n];
            for (int i = 0; i < n; i++)
            {
                var row = torch.autograd.grad([flat[i]], alpha, retain_graph: true, allow_unused: true);
                var values = torch.cat(row.Select((r, k) => (r is null || r.IsInvalid ? torch.zeros_like(alpha[k]) : r).reshape(-1)).ToArray())
                    .to(ScalarType.Float64).cpu().data<double>().ToArray();
                for (int j = 0; j < n; j++) hessian[i, j] = values[j];
            }
            return hessian;
        }
        finally
        {
            using (torch.no_grad())
                for (int i = 0; i < buffers.Length; i++) buffers[i].copy_(saved[i]);
            supernet.train(wasTraining);
            torch.random.set_rng_state(rng);
            rng.Dispose();
        }
    }

    /// <summary>The largest eigenvalue of <see cref="Hessian"/>.</summary>
    /// <param name="supernet">The supernet.</param>
    /// <param name="images">Input batch.</param>
    /// <param name="labels">Class labels.</param>
    /// <param name="activation">The search's activation; default <see cref="SoftmaxActivation"/>.</param>
    public static double DominantEigenvalue(Supernet supernet, Tensor images, Tensor labels, IArchitectureActivation? activation = null) =>
        SymmetricEigen.Eigenvalues(Hessian(supernet, images, labels, activation))[0];

    /// <inheritdoc />
    public void SaveState(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(_values.Count);
        foreach (double v in _values) writer.Write(v);
    }

    /// <inheritdoc />
    public void LoadState(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        int count = reader.ReadInt32();
        _values.Clear();
        for (int i = 0; i < count; i++) _values.Add(reader.ReadDouble());
    }

    /// <summary>Releases the held validation batch.</summary>
    public void Dispose() => ReleaseBatch();

    private void ReleaseBatch()
    {
        _images?.Dispose();
        _labels?.Dispose();
        _images = null;
        _labels = null;
    }
}
