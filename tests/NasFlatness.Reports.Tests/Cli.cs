using NasFlatness.Cli;

namespace NasFlatness.Reports.Tests;

/// <summary>Runs the nasflatness tool in-process.</summary>
internal static class Cli
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>Runs the tool and fails with its error output when it does not exit with 0.</summary>
    public static string Ok(params string[] args)
    {
        var (code, output, error) = Run(args);
        if (code != 0) throw new InvalidOperationException($"nasflatness {string.Join(" ", args)} exited with {code}: {error}");
        return output;
    }
}
