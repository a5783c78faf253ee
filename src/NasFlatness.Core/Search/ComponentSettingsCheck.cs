namespace NasFlatness.Search;

/// <summary>
/// The settings the search's components declare (<see cref="ISearchComponentSettings"/>), keyed by the component's role
/// and name (e.g. <c>regularizer a2m</c>), as a checkpoint records them; and the differences a resume is refused for.
/// </summary>
internal static class ComponentSettingsCheck
{
    /// <summary>The declared settings of <paramref name="participants"/>, in their order (components declaring none are left out).</summary>
    public static Dictionary<string, Dictionary<string, string>> Of(IReadOnlyList<ISearchObserver> participants)
    {
        var result = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        foreach (var p in participants)
        {
            if (p is not ISearchComponentSettings declaring) continue;
            var settings = declaring.Settings ?? throw new InvalidOperationException($"The search component {Key(p)} declares null settings.");
            string key = Key(p);
            for (int n = 2; result.ContainsKey(key); n++) key = $"{Key(p)} #{n}";
            result[key] = new Dictionary<string, string>(settings, StringComparer.Ordinal);
        }
        return result;
    }

    /// <summary>
    /// Each difference between the <paramref name="saved"/> settings (null: a checkpoint that recorded none, nothing to
    /// compare) and <paramref name="now"/>, naming the component and setting (<c>regularizer 'a2m' setting rho</c>).
    /// </summary>
    public static IEnumerable<CheckpointDifference> Differences(Dictionary<string, Dictionary<string, string>>? saved, Dictionary<string, Dictionary<string, string>> now)
    {
        if (saved is null) yield break;
        foreach (var component in saved.Keys.Union(now.Keys, StringComparer.Ordinal))
        {
            var before = saved.GetValueOrDefault(component);
            var after = now.GetValueOrDefault(component);
            if (before is null || after is null)
            {
                yield return new($"{ErrorText.Echo(component)} settings", before is null ? "none declared" : Describe(before), after is null ? "none declared" : Describe(after));
                continue;
            }
            foreach (var name in before.Keys.Union(after.Keys, StringComparer.Ordinal))
            {
                var b = before.GetValueOrDefault(name);
                var a = after.GetValueOrDefault(name);
                if (b != a) yield return new($"{ErrorText.Echo(component)} setting {ErrorText.Echo(name)}", ErrorText.Echo(b ?? "(not declared)"), ErrorText.Echo(a ?? "(not declared)"));
            }
        }
    }

    /// <summary>Problems of a manifest's recorded settings (null names or values), for the load-time validation.</summary>
    public static string? Problem(Dictionary<string, Dictionary<string, string>>? saved)
    {
        if (saved is null) return null;
        foreach (var (component, settings) in saved)
        {
            if (settings is null) return $"ComponentSettings[\"{ErrorText.Echo(component)}\"] is null";
            foreach (var (name, value) in settings)
                if (value is null) return $"ComponentSettings[\"{ErrorText.Echo(component)}\"][\"{ErrorText.Echo(name)}\"] is null";
        }
        return null;
    }

    private static string Describe(Dictionary<string, string> settings) =>
        "{" + string.Join(", ", settings.Select(kv => $"{ErrorText.Echo(kv.Key)} = {ErrorText.Echo(kv.Value)}")) + "}";

    private static string Key(ISearchObserver p) => p switch
    {
        IFlatnessRegularizer r => $"regularizer '{r.Name}'",
        IArchitectureOptimizer o => $"optimizer '{o.Name}'",
        IArchitectureActivation a => $"activation '{a.Name}'",
        IArchitectureUpdateSchedule s => $"schedule '{s.Name}'",
        IStatefulSearchComponent s => $"component '{s.StateName}'",
        _ => $"observer '{p.GetType().Name}'",
    };
}
