using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics.X86;
using NasFlatness.Advanced;
using TorchSharp;
using static TorchSharp.torch;
using Shape = NasFlatness.Advanced.TorchRuntime.ConvolutionShape;
using Site = NasFlatness.Advanced.TorchRuntime.ConvolutionSite;

namespace NasFlatness.Benchmarks;

/// <summary>
/// `onednn-check decision [processes] [repeats] [parallel]`: how often each oneDNN decision rule is wrong, over many processes.
/// Each child process (`onednn-check trial [repeats]`, one torch thread) builds the NB201 and DARTS supernets of
/// <see cref="OneDnnCheck.Networks"/>, asks four rules whether oneDNN may run them at batch 64 of 32×32 images — the old
/// check (7×7 and 16×16, batch 2, 6 rounds), the check at the real sizes alone, the AVX-512 channel rule alone, and the
/// library's decision (rule, then the real-size check) — and then measures the ground truth: every convolution shape at
/// every site the network uses, <c>repeats</c> float32 oneDNN calls against one float64 computation each. The parent
/// counts, per network and rule, false passes (the rule said "oneDNN OK", the ground truth found a wrong result in that
/// process) and false refusals (the rule refused, every ground-truth call was right).
/// </summary>
internal static class OneDnnDecision
{
    private static readonly long[] Input = [64, 3, 32, 32];
    private static readonly string[] Rules = ["old check", "real-size check", "AVX-512 rule", "library (rule + real-size check)"];

