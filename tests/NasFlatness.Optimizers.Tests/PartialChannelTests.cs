using NasFlatness.SearchSpaces.Operations;
using NasFlatness.SearchSpaces.Nb201;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace NasFlatness.Optimizers.Tests;

[Collection(TorchCollection.Name)]
public sealed class PartialChannelTests
{
    /// <summary>Outgoing edges of nodes 0, 1, 2 in the optimised supernet's batched convolutions.</summary>
    private static readonly int[][] OutgoingEdges = [[0, 1, 3], [2, 4], [5]];

    /// <summary>Maps a plain-supernet tensor name to the per-edge tensors it concatenates (channel order), or null if shared.</summary>
    private static IEnumerable<string>? PerEdgeNames(string name)
    {
        // layers.{l}.conv1x1.{j}.weight -> layers.{l}.edges.{e}.ops.1.conv.weight for e in OutgoingEdges[j]
        var parts = name.Split('.');
        if (parts.Length < 5 || parts[0] != "layers") return null;
        string? op = parts[2] switch { "conv1x1" or "bn1x1" => "1", "conv3x3" or "bn3x3" => "2", _ => null };
        if (op is null) return null;
        int j = int.Parse(parts[3]);
        string module = parts[2].StartsWith("conv", StringComparison.Ordinal) ? "conv" : "bn";
        return OutgoingEdges[j].Select(e => $"layers.{parts[1]}.edges.{e}.ops.{op}.{module}.{parts[4]}");
    }

    [Theory]
    [InlineData(4, 1, PartialChannelScope.PerEdge)]
    [InlineData(3, 2, PartialChannelScope.PerCell)]
    public void WithKOneAndNoEdgeNormalisationItIsThePlainSupernet(int channels, int cells, PartialChannelScope scope)
    {
        using var disposeScope = torch.NewDisposeScope();
        torch.manual_seed(5);
        var plainOptions = new Nb201Options { Channels = channels, CellsPerStage = cells };
        var pcOptions = new Nb201Options
        {
            Channels = channels, CellsPerStage = cells, PartialChannels = true, PartialChannelProportion = 1, EdgeNormalization = false, PartialChannelScope = scope,
        };
        using var plain = (Nb201Supernet)new Nb201SearchSpace(plainOptions).CreateSupernet(DatasetInfo.Cifar10);
        using var pc = (Nb201PartialChannelSupernet)new Nb201SearchSpace(pcOptions).CreateSupernet(DatasetInfo.Cifar10);
        plain.to(float64);
        pc.to(float64);
        Assert.Equal(plain.parameters().Sum(p => p.numel()), pc.parameters().Sum(p => p.numel()));
        Assert.Single(pc.ArchitectureParameters());

        // Copy the per-edge weights of the PC supernet into the plain one.
        var source = pc.state_dict();
        using (torch.no_grad())
        {
            foreach (var (name, target) in plain.state_dict())
            {
                if (PerEdgeNames(name) is { } names)
                {
                    var pieces = names.Select(n => source.TryGetValue(n, out var t) ? t : throw new KeyNotFoundException($"{n} (for {name})")).ToArray();
                    target.copy_(pieces[0].dim() == 0 ? pieces[0] : torch.cat(pieces, 0));
                }
                else
                {
                    Assert.True(source.ContainsKey(name), $"the PC supernet has no tensor {name}");
                    target.copy_(source[name]);
                }
            }
            plain.Alpha.copy_(torch.randn(6, 5, dtype: float64));
            pc.Alpha.copy_(plain.Alpha);
        }

        var x = torch.randn(6, 3, 32, 32, dtype: float64);
        var y = torch.randint(10, [6]);
        var outPlain = plain.forward(x);
        var outPc = pc.forward(x);
        Assert.True(torch.allclose(outPlain, outPc, rtol: 1e-9, atol: 1e-10));
        var gPlain = torch.autograd.grad([nn.functional.cross_entropy(outPlain, y)], [plain.Alpha])[0];
        var gPc = torch.autograd.grad([nn.functional.cross_entropy(outPc, y)], [pc.Alpha])[0];
        Assert.True(torch.allclose(gPlain, gPc, rtol: 1e-8, atol: 1e-10));
        Assert.Equal(plain.DeriveGenotype(SoftmaxActivation.Instance), pc.DeriveGenotype(SoftmaxActivation.Instance));
    }

