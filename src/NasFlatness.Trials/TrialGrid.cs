using System.Text.RegularExpressions;

namespace NasFlatness.Trials;

/// <summary>One swept option of a <see cref="TrialGrid"/>: its name and the values it takes, in order.</summary>
/// <param name="Name">The option name (a key of the trials' options).</param>
/// <param name="Values">The values, in the order trials are planned.</param>
public sealed record TrialAxis(string Name, IReadOnlyList<string> Values);

/// <summary>
/// A grid of trials: options every trial shares, and axes whose Cartesian product gives one trial per combination
/// (the first axis outermost). <see cref="Expand"/> is deterministic: the same grid gives the same trials, ids and plan hash.
/// </summary>
public sealed partial class TrialGrid
{
    /// <summary>Options every trial shares (an axis of the same name overrides one).</summary>
    /// <value>Default empty.</value>
    public Dictionary<string, string> Options { get; } = new(StringComparer.Ordinal);

    /// <summary>The swept options, first outermost.</summary>
    /// <value>Default empty (a grid without axes is one trial).</value>
    public List<TrialAxis> Axes { get; } = [];

    /// <summary>The readable part of trial ids: <c>{name}</c> is replaced by that option's value (empty when the trial lacks it).</summary>
    /// <value>Default <c>{method}-s{seed}</c>.</value>
    public string IdTemplate { get; set; } = "{method}-s{seed}";

    /// <summary>Problems that would make <see cref="Expand"/> fail, one message each, naming the field.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(IdTemplate)) errors.Add($"{nameof(IdTemplate)} is empty: it names the trials (e.g. {{method}}-s{{seed}}).");
        foreach (var key in Options.Keys.Where(string.IsNullOrWhiteSpace)) errors.Add($"{nameof(Options)} has an option with an empty name.");
        foreach (var (key, value) in Options.Where(p => p.Value is null)) errors.Add($"{nameof(Options)}['{ErrorText.Echo(key)}'] is null.");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < Axes.Count; i++)
        {
            var axis = Axes[i];
            if (axis is null) { errors.Add($"{nameof(Axes)}[{i}] is null."); continue; }
            if (string.IsNullOrWhiteSpace(axis.Name)) errors.Add($"{nameof(Axes)}[{i}] has an empty name.");
            else if (!seen.Add(axis.Name)) errors.Add($"{nameof(Axes)}[{i}] '{ErrorText.Echo(axis.Name)}' repeats an axis; give all its values in one axis.");
            if (axis.Values is null || axis.Values.Count == 0) errors.Add($"{nameof(Axes)}[{i}] '{ErrorText.Echo(axis.Name)}' has no values.");
            else if (axis.Values.Any(v => v is null)) errors.Add($"{nameof(Axes)}[{i}] '{ErrorText.Echo(axis.Name)}' has a null value.");
            else if (axis.Values.Distinct(StringComparer.Ordinal).Count() != axis.Values.Count)
                errors.Add($"{nameof(Axes)}[{i}] '{ErrorText.Echo(axis.Name)}' repeats a value: {ErrorText.Echo(string.Join(",", axis.Values))}.");
        }
        return errors;
    }

    /// <summary>The trials' options, one dictionary per combination, first axis outermost (without ids).</summary>
    /// <exception cref="ArgumentException">The grid is invalid (<see cref="Validate"/>'s messages).</exception>
    public IReadOnlyList<IReadOnlyDictionary<string, string>> Combinations()
    {
        var errors = Validate();
        if (errors.Count > 0) throw new ArgumentException("Invalid trial grid: " + string.Join(" ", errors));
        IEnumerable<Dictionary<string, string>> combos = [new Dictionary<string, string>(Options, StringComparer.Ordinal)];
        foreach (var axis in Axes)
        {
            var a = axis;
            combos = combos.SelectMany(c => a.Values.Select(v => new Dictionary<string, string>(c, StringComparer.Ordinal) { [a.Name] = v }));
        }
        return [.. combos];
    }

    /// <summary>The label of a trial's id from <see cref="IdTemplate"/> (before sanitising and the hash suffix).</summary>
    public string LabelOf(IReadOnlyDictionary<string, string> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Placeholder().Replace(IdTemplate ?? "", m => options.TryGetValue(m.Groups[1].Value, out var v) ? v : "");
    }

    /// <summary>Expands the grid into a plan (deterministic: the same grid gives the same ids and plan hash).</summary>
    /// <exception cref="ArgumentException">The grid is invalid, or two combinations are the same trial.</exception>
    public TrialPlan Expand() => new(Combinations().Select((o, i) => new TrialSpec(i, LabelOf(o), o)));

    [GeneratedRegex(@"\{([^{}]+)\}")]
    private static partial Regex Placeholder();
}
