namespace NasFlatness.Testing;

/// <summary>Locates the shared real data (<c>&lt;repo&gt;/../shared/data</c>) from the test binary's folder.</summary>
internal static class TestData
{
    private static readonly Lazy<string> Root = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data");
            if (Directory.Exists(candidate)) return candidate;
            dir = dir.Parent;
        }
        throw new DirectoryNotFoundException($"Could not find shared/data above {AppContext.BaseDirectory}; the tests need the real data beside the repository (../shared/data).");
    });

    private static readonly Lazy<NasFlatness.Data.CifarImages> Cifar10TrainLazy = new(() => NasFlatness.Data.CifarImages.Load(Cifar10));
    private static readonly Lazy<NasFlatness.Data.CifarImages> Cifar10TestLazy = new(() => NasFlatness.Data.CifarImages.Load(Cifar10, train: false));

    public static string SharedData => Root.Value;

    public static string Cifar10 => Path.Combine(SharedData, "cifar10", "cifar-10-batches-bin");

    public static string Nb201TestAccuracyCsv => Path.Combine(SharedData, "nb201", "nb201_hp200_test_acc.csv");

    /// <summary>The CIFAR-10 training set, read once per test run.</summary>
    public static NasFlatness.Data.CifarImages Cifar10Train => Cifar10TrainLazy.Value;

    /// <summary>The CIFAR-10 test set, read once per test run.</summary>
    public static NasFlatness.Data.CifarImages Cifar10Test => Cifar10TestLazy.Value;
}