    [Theory]
    [InlineData(PartialChannelScope.PerEdge, true)]
    [InlineData(PartialChannelScope.PerCell, false)]
    public void PartialChannelSupernetTrainsAlphaAndBeta(PartialChannelScope scope, bool edgeNormalization)
    {
        using var disposeScope = torch.NewDisposeScope();
        torch.manual_seed(6);
        var options = new Nb201Options { Channels = 8, CellsPerStage = 1, PartialChannels = true, PartialChannelScope = scope, EdgeNormalization = edgeNormalization };
        using var net = (Nb201PartialChannelSupernet)new Nb201SearchSpace(options).CreateSupernet(DatasetInfo.Cifar10);
        Assert.Equal(edgeNormalization ? 2 : 1, net.ArchitectureParameters().Count);
        Assert.Equal(4, net.Proportion);
        var x = torch.randn(4, 3, 32, 32);
        var logits = net.forward(x);
        Assert.Equal([4L, 10L], logits.shape);
        var grads = torch.autograd.grad([logits.square().mean()], net.ArchitectureParameters().Cast<Tensor>().ToArray());
        foreach (var g in grads) Assert.True(g.abs().sum().item<float>() > 0);
        // Ops are built for C/K channels: far fewer cell parameters than the plain supernet.
        using var plain = new Nb201SearchSpace(new Nb201Options { Channels = 8, CellsPerStage = 1 }).CreateSupernet(DatasetInfo.Cifar10);
        Assert.True(net.WeightParameters().Sum(p => p.numel()) < plain.WeightParameters().Sum(p => p.numel()));
    }

    /// <summary>
    /// Straightforward per-edge PC-DARTS written from the spec (§1.3) on the supernet's own modules: every edge computes
    /// shuffle(cat[Σ_o p_o·o(x[:, :C/K]), x[:, C/K:]]) and node i sums its edges weighted by softmax of its β entries.
    /// </summary>
    private static Tensor ReferenceForward(Nb201PartialChannelSupernet net, Tensor x, Tensor alpha, Tensor? beta, int k, PartialChannelScope scope)
    {
        var modules = net.named_modules().ToDictionary(m => m.name, m => m.module);
        nn.Module<Tensor, Tensor> M(string name) => (nn.Module<Tensor, Tensor>)modules[name];
        int[][] incoming = [[0], [1, 2], [3, 4, 5]];
        var p = alpha.softmax(-1);
        Tensor? w = beta is null ? null : torch.cat(incoming.Select(group => beta.index_select(0, torch.tensor(group.Select(i => (long)i).ToArray())).softmax(0)).ToArray());
        Tensor Edge(string cell, int e, Tensor input, int kk)
        {
            long c = input.shape[1], s = c / kk;
            var xa = input.narrow(1, 0, s);
            Tensor y = torch.zeros_like(M($"{cell}.edges.{e}.ops.0").forward(xa));
            for (int o = 1; o < 5; o++) y = y + p[e][o] * M($"{cell}.edges.{e}.ops.{o - 1}").forward(xa);
            return kk == 1 ? y : PartialChannelShuffle.Apply(torch.cat([y, input.narrow(1, s, c - s)], 1), kk);
        }
        Tensor Dag(string cell, Tensor input, int kk)
        {
            var nodes = new List<Tensor> { input };
            int e = 0;
            for (int n = 1; n < 4; n++)
            {
                Tensor sum = torch.zeros_like(input);
                for (int src = 0; src < n; src++, e++)
                {
                    var y = Edge(cell, e, nodes[src], kk);
                    sum = sum + (w is null ? y : w[e] * y);
                }
                nodes.Add(sum);
            }
            return nodes[^1];
        }
        var h = M("stem").forward(x);
        for (int l = 0; modules.ContainsKey($"layers.{l}"); l++)
        {
            string name = $"layers.{l}";
            if (!modules.ContainsKey($"{name}.edges")) { h = M(name).forward(h); continue; }
            if (scope == PartialChannelScope.PerEdge) { h = Dag(name, h, k); continue; }
            long c = h.shape[1], s = c / k;
            var inner = Dag(name, h.narrow(1, 0, s), 1);
            h = PartialChannelShuffle.Apply(torch.cat([inner, h.narrow(1, s, c - s)], 1), k);
        }
        return M("head").forward(h);
    }

