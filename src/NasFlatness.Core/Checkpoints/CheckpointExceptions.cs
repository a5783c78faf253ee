namespace NasFlatness;

/// <summary>One setting in which a checkpoint differs from the run that would resume it.</summary>
/// <param name="Setting">The setting: an options property (<c>ArchitectureLearningRate</c>), <c>space</c>, <c>optimizer</c>,
/// <c>regularizers</c>, <c>training images</c>, <c>data</c>, <c>supernet</c>, or a component's declared setting
/// (<c>regularizer 'a2m' setting rho</c>, see <see cref="ISearchComponentSettings"/>).</param>
/// <param name="Saved">Its value in the checkpoint (as text).</param>
/// <param name="Now">Its value in this run (as text).</param>
public sealed record CheckpointDifference(string Setting, string Saved, string Now);

/// <summary>
/// Thrown when a checkpoint folder holds a checkpoint that is intact but was written with other settings, data or network
/// shape than the run that would resume it; <see cref="Differences"/> lists each. Nothing was computed or changed. Resume with
/// the same settings, use another checkpoint folder, or turn resuming off to start over.
/// </summary>
public sealed class CheckpointMismatchException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="directory">The checkpoint folder.</param>
    /// <param name="differences">Every difference.</param>
    /// <param name="message">The message (naming every difference).</param>
    public CheckpointMismatchException(string directory, IReadOnlyList<CheckpointDifference> differences, string message) : base(message)
    {
        Directory = directory;
        Differences = differences;
    }

    /// <summary>Creates the exception with a message only.</summary>
    /// <param name="message">The message.</param>
    public CheckpointMismatchException(string message) : base(message)
    {
        Directory = "";
        Differences = [];
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public CheckpointMismatchException(string message, Exception innerException) : base(message, innerException)
    {
        Directory = "";
        Differences = [];
    }

    /// <summary>Creates the exception with a default message.</summary>
    public CheckpointMismatchException() : this("The checkpoint was written with other settings.")
    {
    }

    /// <summary>The checkpoint folder.</summary>
    public string Directory { get; }

    /// <summary>Each setting that differs.</summary>
    public IReadOnlyList<CheckpointDifference> Differences { get; }
}

/// <summary>
/// Thrown when another live run holds a checkpoint folder (its pid, host and start time are in the message); nothing was
/// computed. Wait for that run, or use another folder.
/// </summary>
public sealed class CheckpointFolderInUseException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="directory">The checkpoint folder.</param>
    /// <param name="holder">Who holds it (pid, host, start time), as text.</param>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause, or null.</param>
    public CheckpointFolderInUseException(string directory, string holder, string message, Exception? innerException) : base(message, innerException)
    {
        Directory = directory;
        Holder = holder;
    }

    /// <summary>Creates the exception with a message only.</summary>
    /// <param name="message">The message.</param>
    public CheckpointFolderInUseException(string message) : base(message)
    {
        Directory = "";
        Holder = "";
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public CheckpointFolderInUseException(string message, Exception innerException) : base(message, innerException)
    {
        Directory = "";
        Holder = "";
    }

    /// <summary>Creates the exception with a default message.</summary>
    public CheckpointFolderInUseException() : this("The checkpoint folder is in use by another run.")
    {
    }

    /// <summary>The checkpoint folder.</summary>
    public string Directory { get; }

    /// <summary>Who holds it: pid, host and start time.</summary>
    public string Holder { get; }

    /// <summary>The holder's host when it is not this one (its run cannot be checked from here); null otherwise.</summary>
    internal string? OtherHost { get; init; }

    /// <summary>With <see cref="OtherHost"/>: the lock body to delete to take the folder over once that run has stopped.</summary>
    internal string? LockFile { get; init; }
}
