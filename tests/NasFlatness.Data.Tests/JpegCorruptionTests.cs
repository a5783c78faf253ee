using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace NasFlatness.Data.Tests;

/// <summary>
/// <see cref="Corruption.JpegCompression"/> and <see cref="ImageCorruptions.Jpeg"/> on real CIFAR-10 test images (SkiaSharp's codec).
/// Monotonicity over the severities and the [0, 1] range / shape / dtype are also checked for every corruption in <see cref="CorruptionTests"/>.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class JpegCorruptionTests(ITestOutputHelper output)
{
    private static Tensor CifarImages01(int count) =>
        torch.tensor(TestData.Cifar10Test.Pixels.AsSpan(0, count * CifarImages.ImageBytes).ToArray(), [count, 3, 32, 32], dtype: uint8).to(float32).div_(255f);

    [Fact]
    public void QualityHundredIsNearlyTheIdentity()
    {
        using var scope = torch.NewDisposeScope();
        var x = CifarImages01(32);
        var grey = x.mean([1], keepdim: true).mul_(255).round_().div_(255); // byte-exact grey images
        var colour = ImageCorruptions.Jpeg(x, 100).sub(x).abs();
        var g = ImageCorruptions.Jpeg(grey, 100).sub(grey).abs();
        double colourMean = colour.mean().item<float>(), colourMax = colour.max().item<float>(), greyMax = g.max().item<float>();
        output.WriteLine($"quality 100: colour mean |Δ| = {colourMean * 255:F3}/255, max = {colourMax * 255:F1}/255; grey max = {greyMax * 255:F1}/255");
        // Grey: no chroma subsampling, only the quantisation of the DCT at q = 100.
        Assert.True(greyMax <= 3 / 255.0 + 1e-6, $"grey max |Δ| = {greyMax * 255}/255");
        // Colour: 4:2:0 chroma subsampling stays (as in PIL's default), so single pixels at colour edges move more; the mean is tiny.
        Assert.True(colourMean < 2 / 255.0, $"colour mean |Δ| = {colourMean * 255}/255");
        Assert.True(colourMax < 32 / 255.0, $"colour max |Δ| = {colourMax * 255}/255");
    }

    [Fact]
    public void ErrorGrowsFromSeverityOneToFiveOnCifarImages()
    {
        using var scope = torch.NewDisposeScope();
        var x = CifarImages01(128);
        var errors = Enumerable.Range(1, 5).Select(s => ImageCorruptions.Apply(x, Corruption.JpegCompression, s).sub(x).abs().mean().item<float>()).ToArray();
        output.WriteLine("mean |Δ| ×255 at severities 1–5 (q = 80, 65, 58, 50, 40): " + string.Join(", ", errors.Select(e => (e * 255).ToString("F3", System.Globalization.CultureInfo.InvariantCulture))));
        for (int s = 1; s < 5; s++) Assert.True(errors[s] > errors[s - 1], $"severity {s + 1}: {errors[s]} ≤ {errors[s - 1]}");
        // Severity s is ImageCorruptions.Jpeg at CIFAR-10-C's quality.
        Assert.True(ImageCorruptions.Apply(x, Corruption.JpegCompression, 3).eq(ImageCorruptions.Jpeg(x, 58)).all().item<bool>());
    }

    [Fact]
    public void OutputIsDeterministicPerImageAndKeepsShapeDtypeAndRange()
    {
        using var scope = torch.NewDisposeScope();
        var x = CifarImages01(8);
        var a = ImageCorruptions.Apply(x, Corruption.JpegCompression, 5, seed: 1);
        var b = ImageCorruptions.Apply(x, Corruption.JpegCompression, 5, seed: 2); // no randomness: the seed does not matter
        Assert.True(a.eq(b).all().item<bool>());
        // Each image is coded on its own: image 5 alone equals image 5 of the batch.
        Assert.True(ImageCorruptions.Apply(x[5..6], Corruption.JpegCompression, 5).eq(a[5..6]).all().item<bool>());
        Assert.Equal(x.shape, a.shape);
        Assert.True(a.min().item<float>() >= 0 && a.max().item<float>() <= 1);
        // Whole bytes: 255·y is an integer.
        Assert.True(a.mul(255).sub(a.mul(255).round()).abs().max().item<float>() < 1e-4);
        var doubles = ImageCorruptions.Jpeg(x.to(float64), 50);
        Assert.Equal(ScalarType.Float64, doubles.dtype);
        Assert.True(doubles.to(float32).allclose(ImageCorruptions.Jpeg(x, 50), rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void OtherChannelCountsAndQualitiesAreRefused()
    {
        using var scope = torch.NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => ImageCorruptions.Apply(torch.rand([2, 2, 8, 8]), Corruption.JpegCompression, 1));
        Assert.Contains("C = 2", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageCorruptions.Jpeg(torch.rand([1, 3, 8, 8]), 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageCorruptions.Jpeg(torch.rand([1, 3, 8, 8]), 101));
    }
}
