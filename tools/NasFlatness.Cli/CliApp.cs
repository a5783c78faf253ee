using System.CommandLine;
using System.Text.Json;
using NasFlatness.Genotypes;
using Spectre.Console;

namespace NasFlatness.Cli;

/// <summary>Exit codes of the <c>nasflatness</c> tool (docs/cli.md).</summary>
internal static class ExitCodes
{
    /// <summary>Success (for <c>reproduce</c>: the re-run matched).</summary>
    public const int Ok = 0;

    /// <summary>A failure while running (for <c>reproduce</c>: the re-run did not match).</summary>
    public const int Failure = 1;

    /// <summary>Bad input: an unknown option or name, an invalid value, missing data; reported before any compute.</summary>
    public const int BadInput = 2;

    /// <summary><c>collect</c>: the report was written, but some trials are not completed (listed, with their last error).</summary>
    public const int Incomplete = 3;

    /// <summary>A search or evaluation diverged (a NaN or infinite loss, gradient, weight or α); the last good checkpoint is kept.</summary>
    public const int Diverged = 3;

    /// <summary><c>run-trial</c>: another live launch holds the trial's claim; this launch ran nothing (EX_TEMPFAIL).</summary>
    public const int ClaimedElsewhere = 75;

    /// <summary>Cancelled (Ctrl+C); a search with <c>--checkpoint</c> resumes when run again.</summary>
    public const int Cancelled = 130;
}

/// <summary>A user error: printed as one <c>error: …</c> line, exit code 2.</summary>
internal sealed class CliInputException(string message) : Exception(message);

/// <summary>Where a command writes: the human console (Spectre) or JSON lines, and the error stream.</summary>
internal sealed class CliOutput
{
    private readonly TextWriter _out;

    public CliOutput(TextWriter output, TextWriter error, bool json)
    {
        _out = output;
        Error = error;
        Json = json;
        bool terminal = ReferenceEquals(output, System.Console.Out) && !System.Console.IsOutputRedirected;
        Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
        });
        if (!terminal) Console.Profile.Width = 200;
        Interactive = terminal && !json && Console.Profile.Capabilities.Interactive;
    }

    /// <summary>The human console (do not use when <see cref="Json"/>).</summary>
    public IAnsiConsole Console { get; }

    /// <summary>The error stream.</summary>
    public TextWriter Error { get; }

    /// <summary>Whether stdout carries JSON lines only.</summary>
    public bool Json { get; }

    /// <summary>Whether live progress bars can be drawn.</summary>
    public bool Interactive { get; }

    private static readonly JsonSerializerOptions LineOptions = new()
    {
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    /// <summary>Writes one JSON line (only in <see cref="Json"/> mode).</summary>
    public void Event(string kind, object payload)
    {
        if (!Json) return;
        var element = JsonSerializer.SerializeToElement(payload, LineOptions);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("event", kind);
            foreach (var p in element.EnumerateObject()) p.WriteTo(w);
            w.WriteEndObject();
        }
        _out.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
        _out.Flush();
    }

    /// <summary>Writes a line of markup for humans (nothing in JSON mode).</summary>
    public void Line(string markup)
    {
        if (!Json) Console.MarkupLine(markup);
    }

    /// <summary>Writes a plain line for humans (nothing in JSON mode).</summary>
    public void Text(string text)
    {
        if (!Json) Console.WriteLine(text);
    }

    /// <summary>Writes one <c>warning: …</c> line to the error stream (in JSON mode also a <c>warning</c> event): the run goes on.</summary>
    public void Warning(string message)
    {
        Error.WriteLine("warning: " + message);
        Event("warning", new { message });
    }
}

/// <summary>The <c>nasflatness</c> command line.</summary>
internal static class CliApp
{
    /// <summary>The <c>--json</c> option every command accepts.</summary>
    public static Option<bool> JsonOption { get; } = new("--json") { Description = "Write JSON lines (one object per event) to stdout instead of tables and progress bars.", Recursive = true };

