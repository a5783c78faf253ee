using System.Globalization;

namespace NasFlatness.MultiObjective;

/// <summary>Argument checks shared by the objectives.</summary>
internal static class ObjectiveMath
{
    public static double Metric(IReadOnlyList<double> metrics, int index, string objective)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        if (index >= metrics.Count)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"Objective '{objective}' reads metric {index}, but the candidate has only {metrics.Count} metric(s)."), nameof(metrics));
        return metrics[index];
    }

    public static void CheckFinite(double value, string name)
    {
        if (!double.IsFinite(value)) throw new ArgumentOutOfRangeException(name, value, $"{name} must be finite.");
    }

    public static void CheckNonNegative(double value, string name)
    {
        if (!double.IsFinite(value) || value < 0) throw new ArgumentOutOfRangeException(name, value, $"{name} must be finite and non-negative.");
    }
}
