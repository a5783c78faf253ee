using System.Globalization;
using NasFlatness.Checkpoints;

namespace NasFlatness.Trials;

/// <summary>How a launch of a trial ended (an error or a cancellation is thrown instead, after it is recorded).</summary>
public enum TrialLaunchOutcome
{
    /// <summary>This launch ran the trial to the end (possibly resuming an interrupted launch's checkpoint).</summary>
    Completed,

    /// <summary>The trial had already completed: nothing was run or written.</summary>
    AlreadyCompleted,

    /// <summary>Another live launch holds the trial's claim: nothing was run or written.</summary>
    ClaimedElsewhere,
}

/// <summary>What <see cref="TrialLauncher.Run"/> did.</summary>
/// <param name="Outcome">How the launch ended.</param>
/// <param name="Trial">The trial.</param>
/// <param name="Folder">Its folder.</param>
/// <param name="OtherHolder">For <see cref="TrialLaunchOutcome.ClaimedElsewhere"/>: the launch that holds the claim (null if it could not be read).</param>
/// <param name="Attempt">The attempt number of this launch (0 when nothing ran).</param>
public sealed record TrialLaunchResult(TrialLaunchOutcome Outcome, TrialSpec Trial, TrialFolder Folder, TrialClaimHolder? OtherHolder, int Attempt);

/// <summary>What the work of a trial gets: where to checkpoint and where to write its outputs.</summary>
public sealed class TrialWorkspace
{
    internal TrialWorkspace(TrialSpec trial, TrialFolder folder, int attempt, string planHash)
    {
        Trial = trial;
        Folder = folder;
        Attempt = attempt;
        PlanHash = planHash;
    }

    /// <summary>The trial.</summary>
    public TrialSpec Trial { get; }

    /// <summary>Its folder.</summary>
    public TrialFolder Folder { get; }

    /// <summary>1 for the first launch, 2 for the first relaunch …</summary>
    public int Attempt { get; }

    /// <summary>The plan's hash.</summary>
    public string PlanHash { get; }

    /// <summary>The checkpoint folder to give the search (<see cref="Search.SearchOptions.CheckpointDirectory"/>): a relaunch resumes from it.</summary>
    public string CheckpointDirectory => Folder.CheckpointDirectory;

    /// <summary>Whether an earlier launch left a checkpoint, so this launch resumes from it.</summary>
    public bool Resuming => File.Exists(Path.Combine(CheckpointDirectory, Search.SearchCheckpoint.ManifestName));

    /// <summary>The (empty) folder the work writes its outputs into, including <c>manifest.json</c>; they are moved into the trial folder when the work returns.</summary>
    public string OutputDirectory => Folder.StagingDirectory;
}

