using System.CommandLine;
using System.Globalization;
using NasFlatness.Genotypes;
using NasFlatness.Landscape;
using Spectre.Console;

namespace NasFlatness.Cli;

/// <summary><c>nasflatness lookup</c>: a cell's NAS-Bench-201 record.</summary>
internal static class LookupCommand
{
    public static Command Create(Func<ParseResult, CliOutput> output)
    {
        var cell = new Argument<string[]>("cell") { Description = "NAS-Bench-201 arch strings (|op~0|+|op~0|op~1|+|op~0|op~1|op~2|) or table indices (0..15624).", Arity = ArgumentArity.OneOrMore };
        var tableOption = new Option<string?>("--table") { Description = "A NAS-Bench-201 test-accuracy CSV instead of the embedded table." };
        var command = new Command("lookup",
            "Look cells up in the NAS-Bench-201 table: CIFAR-10/100 and ImageNet16-120 test accuracy (200-epoch, mean of seeds), isomorphism class, and rank among the 15,625 cells.\n\n" +
            "Examples:\n  nasflatness lookup '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|'\n  nasflatness lookup 0 15624 --json")
        {
            cell, tableOption,
        };
        command.SetAction(parse =>
        {
            var o = output(parse);
            var path = parse.GetValue(tableOption);
            if (path is not null && !File.Exists(path)) throw new CliInputException($"--table file '{path}' does not exist.");
            var cells = parse.GetValue(cell)!;
            var genotypes = cells.Select(Parse).ToArray(); // every cell checked before the table is read
            var table = path is null ? Nb201Table.Embedded : Nb201Table.Load(path);
            var view = new Table().AddColumns("#", "cell", "CIFAR-10", "CIFAR-100", "ImageNet16-120", "rank (C10)");
            foreach (var g in genotypes)
            {
                var r = g.Index is int i ? table[i] : table.Get(g.Genotype!);
                int rank = SearchJob.Rank(table, r.Cifar10TestAccuracy);
                o.Event("lookup", new
                {
                    index = r.Index, cell = r.ArchString, isomorphismClass = r.IsomorphismClass, cifar10 = r.Cifar10TestAccuracy, cifar100 = r.Cifar100TestAccuracy,
                    imageNet16 = r.ImageNet16TestAccuracy, rank, of = table.Count,
                });
                view.AddRow(r.Index.ToString(CultureInfo.InvariantCulture), Markup.Escape(r.ArchString), F(r.Cifar10TestAccuracy), F(r.Cifar100TestAccuracy), F(r.ImageNet16TestAccuracy),
                    string.Create(CultureInfo.InvariantCulture, $"{rank:N0} / {table.Count:N0}"));
            }
            if (!o.Json) o.Console.Write(view);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static string F(double v) => v.ToString("F2", CultureInfo.InvariantCulture);

    private static (int? Index, Nb201Genotype? Genotype) Parse(string text)
    {
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int index))
        {
            if (index >= Nb201Table.ArchitectureCount) throw new CliInputException($"Table index {index} is out of range: 0..{Nb201Table.ArchitectureCount - 1}.");
            return (index, null);
        }
        return (null, Nb201Genotype.Parse(text));
    }
}
