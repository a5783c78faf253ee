namespace NasFlatness.Cli;

/// <summary>The output folder of a command: a run that fails leaves no empty folder it created behind.</summary>
internal static class OutputFolder
{
    /// <summary>
    /// Runs <paramref name="run"/>, which writes into <paramref name="folder"/>; when it throws and the folder did not exist
    /// before and is still empty, the folder is removed (a folder with partial results, or one the user made, stays).
    /// </summary>
    public static T RemoveIfLeftEmpty<T>(string folder, Func<T> run)
    {
        bool existed = Directory.Exists(folder);
        try
        {
            return run();
        }
        catch when (!existed)
        {
            try
            {
                if (Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder).Any()) Directory.Delete(folder);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // Leaving an empty folder is better than hiding the run's own error.
            }
            throw;
        }
    }
}