    public static int Run(string[] args)
    {
        var numbers = args.Select(a => int.TryParse(a, CultureInfo.InvariantCulture, out int n) ? n : -1).Where(n => n > 0).ToArray();
        int processes = numbers.ElementAtOrDefault(0) is > 0 and var p ? p : 40, repeats = numbers.ElementAtOrDefault(1) is > 0 and var r ? r : 3;
        int parallel = numbers.ElementAtOrDefault(2) is > 0 and var q ? q : 1;
        Console.WriteLine($"{processes} processes, ground truth {repeats} float32 oneDNN calls per convolution site, batch 64, 32×32, 1 thread; Avx512F.IsSupported = {Avx512F.IsSupported}");
        var clock = Stopwatch.StartNew();
        var outputs = new string?[processes];
        int done = 0;
        Parallel.For(0, processes, new ParallelOptions { MaxDegreeOfParallelism = parallel }, i =>
        {
            var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true };
            if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet") start.ArgumentList.Add(typeof(OneDnnDecision).Assembly.Location);
            foreach (var a in new[] { "onednn-check", "trial", repeats.ToString(CultureInfo.InvariantCulture) }) start.ArgumentList.Add(a);
            start.Environment.Remove("NASFLATNESS_ONEDNN");
            using var child = Process.Start(start)!;
            var error = child.StandardError.ReadToEndAsync();
            string output = child.StandardOutput.ReadToEnd();
            child.WaitForExit();
            if (child.ExitCode != 0) Console.Error.WriteLine($"process {i} failed ({child.ExitCode}): {error.Result}");
            else outputs[i] = output;
            Console.Error.Write($"\r{Interlocked.Increment(ref done)}/{processes} processes, {clock.Elapsed.TotalSeconds:F0} s");
        });
        Console.Error.WriteLine();
        if (outputs.Any(o => o is null)) return 1;
        Console.WriteLine($"{processes} processes in {clock.Elapsed.TotalSeconds:F0} s");
        Report(outputs!);
        return 0;
    }

    /// <summary>`onednn-check decision-report folder`: the same report from trial outputs saved as files (`onednn-check trial 3 > folder/01.txt`).</summary>
    public static int ReportFolder(string folder)
    {
        var files = Directory.GetFiles(folder, "*.txt").Order(StringComparer.Ordinal).ToArray();
        Console.WriteLine($"{files.Length} processes (trial outputs in {folder}); Avx512F.IsSupported = {Avx512F.IsSupported}");
        Report(files.Select(File.ReadAllText));
        return 0;
    }

    private static void Report(IEnumerable<string> outputs)
    {
        var verdicts = new Dictionary<string, int[]>(); // network → per rule: passes, false passes, refusals, false refusals; then truth-wrong count
        var siteWrong = new Dictionary<string, (int Wrong, int Calls, int Processes)>();
        foreach (var output in outputs)
        {
            foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var f = line.Split('\t');
                if (f[0] == "NET")
                {
                    bool truthWrong = f[^1] == "wrong";
                    var counts = verdicts.TryGetValue(f[1], out var c) ? c : verdicts[f[1]] = new int[Rules.Length * 4 + 1];
                    for (int rule = 0; rule < Rules.Length; rule++)
                    {
                        bool ok = f[2 + rule] == "ok";
                        counts[rule * 4 + (ok ? 0 : 2)]++;
                        if (ok && truthWrong) counts[rule * 4 + 1]++;
                        if (!ok && !truthWrong) counts[rule * 4 + 3]++;
                    }
                    if (truthWrong) counts[^1]++;
                }
                else if (f[0] == "SITE")
                {
                    int wrong = int.Parse(f[2], CultureInfo.InvariantCulture), calls = int.Parse(f[3], CultureInfo.InvariantCulture);
                    var (w, n, k) = siteWrong.GetValueOrDefault(f[1]);
                    siteWrong[f[1]] = (w + wrong, n + calls, k + (wrong > 0 ? 1 : 0));
                }
            }
        }
        Console.WriteLine();
        Console.WriteLine("| network | ground truth wrong (processes) | " + string.Join(" | ", Rules.Select(r => $"{r}: oneDNN OK / false pass / refused / false refusal")) + " |");
        Console.WriteLine("| --- | ---: | " + string.Join(" | ", Rules.Select(_ => "---:")) + " |");
        foreach (var (network, c) in verdicts)
            Console.WriteLine($"| {network} | {c[^1]} | " + string.Join(" | ", Enumerable.Range(0, Rules.Length).Select(r => $"{c[r * 4]} / **{c[r * 4 + 1]}** / {c[r * 4 + 2]} / {c[r * 4 + 3]}")) + " |");
        Console.WriteLine();
        Console.WriteLine("Convolution sites with wrong float32 oneDNN results (wrong calls / calls, processes with any):");
        foreach (var (site, (w, n, k)) in siteWrong.Where(kv => kv.Value.Wrong > 0).OrderByDescending(kv => kv.Value.Wrong))
            Console.WriteLine($"  {site}: {w}/{n}, {k} processes");
        Console.WriteLine($"  (all others right: {siteWrong.Count(kv => kv.Value.Wrong == 0)} of {siteWrong.Count} sites)");
    }

    /// <summary>One process of the experiment: prints a NET line per network and a SITE line per ground-truth site.</summary>
    public static int Trial(string[] args)
    {
        int repeats = args.Select(a => int.TryParse(a, CultureInfo.InvariantCulture, out int n) ? n : -1).FirstOrDefault(n => n > 0, 3);
        torch.set_num_threads(1);
        bool avx512 = Avx512F.IsSupported;
        var truth = new Dictionary<(Shape, Site), int>();
        foreach (var (name, create) in OneDnnCheck.Networks.Take(4)) // the NB201 and DARTS supernets
        {
            using var net = create();
            var shapes = TorchRuntime.ConvolutionShapes(net);
            var sites = TorchRuntime.ConvolutionSites(net, Input);
            IReadOnlyList<Site> SitesOf(Shape s) => sites.TryGetValue(s, out var list) ? list : [new Site(Input[0], Input[2], Input[3])];
            TorchRuntime.TrySetOneDnn(true);
            string? old = TorchRuntime.FirstProblem(shapes, _ => [new Site(0, 0, 0)], [], avx512: false);
            var real = new Dictionary<(Shape, Site), string?>();
            string? realOnly = TorchRuntime.FirstProblem(shapes, SitesOf, real, avx512: false);
            bool ruleOk = shapes.All(s => TorchRuntime.RuleRefusal(s, avx512) is null);
            string? library = TorchRuntime.FirstProblem(shapes, SitesOf, real, avx512);
            bool wrong = false;
            foreach (var shape in shapes)
            {
                foreach (var site in SitesOf(shape))
                {
                    if (!truth.TryGetValue((shape, site), out int count))
                    {
                        truth[(shape, site)] = count = GroundTruth(shape, site, repeats);
                        Console.WriteLine($"SITE\t{shape}, batch {site.Batch}, {site.Height}×{site.Width}\t{count}\t{repeats}");
                    }
                    wrong |= count > 0;
                }
            }
            TorchRuntime.TrySetOneDnn(false);
            Console.WriteLine(string.Join('\t', "NET", name, Verdict(old), Verdict(realOnly), ruleOk ? "ok" : "refused", Verdict(library), wrong ? "wrong" : "right"));
        }
        return 0;
    }

    private static string Verdict(string? problem) => problem is null ? "ok" : "refused";

    // How many of `repeats` float32 calls with the current kernels disagree with one float64 computation on the same data.
    private static int GroundTruth(Shape s, Site site, int repeats)
    {
        using var scope = torch.NewDisposeScope();
        var generator = new torch.Generator(7);
        var x = torch.randn([site.Batch, s.InChannels, site.Height, site.Width], generator: generator);
        var k = torch.randn([s.OutChannels, s.InChannels / s.Groups, s.KernelH, s.KernelW], generator: generator);
        Tensor? g = null;
        Tensor[] Run(ScalarType type)
        {
            var xi = x.to(type).requires_grad_(s.CheckInputGradient);
            var ki = k.to(type).requires_grad_(true);
            var y = nn.functional.conv2d(xi, ki, strides: [s.StrideH, s.StrideW], padding: [s.PadH, s.PadW], dilation: [s.DilationH, s.DilationW], groups: s.Groups);
            g ??= torch.randn(y.shape, generator: generator);
            Tensor[] inputs = s.CheckInputGradient ? [ki, xi] : [ki];
            return [y.detach().to(float64), .. torch.autograd.grad([y], inputs, [g.to(type)]).Select(t => t.to(float64))];
        }
        TorchRuntime.TrySetOneDnn(false);
        var exact = Run(float64);
        var scales = exact.Select(t => t.abs().max().item<double>()).ToArray();
        TorchRuntime.TrySetOneDnn(true);
        int wrong = 0;
        for (int repeat = 0; repeat < repeats; repeat++)
        {
            using var inner = torch.NewDisposeScope();
            var actual = Run(float32);
            if (actual.Select((t, i) => (t - exact[i]).abs().max().item<double>() <= 1e-4 * Math.Max(scales[i], 1e-30)).Any(ok => !ok)) wrong++;
        }
        return wrong;
    }
}
