using NasFlatness.SearchSpaces.Nb201;
using NasFlatness.SearchSpaces.Nb201.Reference;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace NasFlatness.Tests;

/// <summary>The optimised NB201 supernet computes the same function, gradients and BN statistics as the straightforward transcription.</summary>
[Collection(TorchCollection.Name)]
public sealed class Nb201EquivalenceTests
{
    /// <summary>Maps an optimised-cell tensor name to the reference tensors it concatenates (in channel order).</summary>
    private static IEnumerable<string>? ReferenceNames(string name)
    {
        // layers.{l}.conv1x1.{j}.weight  ->  layers.{l}.edges.{e}.ops.1.conv.weight for e in OutgoingEdges[j]
        var parts = name.Split('.');
        if (parts.Length < 5 || parts[0] != "layers") return null;
        string? op = parts[2] switch { "conv1x1" or "bn1x1" => "1", "conv3x3" or "bn3x3" => "2", _ => null };
        if (op is null) return null;
        int j = int.Parse(parts[3]);
        string module = parts[2].StartsWith("conv", StringComparison.Ordinal) ? "conv" : "bn";
        return Nb201SearchCell.OutgoingEdges[j].Select(e => $"layers.{parts[1]}.edges.{e}.ops.{op}.{module}.{parts[4]}");
    }

    private static void CopyReferenceInto(Nb201ReferenceSupernet reference, Nb201Supernet optimized)
    {
        var source = reference.state_dict();
        using var _ = torch.no_grad();
        foreach (var (name, target) in optimized.state_dict())
        {
            if (ReferenceNames(name) is { } names)
            {
                var pieces = names.Select(n => source[n]).ToArray();
                target.copy_(pieces[0].dim() == 0 ? pieces[0] : torch.cat(pieces, 0));
            }
            else
            {
                target.copy_(source[name]);
            }
        }
    }

    [Theory]
    [InlineData(4, 1)]
    [InlineData(3, 2)]
    public void OutputsGradientsAndStatisticsMatchTheStraightforwardSupernet(int channels, int cells)
    {
        var options = new Nb201Options { Channels = channels, CellsPerStage = cells };
        torch.manual_seed(3);
        using var reference = new Nb201ReferenceSupernet(options, DatasetInfo.Cifar10);
        using var optimized = (Nb201Supernet)new Nb201SearchSpace(options).CreateSupernet(DatasetInfo.Cifar10);
        reference.to(float64);
        optimized.to(float64);
        Assert.Equal(reference.parameters().Sum(p => p.numel()), optimized.parameters().Sum(p => p.numel()));
        CopyReferenceInto(reference, optimized);
        using (torch.no_grad()) optimized.Alpha.copy_(torch.randn(6, 5, dtype: float64)); // a non-trivial α
        using (torch.no_grad()) reference.ArchitectureParameters()[0].copy_(optimized.Alpha);

        using var scope = torch.NewDisposeScope();
        var x = torch.randn(8, 3, 32, 32, dtype: float64);
        var y = torch.randint(10, [8]);
        var lossRef = nn.functional.cross_entropy(reference.forward(x), y);
        var lossOpt = nn.functional.cross_entropy(optimized.forward(x), y);
        Assert.Equal(lossRef.item<double>(), lossOpt.item<double>(), 10);

        var refParams = reference.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        var optParams = optimized.named_parameters().ToList();
        var gradsRef = torch.autograd.grad([lossRef], refParams.Values.ToArray());
        var gradRefByName = refParams.Keys.Zip(gradsRef).ToDictionary(p => p.First, p => p.Second);
        var gradsOpt = torch.autograd.grad([lossOpt], optParams.Select(p => (Tensor)p.parameter).ToArray());
        for (int i = 0; i < optParams.Count; i++)
        {
            string name = optParams[i].name;
            var expected = ReferenceNames(name) is { } names ? torch.cat(names.Select(n => gradRefByName[n]).ToArray(), 0) : gradRefByName[name];
            Assert.True(torch.allclose(gradsOpt[i], expected, rtol: 1e-8, atol: 1e-10), $"gradient of {name} differs");
        }

        // BatchNorm running statistics were updated identically by the training-mode forward.
        var refState = reference.state_dict();
        foreach (var (name, buffer) in optimized.state_dict().Where(kv => kv.Key.Contains("running_", StringComparison.Ordinal)))
        {
            var expected = ReferenceNames(name) is { } names ? torch.cat(names.Select(n => refState[n]).ToArray(), 0) : refState[name];
            Assert.True(torch.allclose(buffer, expected, rtol: 1e-10, atol: 1e-12), $"buffer {name} differs");
        }

        // Eval mode (running statistics) agrees too.
        reference.eval();
        optimized.eval();
        Assert.True(torch.allclose(reference.forward(x), optimized.forward(x), rtol: 1e-9, atol: 1e-10));
    }
}
