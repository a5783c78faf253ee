using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using NasFlatness.Data;
using NasFlatness.Genotypes;
using NasFlatness.Onnx;
using NasFlatness.Reproducibility;
using NasFlatness.SearchSpaces.Darts;
using NasFlatness.SearchSpaces.Nb201;
using NasFlatness.SearchSpaces.ZoDartsPlusPlus;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.Cli;

/// <summary>Genotype text as the commands accept it.</summary>
internal static class CliGenotypes
{
    /// <summary>A NAS-Bench-201 arch string, DARTS <c>Genotype(...)</c> text, a ZO-DARTS++ cell (<c>cells=N |op~0|+… / … / …</c>) or a published DARTS name.</summary>
    public static Genotype Parse(string text)
    {
        text = text.Trim();
        return text.StartsWith('|') ? Nb201Genotype.Parse(text)
            : text.StartsWith("Genotype", StringComparison.Ordinal) ? DartsGenotype.Parse(text)
            : text.StartsWith("cells=", StringComparison.Ordinal) ? ZoDartsPlusPlusGenotype.Parse(text)
            : DartsGenotype.Published.ContainsKey(text) ? DartsGenotype.FromName(text)
            : throw new CliInputException($"--genotype '{ErrorText.Echo(text, 120)}' is neither a NAS-Bench-201 arch string (|op~0|+…), DARTS Genotype(...) text, a ZO-DARTS++ cell (cells=N |op~0|+… / … / …) nor a published name ({string.Join(", ", DartsGenotype.Published.Keys)}).");
    }

    /// <summary>The built-in space whose networks <paramref name="genotype"/> describes, shaped for a network of C = <paramref name="channels"/>
    /// and <paramref name="cells"/> cells (NB201 and ZO-DARTS++: per stage; DARTS: in total).</summary>
    public static ISearchSpace SpaceFor(Genotype genotype, int channels, int cells, bool auxiliaryHead = true) => genotype switch
    {
        Nb201Genotype => new Nb201SearchSpace(new Nb201Options { Channels = channels, CellsPerStage = cells }),
        ZoDartsPlusPlusGenotype => new ZoDartsPlusPlusSearchSpace(new ZoDartsPlusPlusOptions { Channels = channels, CellsPerStage = cells }),
        _ => new DartsSearchSpace(new DartsSpaceOptions { NetworkChannels = channels, NetworkCells = cells, AuxiliaryHead = auxiliaryHead }),
    };
}

/// <summary>What an evaluation folder's <c>network.json</c> records: enough to rebuild the network its <c>weights.bin</c> fits.</summary>
internal sealed record NetworkDescription(string Space, string Genotype, int Channels, int Cells, bool AuxiliaryHead, int ImageChannels, int Height, int Width,
    int Classes, float[]? Mean, float[]? Std, string[]? Labels)
{
    public DatasetInfo Info => new(ImageChannels, Height, Width, Classes);
}

/// <summary>
/// <c>nasflatness export</c>: writes a trained network (an evaluation folder, or a genotype and its weights) as an ONNX model
/// (NasFlatness.Onnx, docs/export.md); <c>evaluate --onnx</c> calls <see cref="SaveEvaluation"/> after training.
/// </summary>
internal static class ExportCommand
{
    public const string WeightsFile = "weights.bin", NetworkFile = "network.json", ModelFile = "model.onnx";

