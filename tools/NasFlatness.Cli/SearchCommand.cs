using System.CommandLine;
using NasFlatness.Optimizers;
using Spectre.Console;

namespace NasFlatness.Cli;

/// <summary><c>nasflatness search</c>.</summary>
internal static class SearchCommand
{
    public static Command Create(string[] args, Func<ParseResult, CliOutput> output)
    {
        var a = new SearchArguments();
        var registry = new NasFlatnessRegistry().AddBuiltInMethods();
        var command = new Command("search",
            "Search a cell: bilevel DARTS-style search with a method preset or an optimizer plus regularizers. Shows the largest mixing weight of every edge as it " +
            "sharpens and the time left; writes manifest.json, alpha.png (max mixing weight per edge over the epochs), epochs.jsonl, cell.svg (the found cell) and report.html (the run's page) to --output; on NAS-Bench-201 " +
            "with CIFAR-10 prints the found cell's table accuracy and its rank among the 15,625 cells.\n\n" +
            "Presets and the paper/protocol they reproduce:\n" + string.Join("\n", registry.Presets.All.Select(p => $"  {p.Name,-24} {p.Reference}")) + "\n\n" +
            "The sizes not given come from the space's protocol — quick-nb201 on nas-bench-201 (C = 8, N = 1, 1,280 + 1,280 images, 16 epochs, about 2 minutes on 2 cores), " +
            "quick-darts on darts (C = 8, 5 cells, 640 + 640 images, 10 epochs) — and the α learning rate is derived so that α-lr × α steps equals the paper's; " +
            "--protocol cpu-nb201 is the comparison protocol, --protocol none the plain defaults. Which presets run on which space: docs/cli.md, \"Method matrix\".\n\n" +
            "Examples:\n" +
            "  nasflatness search --method darts\n" +
            "  nasflatness search --method beta-darts --protocol cpu-nb201 --seed 3\n" +
            "  nasflatness search --method darts --protocol none --epochs 10 --arch-lr 3e-2 --channels 8 --cells 1\n" +
            "  nasflatness search --optimizer darts-1st --regularizer beta-decay --regularizer a2m --seed 1\n" +
            "  nasflatness search --method zo-darts+ --epochs 6 --batch-size 64\n" +
            "  nasflatness search --space nas-bench-201-varied --method zo-darts++-small --channels 8 --cells 2 --epochs 6 --switch-epoch 2 --train-examples 1280 --batch-size 64\n" +
            "  nasflatness search --method pc-darts --dataset medmnist:pneumoniamnist.npz --epochs 5\n" +
            "  nasflatness search --space darts --method darts --checkpoint ckpt/");
        a.AddTo(command);
        command.SetAction((parse, cancellationToken) =>
        {
            var o = output(parse);
            var request = a.Read(parse);
            var plan = SearchJob.Resolve(request);
            var folder = request.Output ?? SearchArguments.DefaultOutput("search");
            OutputFolder.RemoveIfLeftEmpty(folder, () => SearchJob.Run(plan, args, folder, o, cancellationToken));
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }
}

/// <summary><c>nasflatness presets</c>: every preset with its components, settings and reference.</summary>
internal static class PresetsCommand
{
    public static Command Create(Func<ParseResult, CliOutput> output)
    {
        var command = new Command("presets", "List the method presets: what each composes, the settings it fixes and the paper and protocol it reproduces.\n\nExample:\n  nasflatness presets --json");
        command.SetAction(parse =>
        {
            var o = output(parse);
            var registry = new NasFlatnessRegistry().AddBuiltInMethods();
            var table = new Spectre.Console.Table().AddColumns("preset", "optimizer + regularizers", "activation", "schedule", "reference");
            foreach (var p in registry.Presets.All)
            {
                string parts = string.Join(" + ", new[] { p.Optimizer }.Concat(p.Regularizers));
                string activation = p.Activation ?? SoftmaxActivation.ActivationName, schedule = p.Schedule ?? EveryStepSchedule.ScheduleName;
                o.Event("preset", new { name = p.Name, optimizer = p.Optimizer, regularizers = p.Regularizers, activation, schedule, description = p.Description, reference = p.Reference, settings = p.Settings });
                table.AddRow(Spectre.Console.Markup.Escape(p.Name), Spectre.Console.Markup.Escape(parts), Spectre.Console.Markup.Escape(activation), Spectre.Console.Markup.Escape(schedule),
                    Spectre.Console.Markup.Escape(p.Reference ?? ""));
            }
            if (!o.Json) o.Console.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }
}