    /// <summary>Parses and runs <paramref name="args"/>; returns the exit code (see <see cref="ExitCodes"/>).</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        var root = BuildRoot(args, output, error);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            error.WriteLine(CliErrors.Line($"error: {string.Join(" ", parse.Errors.Select(e => e.Message))}"));
            error.WriteLine("Run 'nasflatness --help' (or '<command> --help') for usage and examples.");
            return ExitCodes.BadInput;
        }
        // Ctrl-C and SIGTERM are handled by Interrupts, not by System.CommandLine (ProcessTerminationTimeout = null).
        using var interrupts = Interrupts.Install(cancellationToken, error);
        try
        {
            return parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null },
                interrupts.Token).GetAwaiter().GetResult();
        }
        catch (Exception ex) when (IsCancellation(ex))
        {
            error.WriteLine("cancelled: stopped; a search with --checkpoint resumes from its last completed epoch when run again.");
            return ExitCodes.Cancelled;
        }
        catch (Exception ex) when (CliErrors.Translate(ex) is { } known)
        {
            error.WriteLine(known.Line);
            return known.Code;
        }
        catch (Exception ex) when (IsUserError(ex))
        {
            error.WriteLine(CliErrors.Line($"error: {WithoutParameterName(ex)}"));
            return ExitCodes.BadInput;
        }
        catch (Exception ex)
        {
            error.WriteLine(CliErrors.Line($"failed: {ex.GetType().Name}: {ex.Message}"));
            return ExitCodes.Failure;
        }
    }

    private static RootCommand BuildRoot(string[] args, TextWriter output, TextWriter error)
    {
        CliOutput Output(System.CommandLine.ParseResult p) => new(output, error, p.GetValue(JsonOption));
        var root = new RootCommand(
            "nasflatness: flatness-aware differentiable NAS on TorchSharp (CPU or CUDA).\n\n" +
            "Examples:\n" +
            "  nasflatness search --method beta-darts --epochs 10 --channels 8 --cells 1\n" +
            "  nasflatness search --optimizer darts-1st --regularizer a2m --dataset medmnist:pneumoniamnist.npz\n" +
            "  nasflatness lookup '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|'\n" +
            "  nasflatness landscape '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|'\n" +
            "  nasflatness evaluate --genotype DARTS_V2 --epochs 2 --train-examples 512\n" +
            "  nasflatness compare --method darts --method beta-darts --seeds 0,1 --epochs 5\n" +
            "  nasflatness reproduce results/search-20261129-120000/manifest.json\n" +
            "  nasflatness plan --method darts --method beta-darts --seeds 0,1,2 --epochs 10 --slurm --array-limit 4\n" +
            "  nasflatness run-trial --plan plan.jsonl --index 0\n" +
            "  nasflatness collect results --plan plan.jsonl\n\n" +
            "Exit codes: 0 ok, 1 failure (reproduce: no match), 2 bad input, 3 diverged (collect: trials not completed), 75 run-trial: claimed by another launch, 130 cancelled.");
        root.Options.Add(JsonOption);
        root.Subcommands.Add(SearchCommand.Create(args, Output));
        root.Subcommands.Add(EvaluateCommand.Create(args, Output));
        root.Subcommands.Add(LandscapeCommand.Create(Output));
        root.Subcommands.Add(LookupCommand.Create(Output));
        root.Subcommands.Add(CompareCommand.Create(args, Output));
        root.Subcommands.Add(ReproduceCommand.Create(output, error, Output));
        root.Subcommands.Add(PresetsCommand.Create(Output));
        root.Subcommands.Add(PlanCommand.Create(args, Output));
        root.Subcommands.Add(RunTrialCommand.Create(Output));
        root.Subcommands.Add(CollectCommand.Create(args, Output));
        root.Subcommands.Add(DrawCommand.Create(Output));
        root.Subcommands.Add(ReportCommand.Create(Output));
        root.Subcommands.Add(ExportCommand.Create(Output));
        return root;
    }

    internal static bool IsCancellation(Exception ex) => ex is OperationCanceledException || ex.InnerException is OperationCanceledException;

    internal static bool IsUserError(Exception ex) =>
        ex is CliInputException or ArgumentException or FormatException or DirectoryNotFoundException or FileNotFoundException
            or InvalidDataException or GenotypeFormatException or NasFlatness.Trials.TrialPlanChangedException;

    internal static string WithoutParameterName(Exception ex)
    {
        var message = ex.Message;
        if (ex is ArgumentException { ParamName: { } name })
        {
            // " (Parameter 'x')", and for ArgumentOutOfRangeException a second line "Actual value was …", are API details.
            int suffix = message.IndexOf($" (Parameter '{name}')", StringComparison.Ordinal);
            if (suffix >= 0) message = message[..suffix];
        }
        return message;
    }
}
