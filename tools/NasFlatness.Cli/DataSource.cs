using NasFlatness.Data;
using NasFlatness.Evaluation;
using NasFlatness.Reproducibility;

namespace NasFlatness.Cli;

/// <summary>A dataset named on the command line: <c>cifar10</c> or <c>medmnist:&lt;file.npz&gt;</c>, with its folder.</summary>
internal sealed class DataSource
{
    private DataSource(string name, string kind, string path)
    {
        Name = name;
        Kind = kind;
        Path = path;
    }

    /// <summary>The name as the user wrote it.</summary>
    public string Name { get; }

    /// <summary><c>cifar10</c> or <c>medmnist</c>.</summary>
    public string Kind { get; }

    /// <summary>The CIFAR-10 folder or the MedMNIST .npz file.</summary>
    public string Path { get; }

    /// <summary>Parses and checks the dataset name and that its files exist; reads nothing else.</summary>
    public static DataSource Resolve(string? dataset, string? folder)
    {
        dataset = string.IsNullOrWhiteSpace(dataset) ? "cifar10" : dataset.Trim();
        if (dataset.Equals("cifar10", StringComparison.OrdinalIgnoreCase))
        {
            var dir = folder ?? FindShared("cifar10", "cifar-10-batches-bin")
                ?? throw new CliInputException("No CIFAR-10 folder found: pass --data <folder of the CIFAR-10 binary version (cifar-10-batches-bin)>.");
            if (!Directory.Exists(dir)) throw new CliInputException($"--data folder '{dir}' does not exist; pass the CIFAR-10 binary version folder (cifar-10-batches-bin).");
            if (!File.Exists(System.IO.Path.Combine(dir, "data_batch_1.bin")) && Directory.Exists(System.IO.Path.Combine(dir, "cifar-10-batches-bin")))
                dir = System.IO.Path.Combine(dir, "cifar-10-batches-bin");
            return new DataSource("cifar10", "cifar10", dir);
        }
        if (dataset.StartsWith("medmnist:", StringComparison.OrdinalIgnoreCase))
        {
            var file = dataset["medmnist:".Length..];
            if (file.Length == 0 || !file.EndsWith(".npz", StringComparison.OrdinalIgnoreCase))
                throw new CliInputException($"--dataset '{dataset}' is invalid: expected medmnist:<file.npz>, e.g. medmnist:pneumoniamnist.npz.");
            string? path = System.IO.Path.IsPathRooted(file) ? file
                : folder is not null ? System.IO.Path.Combine(folder, file)
                : File.Exists(file) ? file
                : FindShared("medmnist", file);
            if (path is null || !File.Exists(path))
                throw new CliInputException($"MedMNIST file '{file}' was not found{(folder is null ? "" : $" in --data folder '{folder}'")}; pass --data <folder holding it>.");
            return new DataSource(dataset, "medmnist", System.IO.Path.GetFullPath(path));
        }
        throw new CliInputException($"--dataset '{dataset}' is invalid: expected cifar10 or medmnist:<file.npz>.");
    }

    /// <summary>Loads the search data (training split for w, validation split for α).</summary>
    public (ISearchDataset Data, DatasetFingerprint Fingerprint) LoadSearch(int trainExamples, int validExamples, string device)
    {
        if (Kind == "cifar10")
        {
            var files = Enumerable.Range(1, 5).Select(i => System.IO.Path.Combine(Path, $"data_batch_{i}.bin")).ToArray();
            var images = CifarImages.Load(Path, CifarKind.Cifar10, train: true);
            var data = new CifarSearchData(images, new CifarSearchDataOptions { MaxTrainExamples = trainExamples, MaxValidationExamples = validExamples, Device = device });
            return (data, Fingerprint(files, data));
        }
        var med = MedMnistData.Load(Path);
        var search = new MedMnistSearchData(med, new MedMnistSearchDataOptions { MaxTrainExamples = trainExamples, MaxValidationExamples = validExamples, Device = device });
        return (search, Fingerprint([Path], search));
    }

    /// <summary>Loads the classification data (train and test) of an evaluation.</summary>
    public (IClassificationDataset Data, DatasetFingerprint Fingerprint) LoadClassification(int trainExamples, int testExamples, string device)
    {
        if (Kind == "cifar10")
        {
            var files = Enumerable.Range(1, 5).Select(i => System.IO.Path.Combine(Path, $"data_batch_{i}.bin")).Append(System.IO.Path.Combine(Path, "test_batch.bin")).ToArray();
            var train = CifarImages.Load(Path, CifarKind.Cifar10, train: true);
            var test = CifarImages.Load(Path, CifarKind.Cifar10, train: false);
            var data = new CifarClassificationData(train, test, new CifarClassificationDataOptions { MaxTrainExamples = trainExamples, MaxTestExamples = testExamples, Device = device });
            return (data, DatasetFingerprint.FromFiles(Name, files, new Dictionary<string, int>
            {
                ["train"] = data.Count(EvaluationSplit.Train), ["test"] = data.Count(EvaluationSplit.Test),
            }));
        }
        var med = MedMnistData.Load(Path);
        var classification = new MedMnistClassificationData(med, new MedMnistClassificationDataOptions { MaxTrainExamples = trainExamples, MaxTestExamples = testExamples, Device = device });
        return (classification, DatasetFingerprint.FromFiles(Name, [Path], new Dictionary<string, int>
        {
            ["train"] = classification.Count(EvaluationSplit.Train), ["test"] = classification.Count(EvaluationSplit.Test),
        }));
    }

    private DatasetFingerprint Fingerprint(IEnumerable<string> files, ISearchDataset data) =>
        DatasetFingerprint.FromFiles(Name, files, new Dictionary<string, int>
        {
            ["train"] = data.Count(SearchSplit.Train), ["valid"] = data.Count(SearchSplit.Validation),
        });

    /// <summary><c>shared/data/&lt;parts&gt;</c> in the current folder or above it (or beside it), or null.</summary>
    internal static string? FindShared(params string[] parts)
    {
        var dir = new DirectoryInfo(Directory.GetCurrentDirectory());
        while (dir is not null)
        {
            foreach (var prefix in new[] { dir.FullName, System.IO.Path.Combine(dir.FullName, "..") })
            {
                var candidate = System.IO.Path.GetFullPath(System.IO.Path.Combine([prefix, "shared", "data", .. parts]));
                if (Directory.Exists(candidate) || File.Exists(candidate)) return candidate;
            }
            dir = dir.Parent;
        }
        return null;
    }
}
