using System.Globalization;

namespace NasFlatness;

/// <summary>
/// Thrown when a search (<see cref="Search.SearchRunner"/>) or a final evaluation (<see cref="Evaluation.EvaluationTrainer"/>)
/// produces a non-finite quantity — a training loss, a weight-gradient norm or an architecture parameter α that is NaN or
/// infinite. The run stops at that step: nothing of the diverged epoch is written, and the last checkpoint (of the last
/// completed epoch) stays intact, so a run with a smaller learning rate can start over or the cause can be inspected.
/// </summary>
public sealed class SearchDivergedException : Exception
{
    /// <summary>Creates the exception for <paramref name="quantity"/> at <paramref name="epoch"/> / <paramref name="step"/>.</summary>
    /// <param name="quantity">What became non-finite, e.g. "training loss", "weight-gradient norm", "architecture parameter α[1]".</param>
    /// <param name="value">The offending value (NaN or ±∞).</param>
    /// <param name="epoch">Zero-based epoch.</param>
    /// <param name="step">Zero-based step within the epoch.</param>
    /// <param name="hint">What to try, appended to the message; null for none.</param>
    public SearchDivergedException(string quantity, double value, int epoch, int step, string? hint = null)
        : this(quantity, value, epoch, step, hint, setting: null)
    {
    }

    /// <summary>Creates the exception naming the <paramref name="setting"/> that drives the quantity.</summary>
    /// <param name="quantity">What became non-finite.</param>
    /// <param name="value">The offending value (NaN or ±∞).</param>
    /// <param name="epoch">Zero-based epoch.</param>
    /// <param name="step">Zero-based step within the epoch.</param>
    /// <param name="hint">What to try, appended to the message; null for none.</param>
    /// <param name="setting">The option that drives <paramref name="quantity"/>, e.g. <c>"WeightLearningRate"</c>; null when unknown.</param>
    public SearchDivergedException(string quantity, double value, int epoch, int step, string? hint, string? setting)
        : base(Describe(quantity, value, epoch, step, hint))
    {
        Quantity = quantity;
        Value = value;
        Epoch = epoch;
        Step = step;
        Setting = setting;
    }

    /// <summary>Creates the exception with a message only (for serialisation-style construction).</summary>
    /// <param name="message">The message.</param>
    public SearchDivergedException(string message) : base(message) => Quantity = "";

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public SearchDivergedException(string message, Exception innerException) : base(message, innerException) => Quantity = "";

    /// <summary>Creates the exception with a default message.</summary>
    public SearchDivergedException() : base("The run diverged.") => Quantity = "";

    /// <summary>What became non-finite (e.g. "training loss").</summary>
    public string Quantity { get; }

    /// <summary>
    /// The option (a property name of the run's options) whose value drives <see cref="Quantity"/>: <c>WeightLearningRate</c>
    /// for a training loss, weight, BatchNorm statistic or validation metric, <c>ArchitectureLearningRate</c> for α; null when not known.
    /// </summary>
    public string? Setting { get; }

    /// <summary>The non-finite value (NaN or ±∞).</summary>
    public double Value { get; }

    /// <summary>Zero-based epoch of the step that diverged.</summary>
    public int Epoch { get; }

    /// <summary>Zero-based step, within <see cref="Epoch"/>, that diverged.</summary>
    public int Step { get; }

    private static string Describe(string quantity, double value, int epoch, int step, string? hint) =>
        string.Create(CultureInfo.InvariantCulture,
            $"The run diverged: the {quantity} is {value} at epoch {epoch + 1}, step {step + 1} (zero-based epoch {epoch}, step {step}). " +
            $"The run was stopped; the checkpoint of the last completed epoch (if any) is intact.{(hint is null ? "" : " " + hint)}");
}
