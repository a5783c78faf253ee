using TorchSharp;
using Xunit;
public class Smoke { [Fact] public void Loads() { using var t = torch.ones(2, 2); Assert.Equal(4.0f, t.sum().item<float>()); } }
