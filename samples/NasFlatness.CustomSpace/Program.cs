using System.Globalization;
using System.Text.Json;
using NasFlatness;
using NasFlatness.CustomSpace;
using NasFlatness.Optimizers;
using NasFlatness.Search;

// A user's own search space (TinySearchSpace), genotype (TinyGenotype) and data (StripesData), searched with the
// library's DARTS optimizer and β-DARTS regularizer, with per-epoch checkpoints: stop it at any point (Ctrl-C, kill)
// and run the same command again to resume from the last completed epoch.
//
//   dotnet run --project samples/NasFlatness.CustomSpace -- --epochs 4 --checkpoint ckpt --result result.json
var arguments = ParseArguments(args);
int epochs = int.Parse(arguments.GetValueOrDefault("--epochs", "4"), CultureInfo.InvariantCulture);
int seed = int.Parse(arguments.GetValueOrDefault("--seed", "0"), CultureInfo.InvariantCulture);
int stepDelay = int.Parse(arguments.GetValueOrDefault("--step-delay-ms", "0"), CultureInfo.InvariantCulture);

var space = new TinySearchSpace(new TinySearchSpaceOptions { Channels = 8, Cells = 2 });
using var data = new StripesData(trainCount: 256, validationCount: 256, seed: seed);
var options = new SearchOptions
{
    Epochs = epochs,
    BatchSize = 32,
    ArchitectureLearningRate = 3e-2,
    Seed = seed,
    CheckpointDirectory = arguments.GetValueOrDefault("--checkpoint"),
};
var runner = new SearchRunner(space, new DartsFirstOrder(), [new BetaDecayRegularizer()], options)
{
    Observers = [new StepDelay(stepDelay)],
};

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};
SearchResult result;
try
{
    result = runner.Run(data, new ConsoleProgress(), cancel.Token);
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("cancelled: run the same command again to resume from the last checkpoint.");
    return 130;
}

var genotype = result.GetGenotype<TinyGenotype>();
Console.WriteLine($"final genotype {genotype} (epoch {result.SelectedEpoch + 1})");
if (arguments.GetValueOrDefault("--result") is { } path)
{
    var summary = new
    {
        Genotype = genotype.ToString(),
        Alpha = result.Epochs[^1].Architecture.SelectMany(m => m.SelectMany(r => r)).Select(v => v.ToString("R", CultureInfo.InvariantCulture)).ToArray(),
        TrainLoss = result.Epochs.Select(e => e.TrainLoss.ToString("R", CultureInfo.InvariantCulture)).ToArray(),
        ValidationLoss = result.Epochs.Select(e => e.ValidationLoss.ToString("R", CultureInfo.InvariantCulture)).ToArray(),
    };
    File.WriteAllText(path, JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }));
}
return 0;

static Dictionary<string, string> ParseArguments(string[] args)
{
    var result = new Dictionary<string, string>(StringComparer.Ordinal);
    for (int i = 0; i + 1 < args.Length; i += 2) result[args[i]] = args[i + 1];
    return result;
}

/// <summary>Prints one line per completed epoch.</summary>
internal sealed class ConsoleProgress : IProgress<SearchProgress>
{
    public void Report(SearchProgress value)
    {
        if (value.CompletedEpoch is { } e)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"epoch {e.Epoch + 1}/{value.TotalEpochs}: train loss {e.TrainLoss:F4}, valid acc {e.ValidationAccuracy:P1}, max weight {e.MeanMaxWeight:F3}, genotype {e.Genotype}"));
    }
}

/// <summary>An observer of the search's weight steps (here: slows the search down, so a demo can interrupt it).</summary>
internal sealed class StepDelay(int milliseconds) : ISearchObserver
{
    public void OnWeightStep(WeightStep step)
    {
        if (milliseconds > 0) Thread.Sleep(milliseconds);
    }
}