/// <summary>
/// Runs one trial of a plan idempotently, as a Slurm array task or a Kubernetes Indexed Job pod does: a completed trial is
/// skipped; a trial claimed by a live launch is left alone; otherwise the trial is claimed (<see cref="TrialClaim"/>), its
/// status recorded, the work run (resuming from the trial's checkpoint folder), and its outputs published atomically
/// (manifest last). An error is recorded in <c>status.json</c> and <c>error.txt</c> and rethrown; a cancellation is recorded
/// as <see cref="TrialState.Interrupted"/> and rethrown.
/// </summary>
public static class TrialLauncher
{
    /// <summary>Runs trial <paramref name="index"/> of <paramref name="plan"/> with results under <paramref name="resultsRoot"/>.</summary>
    /// <param name="plan">The plan.</param>
    /// <param name="index">The trial index.</param>
    /// <param name="resultsRoot">The results folder (one subfolder per trial).</param>
    /// <param name="work">Runs the trial: checkpoints to <see cref="TrialWorkspace.CheckpointDirectory"/>, writes outputs and <c>manifest.json</c> to <see cref="TrialWorkspace.OutputDirectory"/>.</param>
    /// <param name="expectedPlanHash">The plan hash the launch was generated for (null: not checked).</param>
    /// <exception cref="ArgumentOutOfRangeException">The index is not in the plan.</exception>
    /// <exception cref="TrialPlanChangedException">The plan differs from <paramref name="expectedPlanHash"/>.</exception>
    /// <exception cref="InvalidDataException">The trial folder holds another trial (its <c>trial.json</c> disagrees).</exception>
    public static TrialLaunchResult Run(TrialPlan plan, int index, string resultsRoot, Action<TrialWorkspace> work, string? expectedPlanHash = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentException.ThrowIfNullOrWhiteSpace(resultsRoot);
        ArgumentNullException.ThrowIfNull(work);
        var trial = plan.Get(index);
        if (expectedPlanHash is not null) plan.VerifyHash(expectedPlanHash, index);
        var folder = TrialFolder.For(resultsRoot, trial);
        if (folder.IsCompleted) return new(TrialLaunchOutcome.AlreadyCompleted, trial, folder, null, 0);
        using var claim = TrialClaim.TryAcquire(folder.Path, out var other);
        if (claim is null) return new(TrialLaunchOutcome.ClaimedElsewhere, trial, folder, other, 0);
        if (folder.IsCompleted) return new(TrialLaunchOutcome.AlreadyCompleted, trial, folder, null, 0); // finished while we waited

        if (folder.ReadTrial() is { } recorded && recorded.Trial.Hash != trial.Hash)
            throw new InvalidDataException(
                $"The folder '{folder.Path}' holds trial {recorded.Trial.Index} ({recorded.Trial.Id}, options {recorded.Trial.Hash[..8]}…), not trial {index} ({trial.Id}, {trial.Hash[..8]}…); nothing was run. Use another results folder.");
        folder.WriteTrial(trial, plan.Hash);
        var status = folder.ReadStatus() ?? new TrialStatus();
        status.Index = index;
        status.Id = trial.Id;
        status.Attempts++;
        status.State = TrialState.Running;
        status.Launch = claim.Holder;
        status.StartedUtc = DateTimeOffset.UtcNow;
        status.FinishedUtc = null;
        folder.WriteStatus(status);

        // Clear an interrupted launch's partial outputs and stale checkpoint-lock body (the claim proves it dead; docs/scale-out.md).
        try
        {
            if (Directory.Exists(folder.StagingDirectory)) Directory.Delete(folder.StagingDirectory, recursive: true);
            Directory.CreateDirectory(folder.StagingDirectory);
            if (Directory.Exists(folder.CheckpointDirectory)) File.Delete(Path.Combine(folder.CheckpointDirectory, CheckpointLock.HolderName));
            work(new TrialWorkspace(trial, folder, status.Attempts, plan.Hash));
            folder.Publish();
        }
        catch (Exception ex)
        {
            bool cancelled = ex is OperationCanceledException || ex.InnerException is OperationCanceledException;
            status.State = cancelled ? TrialState.Interrupted : TrialState.Failed;
            status.FinishedUtc = DateTimeOffset.UtcNow;
            status.LastError = cancelled ? "cancelled (interrupted; a relaunch resumes from the last completed epoch)" : $"{ex.GetType().Name}: {ex.Message}";
            TryRecord(() =>
            {
                folder.WriteStatus(status);
                folder.WriteError(string.Create(CultureInfo.InvariantCulture,
                    $"{status.FinishedUtc:yyyy-MM-dd HH:mm:ss} UTC, attempt {status.Attempts}, {claim.Holder}\n{status.LastError}\n\n{ex}\n"));
            });
            throw;
        }
        status.State = TrialState.Completed;
        status.FinishedUtc = DateTimeOffset.UtcNow;
        status.LastError = null;
        folder.WriteStatus(status);
        return new(TrialLaunchOutcome.Completed, trial, folder, null, status.Attempts);
    }

    private static void TryRecord(Action record)
    {
        try
        {
            record();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The original error is more useful than a failure to record it.
        }
    }
}
