using NasFlatness.SearchSpaces;
using NasFlatness.Advanced;
using System.Globalization;
using NasFlatness.Optimizers;
using NasFlatness.Search;
using NasFlatness.SearchSpaces.Nb201;
using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.Comparison;

/// <summary>
/// Peak resident memory of search steps of one preset in a fresh process: builds the supernet, records the RSS, resets
/// the peak (/proc/self/clear_refs), runs full search steps (architecture step + weight step) on synthetic CIFAR-sized
/// batches, and prints one CSV line: preset, batch, steps, RSS after setup, peak RSS, peak − setup (MiB).
/// </summary>
internal static class MemoryProbe
{
    public static int Run(string presetName, int channels, int cells, int batch, int steps)
    {
        TorchRuntime.EnsureCorrectCpuKernels();
        torch.manual_seed(0);
        var preset = MethodPresets.Get(presetName);
        var options = new Nb201Options { Channels = channels, CellsPerStage = cells }.WithSupernetVariant(preset);
        var space = new Nb201SearchSpace(options);
        using var net = space.CreateSupernet(DatasetInfo.Cifar10);
        var weights = net.WeightParameters().ToArray();
        using var sgd = torch.optim.SGD(weights, 0.025, 0.9, 0.0, 3e-4, false);
        using var adam = torch.optim.Adam(net.ArchitectureParameters(), 3e-4, 0.5, 0.999, 1e-8, 1e-3);
        var optimizer = preset.CreateOptimizer();
        var regularizers = preset.CreateRegularizers(space.Name);
        var train = new Batch(torch.randn(batch, 3, 32, 32).DetachFromDisposeScope(), torch.randint(10, [batch]).DetachFromDisposeScope());
        var valid = new Batch(torch.randn(batch, 3, 32, 32).DetachFromDisposeScope(), torch.randint(10, [batch]).DetachFromDisposeScope());
        double setup = Rss("VmRSS:");
        PeakRss.Reset();
        for (int s = 0; s < steps; s++)
        {
            using var scope = torch.NewDisposeScope();
            var state = new WeightOptimizerState(0.025, 0.9, 3e-4);
            var step = new ArchitectureStep(net, train, valid, state, SoftmaxActivation.Instance, new SearchClock(10, 50, 0, 1, s));
            ArchitectureStepper.Step(step, optimizer, regularizers, net.ArchitectureParameters(), adam);
            sgd.zero_grad();
            nn.functional.cross_entropy(net.ForwardFixedArchitecture(train.Images, SoftmaxActivation.Instance), train.Labels).backward();
            nn.utils.clip_grad_norm_(weights, 5.0);
            sgd.step();
        }
        double peak = PeakRss.MiB();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{preset.Name},{batch},{steps},{setup:F1},{peak:F1},{peak - setup:F1}"));
        return 0;
    }

    private static double Rss(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(field, StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
        return double.NaN;
    }
}