    public static IReadOnlyList<string> Cifar10Labels { get; } = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static Command Create(Func<ParseResult, CliOutput> output)
    {
        var folder = new Argument<string?>("evaluation-folder") { Description = "A folder written by 'nasflatness evaluate' (network.json, weights.bin, manifest.json).", Arity = ArgumentArity.ZeroOrOne };
        var genotype = new Option<string?>("--genotype", "-g") { Description = "Instead of a folder: the cell (NAS-Bench-201 arch string, DARTS Genotype(...) text or published name); needs --weights." };
        var weights = new Option<string?>("--weights") { Description = "Instead of a folder: the network's weights (TorchSharp Module.save format) for --genotype." };
        var channels = new Option<int>("--channels") { Description = "With --genotype: network channels, as trained.", DefaultValueFactory = _ => 8 };
        var cells = new Option<int?>("--cells") { Description = "With --genotype: DARTS cells in total (default 5); NAS-Bench-201 cells per stage (default 1)." };
        var dataset = new Option<string>("--dataset") { Description = "With --genotype: cifar10 or medmnist:<file.npz> (image shape, classes and normalisation).", DefaultValueFactory = _ => "cifar10" };
        var data = new Option<string?>("--data") { Description = "With a medmnist dataset: the folder holding the .npz file." };
        var outputOption = new Option<string>("--output", "-o") { Description = "The .onnx file to write.", Required = true };
        var opset = new Option<int>("--opset") { Description = $"ONNX opset ({OnnxExportOptions.MinimumOpset}..{OnnxExportOptions.MaximumOpset}).", DefaultValueFactory = _ => OnnxExportOptions.MinimumOpset };
        var keepBn = new Option<bool>("--keep-batchnorm") { Description = "Write BatchNormalization nodes instead of folding each BatchNorm into its convolution." };
        var command = new Command("export",
            "Export a trained network to ONNX (float32, eval-mode BatchNorm, dynamic batch axis, opset 17) for ONNX Runtime and ML.NET, with the genotype, " +
            "input normalisation and class labels as metadata (docs/export.md).\n\n" +
            "Examples:\n  nasflatness export results/evaluate-20261207-120000 -o model.onnx\n" +
            "  nasflatness export --genotype DARTS_V2 --weights weights.bin --channels 16 --cells 8 -o darts.onnx")
        {
            folder, genotype, weights, channels, cells, dataset, data, outputOption, opset, keepBn,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var o = output(parse);
            var path = CheckWritable(parse.GetValue(outputOption)!);
            var options = new OnnxExportOptions { Opset = parse.GetValue(opset), FoldBatchNorm = !parse.GetValue(keepBn) };
            var optionErrors = options.Validate();
            if (optionErrors.Count > 0) throw new CliInputException(string.Join(" ", optionErrors).Replace("Opset", "--opset", StringComparison.Ordinal));
            string? dir = parse.GetValue(folder), genotypeText = parse.GetValue(genotype), weightsPath = parse.GetValue(weights);
            NetworkDescription description;
            string? manifestHash = null;
            if (dir is not null)
            {
                if (genotypeText is not null || weightsPath is not null)
                    throw new CliInputException("Give either an evaluation folder or --genotype with --weights, not both.");
                (description, weightsPath, manifestHash) = ReadFolder(dir);
            }
            else
            {
                if (genotypeText is null || weightsPath is null)
                    throw new CliInputException("Give an evaluation folder, or --genotype and --weights (both).");
                if (!File.Exists(weightsPath)) throw new CliInputException($"--weights file '{weightsPath}' does not exist.");
                int c = parse.GetValue(channels);
                if (c < 1) throw new CliInputException($"--channels {c} is invalid: must be at least 1.");
                if (parse.GetValue(cells) is < 1) throw new CliInputException("--cells must be at least 1.");
                var datasetName = parse.GetValue(dataset);
                bool cifar10 = string.IsNullOrWhiteSpace(datasetName) || datasetName.Trim().Equals("cifar10", StringComparison.OrdinalIgnoreCase);
                description = Describe(CliGenotypes.Parse(genotypeText), c, parse.GetValue(cells), auxiliaryHead: true,
                    cifar10 ? null : DataSource.Resolve(datasetName, parse.GetValue(data))); // CIFAR-10's shape and normalisation need no files
            }
            NasFlatness.Advanced.TorchRuntime.EnsureCorrectCpuKernels(); // the CLI's kernel policy (and no NNPACK warnings)
            using var network = Load(description, weightsPath);
            cancellationToken.ThrowIfCancellationRequested();
            Write(network, description, path, options, manifestHash);
            o.Event("exported", new { model = path, genotype = description.Genotype, space = description.Space, opset = options.Opset, bytes = new FileInfo(path).Length });
            o.Line(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"exported {description.Genotype} ({description.Space}, C={description.Channels}, cells={description.Cells}) to {path}: {new FileInfo(path).Length / 1024.0:F0} KB, opset {options.Opset}, BatchNorm {(options.FoldBatchNorm ? "folded" : "kept")}")));
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }

    /// <summary>
    /// After <c>evaluate</c>: writes the trained weights (<c>weights.bin</c>) and <c>network.json</c> into the evaluation folder,
    /// and with <paramref name="onnx"/> <c>model.onnx</c> beside them (with the manifest's hash in its metadata).
    /// </summary>
    public static void SaveEvaluation(string folder, nn.Module<Tensor, Tensor> network, Genotype genotype, int channels, int cells, DataSource source,
        string manifestPath, bool onnx, CliOutput o)
    {
        var description = Describe(genotype, channels, cells, auxiliaryHead: genotype is DartsGenotype, source);
        OutputFolder.WriteFile(Path.Combine(folder, WeightsFile), stream =>
        {
            using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            network.save(writer);
        });
        OutputFolder.WriteText(Path.Combine(folder, NetworkFile), JsonSerializer.Serialize(description, Json));
        if (!onnx) return;
        var model = Path.Combine(folder, ModelFile);
        Write(network, description, model, new OnnxExportOptions(), Sha256(manifestPath));
        o.Event("onnx", new { model });
        o.Text($"onnx: {model}");
    }

    /// <summary>The description of a network; <paramref name="source"/> null means CIFAR-10.</summary>
    private static NetworkDescription Describe(Genotype genotype, int channels, int? cells, bool auxiliaryHead, DataSource? source)
    {
        bool nb201 = genotype is Nb201Genotype;
        int n = cells ?? (nb201 ? 1 : 5);
        if (source is null || source.Kind == "cifar10")
        {
            var info = DatasetInfo.Cifar10;
            return new NetworkDescription(genotype.SpaceName, genotype.ToString(), channels, n, auxiliaryHead && !nb201, info.Channels, info.Height, info.Width, info.ClassCount,
                [.. CifarImages.Mean(CifarKind.Cifar10)], [.. CifarImages.Std(CifarKind.Cifar10)], [.. Cifar10Labels]);
        }
        var med = MedMnistData.Load(source.Path);
        return new NetworkDescription(genotype.SpaceName, genotype.ToString(), channels, n, auxiliaryHead && !nb201, med.Info.Channels, med.Info.Height, med.Info.Width,
            med.Info.ClassCount, [.. med.Train.Mean()], [.. med.Train.Std()], null);
    }

    private static (NetworkDescription, string Weights, string? ManifestHash) ReadFolder(string dir)
    {
        if (!Directory.Exists(dir)) throw new CliInputException($"Evaluation folder '{dir}' does not exist.");
        var networkFile = Path.Combine(dir, NetworkFile);
        var weightsFile = Path.Combine(dir, WeightsFile);
        if (!File.Exists(networkFile) || !File.Exists(weightsFile))
            throw new CliInputException($"'{dir}' is not an evaluation folder with trained weights: it lacks {(File.Exists(networkFile) ? WeightsFile : NetworkFile)} (written by 'nasflatness evaluate').");
        NetworkDescription? description;
        try
        {
            description = JsonSerializer.Deserialize<NetworkDescription>(File.ReadAllText(networkFile));
        }
        catch (JsonException ex)
        {
            throw new CliInputException($"'{networkFile}' is not a valid network description: {ex.Message}");
        }
        if (description is null) throw new CliInputException($"'{networkFile}' is empty.");
        var manifest = Path.Combine(dir, RunManifest.FileName);
        return (description, weightsFile, File.Exists(manifest) ? Sha256(manifest) : null);
    }

    /// <summary>Builds the network and loads the weights; weights of another genotype or shape are a user error.</summary>
    private static nn.Module<Tensor, Tensor> Load(NetworkDescription d, string weightsPath)
    {
        var genotype = CliGenotypes.Parse(d.Genotype);
        var space = CliGenotypes.SpaceFor(genotype, d.Channels, d.Cells, d.AuxiliaryHead);
        space.Validate(d.Info);
        var network = space.CreateNetwork(genotype, d.Info);
        try
        {
            network.load(weightsPath);
            return network;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or IOException or EndOfStreamException or System.Runtime.InteropServices.ExternalException)
        {
            network.Dispose();
            if (genotype is DartsGenotype && d.AuxiliaryHead) return Load(d with { AuxiliaryHead = false }, weightsPath); // weights saved without the auxiliary head
            throw new CliInputException(
                $"The weights '{weightsPath}' do not fit the network of {d.Genotype} with {d.Channels} channels and {d.Cells} cells ({ex.Message.TrimEnd('.')}); pass the genotype, --channels and --cells it was trained with.");
        }
    }

    private static void Write(nn.Module network, NetworkDescription d, string path, OnnxExportOptions options, string? manifestHash)
    {
        options.RunManifestSha256 = manifestHash;
        options.InputMean = d.Mean;
        options.InputStd = d.Std;
        options.ClassLabels = d.Labels;
        OnnxExporter.Export(network, [d.ImageChannels, d.Height, d.Width], path, options);
    }

    /// <summary>The full path of the output; the folder must exist and the file must be creatable (checked by creating and deleting a temporary file).</summary>
    private static string CheckWritable(string output)
    {
        var full = Path.GetFullPath(output);
        if (Directory.Exists(full)) throw new CliInputException($"--output '{output}' is a folder; give the .onnx file to write.");
        var dir = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(dir)) throw new CliInputException($"--output '{output}': the folder '{dir}' does not exist.");
        try
        {
            using var probe = new FileStream(full + ".tmp", FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            throw new CliInputException($"--output '{output}' is not writable: {ex.Message}");
        }
        return full;
    }

    private static string Sha256(string file)
    {
        using var stream = File.OpenRead(file);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
