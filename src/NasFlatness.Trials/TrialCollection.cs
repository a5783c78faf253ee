namespace NasFlatness.Trials;

/// <summary>One trial as found by <see cref="TrialCollection.Scan"/>.</summary>
/// <param name="Index">Its index in the plan (null when unknown).</param>
/// <param name="Id">Its id (the folder name).</param>
/// <param name="State">Where it stands.</param>
/// <param name="Folder">Its folder (it may not exist for a pending trial).</param>
/// <param name="Attempts">Launches that started it.</param>
/// <param name="LastError">The last error recorded, or null.</param>
/// <param name="Trial">The trial, when the plan or its <c>trial.json</c> gives it.</param>
public sealed record TrialReport(int? Index, string Id, TrialState State, TrialFolder Folder, int Attempts, string? LastError, TrialSpec? Trial);

/// <summary>
/// The trials of a results folder: completed ones (with a manifest), running ones (a live claim), and those to re-run
/// (pending, interrupted, failed) with their last error. With a plan, the plan's trials are listed in plan order, including
/// those that never started; without one, every trial folder found.
/// </summary>
public sealed class TrialCollection
{
    private TrialCollection(IReadOnlyList<TrialReport> trials, IReadOnlyList<string> warnings)
    {
        Trials = trials;
        Warnings = warnings;
    }

    /// <summary>Every trial, plan order (or by index, then id).</summary>
    public IReadOnlyList<TrialReport> Trials { get; }

    /// <summary>Things found that do not fit (a folder of another plan, a damaged <c>trial.json</c>), one sentence each.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>The completed trials.</summary>
    public IReadOnlyList<TrialReport> Completed => [.. Trials.Where(t => t.State == TrialState.Completed)];

    /// <summary>The trials not completed and not running.</summary>
    public IReadOnlyList<TrialReport> ToRerun => [.. Trials.Where(t => t.State is TrialState.Pending or TrialState.Interrupted or TrialState.Failed)];

    /// <summary>The indices of <see cref="ToRerun"/> (those with a known index), ascending.</summary>
    public IReadOnlyList<int> RerunIndices => [.. ToRerun.Where(t => t.Index is not null).Select(t => t.Index!.Value).Order()];

    /// <summary>Indices as a Slurm <c>--array</c> list: runs of consecutive indices joined (<c>0-2,5,7-8</c>); empty when none.</summary>
    public static string ArrayList(IEnumerable<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        var sorted = indices.Distinct().Order().ToArray();
        var parts = new List<string>();
        for (int i = 0; i < sorted.Length;)
        {
            int j = i;
            while (j + 1 < sorted.Length && sorted[j + 1] == sorted[j] + 1) j++;
            parts.Add(j == i ? $"{sorted[i]}" : $"{sorted[i]}-{sorted[j]}");
            i = j + 1;
        }
        return string.Join(",", parts);
    }

    /// <summary>Reads the trial folders under <paramref name="resultsRoot"/> (read-only; a claim is probed, never taken for long).</summary>
    /// <param name="resultsRoot">The results folder.</param>
    /// <param name="plan">The plan, to list the trials that never started and to order the report; null lists the folders found.</param>
    /// <exception cref="DirectoryNotFoundException">The results folder does not exist and no plan was given.</exception>
    public static TrialCollection Scan(string resultsRoot, TrialPlan? plan = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(resultsRoot);
        var warnings = new List<string>();
        var found = new List<(TrialFolder Folder, TrialSpec? Trial)>();
        if (Directory.Exists(resultsRoot))
        {
            foreach (var dir in Directory.EnumerateDirectories(resultsRoot).Order(StringComparer.Ordinal))
            {
                var folder = new TrialFolder(dir);
                if (!File.Exists(Path.Combine(dir, TrialFolder.TrialFileName))) continue;
                try
                {
                    found.Add((folder, folder.ReadTrial()?.Trial));
                }
                catch (Exception ex) when (ex is InvalidDataException or IOException)
                {
                    warnings.Add($"'{dir}' has a damaged {TrialFolder.TrialFileName}: {ex.Message}");
                    found.Add((folder, null));
                }
            }
        }
        else if (plan is null)
        {
            throw new DirectoryNotFoundException($"The results folder '{ErrorText.Echo(resultsRoot)}' does not exist.");
        }

        TrialReport Report(TrialFolder folder, TrialSpec? trial, string id)
        {
            var status = folder.ReadStatus();
            var state = Directory.Exists(folder.Path) ? folder.State() : TrialState.Pending;
            return new TrialReport(trial?.Index ?? status?.Index, id, state, folder, status?.Attempts ?? 0, state == TrialState.Completed ? null : status?.LastError, trial);
        }

        var reports = new List<TrialReport>();
        if (plan is not null)
        {
            foreach (var trial in plan.Trials)
                reports.Add(Report(TrialFolder.For(resultsRoot, trial), trial, trial.Id));
            var planIds = plan.Trials.Select(t => t.Id).ToHashSet(StringComparer.Ordinal);
            foreach (var (folder, trial) in found.Where(f => f.Trial is null || !planIds.Contains(f.Trial.Id)))
                warnings.Add($"'{folder.Path}' is not a trial of this plan; it is left out.");
        }
        else
        {
            reports.AddRange(found.Select(f => Report(f.Folder, f.Trial, f.Trial?.Id ?? Path.GetFileName(f.Folder.Path)))
                .OrderBy(r => r.Index ?? int.MaxValue).ThenBy(r => r.Id, StringComparer.Ordinal));
        }
        return new TrialCollection(reports, warnings);
    }
}