    [Theory]
    [InlineData(PartialChannelScope.PerEdge, true, 4)]
    [InlineData(PartialChannelScope.PerEdge, false, 2)]
    [InlineData(PartialChannelScope.PerCell, false, 4)]
    [InlineData(PartialChannelScope.PerCell, true, 2)]
    public void MatchesTheStraightforwardPartialChannelDefinition(PartialChannelScope scope, bool edgeNormalization, int k)
    {
        using var disposeScope = torch.NewDisposeScope();
        torch.manual_seed(8);
        var options = new Nb201Options { Channels = 8, CellsPerStage = 2, PartialChannels = true, PartialChannelProportion = k, PartialChannelScope = scope, EdgeNormalization = edgeNormalization };
        using var net = (Nb201PartialChannelSupernet)new Nb201SearchSpace(options).CreateSupernet(DatasetInfo.Cifar10);
        net.to(float64);
        net.eval(); // running statistics: the reference pass must not see different BN statistics
        var alpha = torch.randn([6, 5], dtype: float64).requires_grad_(true);
        var beta = edgeNormalization ? torch.randn([6], dtype: float64).requires_grad_(true) : null;
        IReadOnlyList<Tensor> arch = beta is null ? [alpha] : [alpha, beta];
        var x = torch.randn(3, 3, 32, 32, dtype: float64);
        var actual = net.Forward(x, arch, SoftmaxActivation.Instance);
        var expected = ReferenceForward(net, x, alpha, beta, k, scope);
        Assert.True(torch.allclose(actual, expected, rtol: 1e-9, atol: 1e-10), "outputs differ");
        var ga = torch.autograd.grad([actual.square().sum()], arch.ToArray());
        var gb = torch.autograd.grad([expected.square().sum()], arch.ToArray());
        for (int i = 0; i < ga.Count; i++) Assert.True(torch.allclose(ga[i], gb[i], rtol: 1e-8, atol: 1e-10), $"gradient {i} differs");
    }

    [Fact]
    public void EdgeWeightsScaleEdgesWithinEachNode()
    {
        using var disposeScope = torch.NewDisposeScope();
        torch.manual_seed(7);
        var options = new Nb201Options { Channels = 4, CellsPerStage = 1, PartialChannels = true, PartialChannelProportion = 1 };
        using var net = (Nb201PartialChannelSupernet)new Nb201SearchSpace(options).CreateSupernet(DatasetInfo.Cifar10);
        net.eval();
        var x = torch.randn(2, 3, 32, 32);
        // β enters only through the softmax within each node: shifting all of a node's β by a constant changes nothing.
        var a = net.ArchitectureParameters()[0].detach();
        var b = torch.randn(6);
        var shifted = b.clone();
        shifted[3] += 2.0; shifted[4] += 2.0; shifted[5] += 2.0;
        shifted[0] += 5.0;
        Assert.True(torch.allclose(net.Forward(x, [a, b], SoftmaxActivation.Instance), net.Forward(x, [a, shifted], SoftmaxActivation.Instance), rtol: 1e-5, atol: 1e-6));
        var moved = b.clone();
        moved[4] += 3.0;
        Assert.False(torch.allclose(net.Forward(x, [a, b], SoftmaxActivation.Instance), net.Forward(x, [a, moved], SoftmaxActivation.Instance), rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void ChannelShuffleInterleavesGroups()
    {
        using var disposeScope = torch.NewDisposeScope();
        var x = torch.arange(8, dtype: float32).view(1, 8, 1, 1);
        var shuffled = PartialChannelShuffle.Apply(x, 4).flatten().data<float>().ToArray();
        Assert.Equal([0f, 2, 4, 6, 1, 3, 5, 7], shuffled);
    }

    [Fact]
    public void OptionsAreValidated()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Nb201SearchSpace(new Nb201Options { Channels = 6, PartialChannels = true }));
        Assert.Contains("divisible", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new Nb201SearchSpace(new Nb201Options { PartialChannels = true, PartialChannelProportion = 0 }));
        // Without PartialChannels the PC fields are ignored.
        _ = new Nb201SearchSpace(new Nb201Options { Channels = 6, PartialChannelProportion = 4 });
    }
}
