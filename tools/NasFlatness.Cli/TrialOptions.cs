using System.Globalization;
using NasFlatness.Trials;

namespace NasFlatness.Cli;

/// <summary>
/// A search request as trial options (the keys are the <c>search</c> flags without <c>--</c>) and back. Plans store the
/// resolved values (a preset's batch size, learning rates and warm-up made explicit), so a trial runs the same even if a
/// preset's defaults change between planning and running.
/// </summary>
internal static class TrialOptions
{
    /// <summary>Every key a trial's options may have.</summary>
    public static readonly string[] Keys =
    [
        "space", "method", "optimizer", "regularizer", "activation", "schedule", "dataset", "data", "epochs", "train-examples", "valid-examples",
        "batch-size", "channels", "cells", "arch-lr", "weight-lr", "warmup", "validation-batches", "device", "seed", "threads", "protocol",
        "alpha-hessian-every", "weight-sharpness", "weight-rho", "switch-epoch",
    ];

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);

    private static string D(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>The options of a resolved request: what the user gave plus the preset's resolved batch size, learning rates and warm-up.</summary>
    public static SortedDictionary<string, string> From(SearchRequest r, SearchPlan resolved)
    {
        var o = Given(r);
        o["batch-size"] = I(resolved.Options.BatchSize);
        o["arch-lr"] = D(resolved.Options.ArchitectureLearningRate);
        o["weight-lr"] = D(resolved.Options.WeightLearningRate);
        o["warmup"] = I(resolved.Options.WarmupEpochs);
        return o;
    }

    /// <summary>The options of a request as given (nothing resolved; optional values only when set).</summary>
    public static SortedDictionary<string, string> Given(SearchRequest r)
    {
        var o = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["space"] = r.Space, ["dataset"] = r.Dataset, ["epochs"] = I(r.Epochs), ["train-examples"] = I(r.TrainExamples), ["valid-examples"] = I(r.ValidExamples),
            ["channels"] = I(r.Channels), ["cells"] = I(r.Cells), ["device"] = r.Device, ["seed"] = I(r.Seed),
            // The protocol that filled the sizes (recorded, and replayed by the manifest's command line; "none" so that a
            // replay does not apply the default protocol to the values the plan left unset).
            ["protocol"] = r.Protocol ?? "none",
        };
        if (r.BatchSize is int b) o["batch-size"] = I(b);
        if (r.ArchitectureLearningRate is double alr) o["arch-lr"] = D(alr);
        if (r.WeightLearningRate is double wlr) o["weight-lr"] = D(wlr);
        if (r.WarmupEpochs is int w) o["warmup"] = I(w);
        if (r.Method is not null) o["method"] = r.Method;
        if (r.Optimizer is not null) o["optimizer"] = r.Optimizer;
        if (r.Regularizers.Count > 0) o["regularizer"] = string.Join(",", r.Regularizers);
        if (r.Activation is not null) o["activation"] = r.Activation;
        if (r.Schedule is not null) o["schedule"] = r.Schedule;
        if (r.DataFolder is not null) o["data"] = Path.TrimEndingDirectorySeparator(Path.GetFullPath(r.DataFolder));
        if (r.ValidationBatches is int v) o["validation-batches"] = I(v);
        if (r.Threads is int t) o["threads"] = I(t);
        if (r.AlphaHessianEvery is int h) o["alpha-hessian-every"] = I(h);
        if (r.WeightSharpness is { } sharpness) o["weight-sharpness"] = sharpness;
        if (r.WeightRho is double rho) o["weight-rho"] = D(rho);
        if (r.SwitchEpoch is int se) o["switch-epoch"] = I(se);
        return o;
    }

    /// <summary>The request a trial's options describe.</summary>
    /// <exception cref="CliInputException">An unknown key or a value that does not parse (the trial is named).</exception>
    public static SearchRequest ToRequest(TrialSpec trial) => ToRequest(trial.Options, $"trial {trial.Index} ({trial.Id})");

    /// <summary>The request <paramref name="options"/> describe (raw grid values or a plan's options); <paramref name="what"/> names them in errors.</summary>
    public static SearchRequest ToRequest(IReadOnlyDictionary<string, string> options, string what)
    {
        var unknown = options.Keys.Where(k => !Keys.Contains(k)).ToArray();
        if (unknown.Length > 0)
            throw new CliInputException($"{what}: unknown option{(unknown.Length == 1 ? "" : "s")} {string.Join(", ", unknown.Select(k => $"'{ErrorText.Echo(k)}'"))}; known: {string.Join(", ", Keys)}.");
        string? S(string k) => options.TryGetValue(k, out var v) ? v : null;
        int? N(string k)
        {
            if (S(k) is not { } v) return null;
            return int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? n
                : throw new CliInputException($"{what}: {k} = '{ErrorText.Echo(v)}' is not an integer.");
        }
        double? F(string k)
        {
            if (S(k) is not { } v) return null;
            return double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) ? x
                : throw new CliInputException($"{what}: {k} = '{ErrorText.Echo(v)}' is not a number.");
        }
        var d = new SearchRequest();
        return new SearchRequest
        {
            Space = S("space") ?? d.Space,
            Method = S("method"),
            Optimizer = S("optimizer"),
            Regularizers = S("regularizer") is { } regs ? regs.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [],
            Activation = S("activation"),
            Schedule = S("schedule"),
            Dataset = S("dataset") ?? d.Dataset,
            DataFolder = S("data"),
            Epochs = N("epochs") ?? d.Epochs,
            TrainExamples = N("train-examples") ?? d.TrainExamples,
            ValidExamples = N("valid-examples") ?? d.ValidExamples,
            BatchSize = N("batch-size"),
            Channels = N("channels") ?? d.Channels,
            Cells = N("cells") ?? d.Cells,
            ArchitectureLearningRate = F("arch-lr"),
            WeightLearningRate = F("weight-lr"),
            WarmupEpochs = N("warmup"),
            ValidationBatches = N("validation-batches"),
            Device = S("device") ?? d.Device,
            Seed = N("seed") ?? d.Seed,
            Threads = N("threads"),
            AlphaHessianEvery = N("alpha-hessian-every"),
            WeightSharpness = S("weight-sharpness"),
            WeightRho = F("weight-rho"),
            SwitchEpoch = N("switch-epoch"),
            Protocol = S("protocol") is { } pn && !string.Equals(pn, "none", StringComparison.OrdinalIgnoreCase) ? pn : null,
        };
    }

    /// <summary>The equivalent <c>search</c> command line (what a trial's manifest records, so <c>reproduce</c> can re-run it).</summary>
    public static string[] SearchCommandLine(TrialSpec trial)
    {
        var args = new List<string> { "search" };
        foreach (var (key, value) in trial.Options)
        {
            if (key == "regularizer")
                foreach (var r in value.Split(',', StringSplitOptions.RemoveEmptyEntries)) args.AddRange(["--regularizer", r]);
            else args.AddRange(["--" + key, value]);
        }
        return [.. args];
    }
}
