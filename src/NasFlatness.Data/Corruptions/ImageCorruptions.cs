using TorchSharp;
using static TorchSharp.torch;

namespace NasFlatness.Data;

/// <summary>The closed-form CIFAR-10-C corruptions (Hendrycks &amp; Dietterich 2019) that <see cref="ImageCorruptions"/> implements.</summary>
public enum Corruption
{
    /// <summary>x + N(0, σ²), σ = 0.04, 0.06, 0.08, 0.09, 0.10.</summary>
    GaussianNoise,

    /// <summary>Poisson(λx)/λ, λ = 500, 250, 100, 75, 50.</summary>
    ShotNoise,

    /// <summary>Salt and pepper: a fraction 0.01, 0.02, 0.03, 0.05, 0.07 of the values set to 0 or 1 (half each).</summary>
    ImpulseNoise,

    /// <summary>x + x·N(0, c²), c = 0.06, 0.10, 0.12, 0.16, 0.20.</summary>
    SpeckleNoise,

    /// <summary>Gaussian blur with σ = 0.4, 0.6, 0.7, 0.8, 1.0 pixels (kernel radius ⌊4σ + 0.5⌋, edges replicated).</summary>
    GaussianBlur,

    /// <summary>(x − m)·c + m with m the per-image, per-channel mean, c = 0.75, 0.5, 0.4, 0.3, 0.15.</summary>
    Contrast,

    /// <summary>HSV value channel + 0.05, 0.10, 0.15, 0.20, 0.30 (clipped to 1), hue and saturation kept.</summary>
    Brightness,

    /// <summary>PIL BOX resize to ⌊c·H⌋ × ⌊c·W⌋ and back, c = 0.95, 0.9, 0.85, 0.75, 0.65.</summary>
    Pixelate,

    /// <summary>
    /// JPEG encode and decode at quality 80, 65, 58, 50, 40 (CIFAR-10-C's <c>jpeg_compression</c>), with the JPEG codec (<see cref="IJpegCodec"/>); images
    /// of 1 (greyscale JPEG) or 3 channels only. Computed on the CPU, one image at a time.
    /// </summary>
    JpegCompression,
}

/// <summary>
/// CIFAR-10-C-style image corruptions at severities 1–5 on device tensors of images in [0, 1] (<c>[B, C, H, W]</c>, float); every
/// result is clipped to [0, 1]. JPEG compression goes through <see cref="JpegCodec"/> and is quantised to bytes; the others are not.
/// The noise of example i comes from a CPU generator seeded with <see cref="ExampleSeed(long, long)"/>(seed, i), so a seed gives the
/// same images on any device and in any batch. Constants, sources and equivalences: docs/flatnas.md.
/// </summary>
public static class ImageCorruptions
{
    private static readonly double[] GaussianSigma = [0.04, 0.06, 0.08, 0.09, 0.10];
    private static readonly double[] ShotLambda = [500, 250, 100, 75, 50];
    private static readonly double[] ImpulseAmount = [0.01, 0.02, 0.03, 0.05, 0.07];
    private static readonly double[] SpeckleScale = [0.06, 0.10, 0.12, 0.16, 0.20];
    private static readonly double[] BlurSigma = [0.4, 0.6, 0.7, 0.8, 1.0];
    private static readonly double[] ContrastFactor = [0.75, 0.5, 0.4, 0.3, 0.15];
    private static readonly double[] BrightnessShift = [0.05, 0.10, 0.15, 0.20, 0.30];
    private static readonly double[] PixelateScale = [0.95, 0.9, 0.85, 0.75, 0.65];
    private static readonly double[] JpegQuality = [80, 65, 58, 50, 40];

    private static IJpegCodec? _jpegCodec;

