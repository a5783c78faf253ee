namespace NasFlatness.Search;

/// <summary>
/// The one rule for regularizers that take the architecture gradient at a perturbed α (A²M): they need a first-order optimizer.
/// The runner, the presets and the preset catalog all ask here.
/// </summary>
internal static class FirstOrderRule
{
    /// <summary>The error text when <paramref name="regularizer"/> needs a first-order optimizer and <paramref name="optimizer"/> is not one; otherwise null.</summary>
    public static string? Violation(string regularizer, bool requiresFirstOrder, string optimizer, bool optimizerIsFirstOrder) =>
        requiresFirstOrder && !optimizerIsFirstOrder
            ? $"Regularizer '{regularizer}' evaluates the architecture gradient at perturbed α and needs a first-order optimizer, but '{optimizer}' is not first order."
            : null;
}
