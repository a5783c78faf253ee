using System.Globalization;

namespace NasFlatness.MultiObjective;

/// <summary>One metric, minimised as is (or scaled: a scale of −1 maximises it).</summary>
public sealed class MetricObjective : ISearchObjective
{
    /// <summary>Creates the objective.</summary>
    /// <param name="metricIndex">Index of the metric in the evaluator's output.</param>
    /// <param name="name">Name; default <c>metric[i]</c>.</param>
    /// <param name="scale">Factor applied to the metric (default 1; −1 to maximise an accuracy).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="metricIndex"/> is negative or <paramref name="scale"/> is 0 or not finite.</exception>
    public MetricObjective(int metricIndex, string? name = null, double scale = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(metricIndex);
        if (scale == 0 || !double.IsFinite(scale))
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "The scale must be finite and non-zero.");
        MetricIndex = metricIndex;
        Scale = scale;
        Name = name ?? string.Create(CultureInfo.InvariantCulture, $"metric[{metricIndex}]");
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>Index of the metric.</summary>
    public int MetricIndex { get; }

    /// <summary>Factor applied to the metric.</summary>
    public double Scale { get; }

    /// <inheritdoc />
    public double Value(IReadOnlyList<double> metrics) => Scale * ObjectiveMath.Metric(metrics, MetricIndex, Name);
}