    /// <summary>
    /// The codec behind <see cref="Corruption.JpegCompression"/> and <see cref="Jpeg"/>. Unset, it is the satellite package
    /// <c>NasFlatness.Data.Jpeg</c>'s Skia codec when the app references that package; set it to use another codec.
    /// </summary>
    /// <exception cref="InvalidOperationException">Read while unset and no JPEG satellite package is referenced.</exception>
    public static IJpegCodec JpegCodec
    {
        get => _jpegCodec ??= FindJpegCodec() ?? throw new InvalidOperationException(
            "JPEG compression needs a JPEG codec: reference the NasFlatness.Data.Jpeg package (Skia's libjpeg-turbo), or set ImageCorruptions.JpegCodec to your own IJpegCodec.");
        set => _jpegCodec = value ?? throw new ArgumentNullException(nameof(value));
    }

    private static IJpegCodec? FindJpegCodec()
    {
        Type? type;
        try
        {
            type = Type.GetType("NasFlatness.Data.Jpeg.SkiaJpegCodec, NasFlatness.Data.Jpeg", throwOnError: false);
        }
        catch (FileLoadException)
        {
            return null;
        }
        return type is null ? null : (IJpegCodec?)Activator.CreateInstance(type);
    }

    /// <summary>Every corruption implemented, in declaration order.</summary>
    public static IReadOnlyList<Corruption> All { get; } = Enum.GetValues<Corruption>();

    /// <summary>The constant of <paramref name="corruption"/> at <paramref name="severity"/> (σ, λ, amount, factor, shift, scale or JPEG quality; see <see cref="Corruption"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The severity is not 1–5 or the corruption is unknown.</exception>
    public static double Parameter(Corruption corruption, int severity)
    {
        if (severity is < 1 or > 5) throw new ArgumentOutOfRangeException(nameof(severity), severity, "Severity is 1 to 5.");
        var table = corruption switch
        {
            Corruption.GaussianNoise => GaussianSigma,
            Corruption.ShotNoise => ShotLambda,
            Corruption.ImpulseNoise => ImpulseAmount,
            Corruption.SpeckleNoise => SpeckleScale,
            Corruption.GaussianBlur => BlurSigma,
            Corruption.Contrast => ContrastFactor,
            Corruption.Brightness => BrightnessShift,
            Corruption.Pixelate => PixelateScale,
            Corruption.JpegCompression => JpegQuality,
            _ => throw new ArgumentOutOfRangeException(nameof(corruption), corruption, "Unknown corruption."),
        };
        return table[severity - 1];
    }

    /// <summary>
    /// Returns <paramref name="images"/> (<c>[B, C, H, W]</c>, values in [0, 1]) corrupted by <paramref name="corruption"/> at
    /// <paramref name="severity"/>, on the same device and with the same dtype, in the caller's dispose scope. Example i of the
    /// batch uses the noise of <see cref="ExampleSeed(long, long)"/>(<paramref name="seed"/>, i).
    /// </summary>
    /// <exception cref="ArgumentException">The images are not a 4-D floating-point batch.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The severity is not 1–5 or the corruption is unknown.</exception>
    public static Tensor Apply(Tensor images, Corruption corruption, int severity, long seed = 0)
    {
        ArgumentNullException.ThrowIfNull(images);
        var seeds = new long[images.dim() > 0 ? images.shape[0] : 0];
        for (int i = 0; i < seeds.Length; i++) seeds[i] = ExampleSeed(seed, i);
        return Apply(images, corruption, severity, seeds);
    }

    /// <summary>
    /// <paramref name="images"/> (<c>[B, C, H, W]</c> in [0, 1], C = 1 or 3) quantised to bytes, JPEG-encoded at
    /// <paramref name="quality"/> by <see cref="JpegCodec"/> and decoded, on the same device and dtype.
    /// <see cref="Corruption.JpegCompression"/> is this at the CIFAR-10-C qualities.
    /// </summary>
    /// <exception cref="ArgumentException">The images are not a 4-D floating-point batch of 1 or 3 channels.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="quality"/> is not 1–100.</exception>
    public static Tensor Jpeg(Tensor images, int quality)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.dim() != 4 || !images.is_floating_point())
            throw new ArgumentException($"JPEG compression takes floating-point images [B, C, H, W], got {images.dtype} of shape [{string.Join(", ", images.shape)}].", nameof(images));
        var codec = JpegCodec;
        using var noGrad = torch.no_grad();
        return codec.RoundTrip(images, quality);
    }

    /// <summary>The generator seed of example <paramref name="index"/> under <paramref name="seed"/> (a 64-bit mix of the two).</summary>
    internal static long ExampleSeed(long seed, long index)
    {
        // SplitMix64 finaliser of (seed, index): distinct, well-spread seeds for neighbouring examples.
        ulong z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)index + 0x632BE59BD9B4E019UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return unchecked((long)((z ^ (z >> 31)) >> 1));
    }

    /// <summary>The corruption with the noise of example i drawn from a CPU generator seeded with <paramref name="exampleSeeds"/>[i].</summary>
    internal static Tensor Apply(Tensor images, Corruption corruption, int severity, IReadOnlyList<long> exampleSeeds)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.dim() != 4)
            throw new ArgumentException($"Corruptions take images [B, C, H, W], got shape [{string.Join(", ", images.shape)}].", nameof(images));
        if (!images.is_floating_point())
            throw new ArgumentException($"Corruptions take floating-point images in [0, 1], got {images.dtype}.", nameof(images));
        if (exampleSeeds.Count != images.shape[0])
            throw new ArgumentException($"{exampleSeeds.Count} seeds for {images.shape[0]} images.", nameof(exampleSeeds));
        double c = Parameter(corruption, severity);
        var jpeg = corruption == Corruption.JpegCompression ? JpegCodec : null;
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var x = images.detach();
        var result = corruption switch
        {
            Corruption.GaussianNoise => x.add(Noise(x, exampleSeeds, Normal).mul_(c)),
            Corruption.ShotNoise => Poisson(x.mul(c), exampleSeeds).div_(c),
            Corruption.ImpulseNoise => SaltAndPepper(x, c, exampleSeeds),
            Corruption.SpeckleNoise => x.add(x.mul(Noise(x, exampleSeeds, Normal)).mul_(c)),
            Corruption.GaussianBlur => Blur(x, c),
            Corruption.Contrast => Contrast(x, c),
            Corruption.Brightness => Brightness(x, c),
            Corruption.Pixelate => Pixelate(x, c),
            Corruption.JpegCompression => jpeg!.RoundTrip(x, (int)c),
            _ => throw new ArgumentOutOfRangeException(nameof(corruption), corruption, "Unknown corruption."),
        };
        return result.clamp_(0.0, 1.0).MoveToOuterDisposeScope();
    }

    private static Tensor Normal(long[] shape, torch.Generator generator) => torch.randn(shape, dtype: float32, generator: generator);

    /// <summary>Per-example draws of <paramref name="draw"/> (shape of one image), stacked and moved to the images' device and dtype.</summary>
    private static Tensor Noise(Tensor x, IReadOnlyList<long> seeds, Func<long[], torch.Generator, Tensor> draw)
    {
        long[] one = x.shape[1..];
        var parts = new Tensor[seeds.Count];
        for (int i = 0; i < parts.Length; i++)
        {
            using var generator = new torch.Generator(unchecked((ulong)seeds[i]));
            parts[i] = draw(one, generator);
        }
        return torch.stack(parts).to(x.dtype).to(x.device);
    }

    private static Tensor Poisson(Tensor rates, IReadOnlyList<long> seeds)
    {
        var cpu = rates.to(float32).cpu();
        var parts = new Tensor[seeds.Count];
        for (int i = 0; i < parts.Length; i++)
        {
            using var generator = new torch.Generator(unchecked((ulong)seeds[i]));
            parts[i] = torch.poisson(cpu[i], generator);
        }
        return torch.stack(parts).to(rates.dtype).to(rates.device);
    }

    private static Tensor SaltAndPepper(Tensor x, double amount, IReadOnlyList<long> seeds)
    {
        // One generator per example draws the "flipped" uniforms first, then the "salt" uniforms.
        var both = Noise(x, seeds, (shape, g) => torch.stack([torch.rand(shape, dtype: float32, generator: g), torch.rand(shape, dtype: float32, generator: g)]));
        var flipped = both.select(1, 0).lt(amount);
        var salt = both.select(1, 1).lt(0.5).to(x.dtype);
        return torch.where(flipped, salt, x);
    }

    private static Tensor Blur(Tensor x, double sigma)
    {
        int radius = (int)(4.0 * sigma + 0.5);
        var weights = new double[2 * radius + 1];
        for (int k = -radius; k <= radius; k++) weights[k + radius] = Math.Exp(-0.5 * k * k / (sigma * sigma));
        double total = weights.Sum();
        var kernel = torch.tensor(weights.Select(w => w / total).ToArray(), dtype: float64).to(x.dtype).to(x.device);
        long channels = x.shape[1];
        var horizontal = kernel.view(1, 1, 1, -1).expand(channels, 1, 1, 2 * radius + 1).contiguous();
        var vertical = kernel.view(1, 1, -1, 1).expand(channels, 1, 2 * radius + 1, 1).contiguous();
        // Edges replicated (scipy's mode "nearest", the default of skimage.filters.gaussian); separable, one channel per group.
        var padded = nn.functional.pad(x, [radius, radius, radius, radius], PaddingModes.Replicate);
        var rows = nn.functional.conv2d(padded, horizontal, groups: channels);
        return nn.functional.conv2d(rows, vertical, groups: channels);
    }

    private static Tensor Contrast(Tensor x, double factor)
    {
        var mean = x.mean([2, 3], keepdim: true);
        return x.sub(mean).mul_(factor).add_(mean);
    }

    private static Tensor Brightness(Tensor x, double shift)
    {
        var v = x.amax([1], keepdim: true);
        var shifted = v.add(shift).clamp_(max: 1.0);
        if (x.shape[1] == 1) return shifted;
        var scaled = x.mul(shifted.div(v.clamp_min(1e-12)));
        return torch.where(v.gt(0), scaled, shifted.expand_as(x));
    }

    private static Tensor Pixelate(Tensor x, double scale)
    {
        long h = x.shape[2], w = x.shape[3];
        int smallH = Math.Max(1, (int)(h * scale)), smallW = Math.Max(1, (int)(w * scale));
        // Down then up along each axis is one linear map per axis: y = M_h · x · M_wᵀ.
        var rows = Pixelation((int)h, smallH).to(x.dtype).to(x.device);
        var columns = Pixelation((int)w, smallW).to(x.dtype).to(x.device);
        return rows.matmul(x).matmul(columns.t());
    }

    /// <summary>The [n, n] map of a BOX resize from n to <paramref name="small"/> pixels followed by a BOX resize back to n.</summary>
    private static Tensor Pixelation(int n, int small)
    {
        var down = BoxResize(n, small);
        var up = BoxResize(small, n);
        var map = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < small; k++)
            {
                double u = up[i, k];
                if (u == 0) continue;
                for (int j = 0; j < n; j++) map[i * n + j] += u * down[k, j];
            }
        return torch.tensor(map, [n, n], dtype: float64);
    }

    /// <summary>
    /// The [out, in] box-resampling weights along one axis (PIL's BOX; docs/flatnas.md): output pixel i averages the input
    /// pixels whose centres, in output-pixel units from (i + ½)·in/out, lie in (−½, ½]; up-scaling picks the nearest centre.
    /// </summary>
    internal static double[,] BoxResize(int inSize, int outSize)
    {
        var weights = new double[outSize, inSize];
        double scale = (double)inSize / outSize, filterScale = Math.Max(scale, 1.0), support = 0.5 * filterScale;
        for (int i = 0; i < outSize; i++)
        {
            double center = (i + 0.5) * scale;
            int first = Math.Max(0, (int)(center - support + 0.5));
            int last = Math.Min(inSize, (int)(center + support + 0.5));
            double total = 0;
            for (int j = first; j < last; j++)
            {
                double t = (j - center + 0.5) / filterScale;
                if (t > -0.5 && t <= 0.5)
                {
                    weights[i, j] = 1;
                    total++;
                }
            }
            for (int j = first; j < last && total > 0; j++) weights[i, j] /= total;
        }
        return weights;
    }
}
