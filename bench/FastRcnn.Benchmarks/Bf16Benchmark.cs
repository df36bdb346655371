using System.Globalization;
using System.Text.Json;
using FastRcnn.Data;
using FastRcnn.Inference;
using FastRcnn.Modeling;
using FastRcnn.Ops;
using FastRcnn.Runtime;
using static TorchSharp.torch;

namespace FastRcnn.Benchmarks;

/// <summary>
/// <c>bf16</c>: what bfloat16 (<see cref="Precision"/>) changes. Detection stage by stage (the <c>detect</c> runner's
/// children: VGG16 at 600×1000 and small at 400×600, random weights, 2000 proposals) in fp32, bf16, fp32 + SVD and bf16 + SVD,
/// beside the PyTorch fp32 peer; <c>auto</c> with the fp32 fallback forced (<see cref="Bf16Support.ForceFallbackVariable"/>)
/// against fp32, to show what <c>auto</c> costs on a CPU without bfloat16; the largest score difference between the fp32
/// and bf16 detections of the same images; and a training iteration (the <c>train</c> runner's children) in fp32 and in
/// mixed precision. Each measurement in its own process, one after the other in one run.
/// </summary>
public static class Bf16Benchmark
{
    private const int NumClasses = 20;

    private sealed record Options(string[] Networks, int Images, int Threads, string? Python, string? Write, bool Child,
        (int Fc6, int Fc7) VggSvd, (int Fc6, int Fc7) SmallSvd, int TrainIters, string[] Only, bool KernelChild = false);

    /// <summary>The detection variants, in table order: label, precision, SVD, fallback forced.</summary>
    private static readonly (string Key, string Label, Precision Precision, bool Svd, bool Fallback)[] Variants =
    [
        ("fp32", "fp32", Precision.Fp32, false, false),
        ("bf16", "bf16", Precision.Bf16, false, false),
        ("fp32_svd", "fp32 + SVD", Precision.Fp32, true, false),
        ("bf16_svd", "bf16 + SVD", Precision.Bf16, true, false),
        ("auto_fallback", "auto, fp32 fallback forced", Precision.Auto, false, true),
    ];

    public static int Run(string[] args)
    {
        var options = Parse(args);
        if (options.KernelChild) return KernelChild(options);
        if (options.Child) return ScoreChild(options);
        var (self, prefix) = BenchReport.SelfCommand();
        JsonElement? kernels = null;
        if (options.Only.Contains("kernels"))
        {
            Console.Error.WriteLine("[bf16] kernels: linear and 3×3 convolutions in fp32 and bf16 ...");
            kernels = BenchReport.RunJsonChild(self, [.. prefix, "bf16", "--child-kernels", "--threads", options.Threads.ToString(CultureInfo.InvariantCulture)]);
        }
        var detect = new Dictionary<(string Network, string Variant), DetectBenchmark.Side>();
        var scores = new Dictionary<string, JsonElement>();
        var train = new Dictionary<(string Network, string Precision), TrainStepBenchmark.Measurement>();
        string peerMachine = "";
        foreach (var name in options.Networks)
        {
            var network = DetectBenchmark.Networks.First(n => n.Name == name);
            int images = options.Images > 0 ? options.Images : name == "vgg16" ? 3 : 10;
            var svd = name == "vgg16" ? options.VggSvd : options.SmallSvd;
            var baseOptions = new DetectBenchmark.Options([name], images, name == "vgg16" ? 1 : 2, options.Threads, 2000, null, true, null, null, 1);
            if (options.Only.Contains("detect"))
            {
                foreach (var v in Variants)
                {
                    var o = baseOptions with { Precision = v.Precision, Compressed = v.Svd ? svd : null };
                    Console.Error.WriteLine($"[bf16] {name}: detection, {v.Label} ...");
                    var env = v.Fallback ? new Dictionary<string, string> { [Bf16Support.ForceFallbackVariable] = "1" } : null;
                    if (BenchReport.RunJsonChild(self, [.. prefix, "detect", "--child", .. DetectBenchmark.ChildArgs(o, name)], env) is { } json)
                        (detect[(name, v.Key)] = new DetectBenchmark.Side()).Add(json);
                }
                if (options.Python is { } python)
                {
                    Console.Error.WriteLine($"[bf16] {name}: detection, PyTorch fp32 ...");
                    if (BenchReport.RunJsonChild(python, [BenchReport.PeerScript("pytorch_detect.py"), .. DetectBenchmark.ChildArgs(baseOptions, name)]) is { } json)
                    {
                        var side = new DetectBenchmark.Side();
                        side.Add(json);
                        detect[(name, "peer")] = side;
                        peerMachine = side.Machine ?? peerMachine;
                    }
                }
            }
            if (options.Only.Contains("scores"))
            {
                Console.Error.WriteLine($"[bf16] {name}: score differences fp32 vs bf16 ...");
                if (BenchReport.RunJsonChild(self, [.. prefix, "bf16", "--child", "--network", name, "--images", images.ToString(CultureInfo.InvariantCulture),
                        "--threads", options.Threads.ToString(CultureInfo.InvariantCulture)]) is { } json)
                    scores[name] = json;
            }
            if (options.Only.Contains("train"))
            {
                int iters = options.TrainIters > 0 ? options.TrainIters : name == "vgg16" ? 3 : 10;
                foreach (var precision in new[] { "fp32", "bf16" })
                {
                    Console.Error.WriteLine($"[bf16] {name}: training iteration, {precision} ...");
                    string[] childArgs = ["train", "--child", "--network", name, "--iters", iters.ToString(CultureInfo.InvariantCulture), "--warmup", "2",
                        "--threads", options.Threads.ToString(CultureInfo.InvariantCulture), "--precision", precision];
                    // The trainer's allocator setting: freed memory retained for the small backbone, released for VGG16.
                    if (TrainStepBenchmark.RunChild(self, [.. prefix, .. childArgs, .. name == "small" ? new[] { "--retain" } : []]) is { } m)
                        train[(name, precision)] = m;
                }
            }
        }
        string machine = BenchReport.MachineLine(options.Threads) + peerMachine;
        var sections = new List<(string Name, List<string> Lines)>
        {
            ("bf16-detect", DetectSection(options, detect, machine)),
            ("bf16-auto", AutoSection(options, detect, machine)),
            ("bf16-scores", ScoreSection(options, scores, machine)),
            ("bf16-train", TrainSection(options, train, machine)),
            ("bf16-kernels", KernelSection(options, kernels, machine)),
        };
        foreach (var (name, lines) in sections.Where(s => s.Lines.Count > 0))
        {
            Console.WriteLine();
            foreach (var line in lines) Console.WriteLine(line);
            if (options.Write is { } path) BenchReport.WriteSection(path, name, lines);
        }
        return 0;
    }

    private static string Command(Options o) =>
        $"`dotnet run --project bench/FastRcnn.Benchmarks -c Release -- bf16{(o.Only.Length < 4 ? " --only " + string.Join(',', o.Only) : "")} --write docs/benchmarks.md`";

    private static string Ms(double v) => double.IsNaN(v) ? "–" : v.ToString("F1", CultureInfo.InvariantCulture);

    private static string Ratio(double a, double b) => double.IsNaN(a) || double.IsNaN(b) ? "–" : (a / b).ToString("F2", CultureInfo.InvariantCulture) + "×";

    private static List<string> DetectSection(Options options, Dictionary<(string, string), DetectBenchmark.Side> detect, string machine)
    {
        var lines = new List<string>();
        if (detect.Count == 0) return lines;
        lines.AddRange(
        [
            "## bfloat16 detection (issue 19): time per image, stage by stage",
            "",
            $"Measured {DateTime.UtcNow:yyyy-MM-dd} with {Command(options)}: {machine}.",
            "Milliseconds per image, medians (vgg16: 600×1000, small: 400×600; random weights, random images, the same 2000 proposals as the",
            "`detect` runner; each column its own process, one after the other). bf16: `DetectorOptions.Precision = Bf16` (fc6 and fc7 in",
            "bfloat16, stored converted; trunk, RoI pooling, outputs and NMS in float32). SVD: the compressed model (`ModelCompression.Compress`,",
            $"vgg16 fc6 t = {options.VggSvd.Fc6}, fc7 t = {options.VggSvd.Fc7}; small fc6 t = {options.SmallSvd.Fc6}, fc7 t = {options.SmallSvd.Fc7}) through `Detector`.",
            "PyTorch: `bench/peers/pytorch_detect.py`, float32. Targets (VGG16, CPU with avx512_bf16): total ≤ 0.6× PyTorch's fp32, ≤ 0.4× with SVD.",
        ]);
        foreach (var network in options.Networks)
        {
            var columns = Variants.Where(v => v.Key != "auto_fallback").Select(v => (Key: v.Key, Label: v.Label)).Append((Key: "peer", Label: "PyTorch fp32"))
                .Where(c => detect.ContainsKey((network, c.Key))).ToArray();
            if (columns.Length == 0) continue;
            bool peer = detect.ContainsKey((network, "peer"));
            lines.Add("");
            lines.Add($"| {network}, ms per image |" + string.Concat(columns.Select(c => $" {c.Label} |")) + (peer ? " bf16 / PyTorch | bf16 + SVD / PyTorch |" : ""));
            lines.Add("|---|" + string.Concat(columns.Select(_ => "---:|")) + (peer ? "---:|---:|" : ""));
            double M(string variant, string stage) => detect.TryGetValue((network, variant), out var s) ? s.Median(stage) : double.NaN;
            foreach (var (key, label) in DetectBenchmark.Stages.Append(("total", "**total**")).Append(("cpu", "CPU time, user + system")))
            {
                string row = $"| {label} |" + string.Concat(columns.Select(c => $" {Ms(M(c.Key, key))} |"));
                if (peer) row += $" {Ratio(M("bf16", key), M("peer", key))} | {Ratio(M("bf16_svd", key), M("peer", key))} |";
                lines.Add(key == "total" ? row.Replace("| " + Ms(M("bf16", key)) + " |", "| **" + Ms(M("bf16", key)) + "** |") : row);
            }
            lines.Add("| peak resident memory (MiB) |" + string.Concat(columns.Select(c => $" {detect[(network, c.Key)].PeakRssMib:F0} |")) + (peer ? " | |" : ""));
            lines.Add("| detections per image |" + string.Concat(columns.Select(c => $" {detect[(network, c.Key)].Detections} |")) + (peer ? " | |" : ""));
            double fp32 = M("fp32", "total");
            lines.Add("| total / fp32 |" + string.Concat(columns.Select(c => $" {Ratio(M(c.Key, "total"), fp32)} |")) + (peer ? " | |" : ""));
        }
        return lines;
    }

    private static List<string> AutoSection(Options options, Dictionary<(string, string), DetectBenchmark.Side> detect, string machine)
    {
        var lines = new List<string>();
        var networks = options.Networks.Where(n => detect.ContainsKey((n, "fp32")) && detect.ContainsKey((n, "auto_fallback"))).ToArray();
        if (networks.Length == 0) return lines;
        lines.AddRange(
        [
            "## `auto` on a CPU without bfloat16",
            "",
            $"From the same run ({machine}): `auto` with the fp32 fallback forced (`{Bf16Support.ForceFallbackVariable}=1`, what a CPU",
            "without avx512_bf16 or amx_bf16 sees) against plain fp32; each its own process. `auto` resolves once, when the `Detector` is made;",
            "from then on the detector is the fp32 one, so the two differ by the machine's noise only.",
            "",
            "| network | fp32 total (ms) | auto, fallback (ms) | auto / fp32 | auto resolved to | same detections |",
            "|---|---:|---:|---:|---|---|",
        ]);
        foreach (var n in networks)
        {
            var (a, b) = (detect[(n, "fp32")], detect[(n, "auto_fallback")]);
            bool same = a.ScoreSum == b.ScoreSum && a.Detections == b.Detections;
            lines.Add($"| {n} | {Ms(a.Median("total"))} | {Ms(b.Median("total"))} | {Ratio(b.Median("total"), a.Median("total"))} | {b.Precision ?? "?"} | " +
                $"{(same ? "yes (equal score sums)" : "no")} |");
        }
        return lines;
    }

    private static List<string> ScoreSection(Options options, Dictionary<string, JsonElement> scores, string machine)
    {
        var lines = new List<string>();
        if (scores.Count == 0) return lines;
        lines.AddRange(
        [
            "## bfloat16 against float32: score differences",
            "",
            $"From the same run ({machine}): the benchmark's random-weight networks and random images, each image detected in fp32 and then in",
            "bf16 by the same model (2000 proposals, threshold 0.05, NMS 0.3, top 100). Class probabilities: every proposal and class before",
            "the threshold. Detections: each fp32 detection matched to the bf16 detection of its class with the highest IoU.",
            "",
            "| network | images | max abs. probability difference, all RoIs × classes | mean | fp32 detections matched at IoU ≥ 0.9 | max score difference, matched | max box difference (px), matched |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]);
        foreach (var (n, j) in scores)
        {
            double D(string key) => j.GetProperty(key).GetDouble();
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {n} | {j.GetProperty("images").GetInt32()} | {D("max_prob_diff"):G3} | {D("mean_prob_diff"):G3} | {j.GetProperty("matched").GetInt32()} of {j.GetProperty("fp32_detections").GetInt32()} | {D("max_score_diff"):G3} | {D("max_box_diff"):G3} |"));
        }
        return lines;
    }

    private static List<string> TrainSection(Options options, Dictionary<(string, string), TrainStepBenchmark.Measurement> train, string machine)
    {
        var lines = new List<string>();
        if (train.Count == 0) return lines;
        lines.AddRange(
        [
            "## Mixed-precision training iteration (N = 2, R = 128)",
            "",
            $"From the same run ({machine}): the `train` runner's iteration (RoI sampling, forward, loss, backward, SGD step; VGG16 at",
            "600×1000, small at 400×600), `--precision fp32` and `bf16` (fc6 and fc7 in bfloat16 from float32 master weights; trunk, loss and",
            "optimizer in float32), each in its own process with the trainer's allocator setting. Median of the timed iterations after 2 warm-ups;",
            "peak = VmHWM.",
            "",
            "| network | precision | s/it | CPU s/it | peak MiB | time / fp32 | memory / fp32 | loss, first iteration |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        ]);
        foreach (var n in options.Networks)
        {
            if (!train.TryGetValue((n, "fp32"), out var fp32)) continue;
            foreach (var p in new[] { "fp32", "bf16" })
            {
                if (!train.TryGetValue((n, p), out var m)) continue;
                lines.Add(string.Create(CultureInfo.InvariantCulture,
                    $"| {n} | {p} | {m.MedianSeconds:F3} | {m.CpuSecondsPerIteration:F2} | {m.PeakRssMib:F0} | {m.MedianSeconds / fp32.MedianSeconds:F2}× | {m.PeakRssMib / fp32.PeakRssMib:F2}× | {m.Losses[0]:F4} |"));
            }
        }
        return lines;
    }

    /// <summary>
    /// The score comparison in this process: one random-weight model; every image detected in fp32, then the same model
    /// converted to bf16 by a second <see cref="Detector"/> and the images detected again.
    /// </summary>
    private static int ScoreChild(Options options)
    {
        var network = DetectBenchmark.Networks.First(n => n.Name == options.Networks[0]);
        CpuRuntime.SetThreads(options.Threads);
        CpuRuntime.RetainFreedMemory(true);
        var names = Enumerable.Range(1, NumClasses).Select(k => $"class {k}").ToArray();
        var model = new TwoStageModel(network.Name, NumClasses, seed: 0);
        using var proposals = DetectBenchmark.Proposals(2000, 1, network.Height, network.Width);
        var images = Enumerable.Range(0, options.Images).Select(j => rand([3, network.Height, network.Width], generator: manual_seed(100 + j)).Mul_(255)).ToArray();
        var fp32Detector = new Detector(model, names, new DetectorOptions([network.ShortSide], network.MaxSize));
        var fp32 = images.Select(i => Run(fp32Detector, i, proposals)).ToArray();
        using var bf16Detector = new Detector(model, names, new DetectorOptions([network.ShortSide], network.MaxSize, Precision: Precision.Bf16));
        var bf16 = images.Select(i => Run(bf16Detector, i, proposals)).ToArray();
        double maxProb = 0, sumProb = 0, maxScore = 0, maxBox = 0;
        long count = 0;
        int matched = 0, total = 0;
        for (int i = 0; i < images.Length; i++)
        {
            using var diff = fp32[i].Probabilities.sub(bf16[i].Probabilities).abs_();
            maxProb = Math.Max(maxProb, diff.max().item<float>());
            sumProb += diff.sum(ScalarType.Float64).item<double>();
            count += diff.numel();
            foreach (var d in fp32[i].Objects)
            {
                total++;
                var best = bf16[i].Objects.Where(o => o.ClassIndex == d.ClassIndex).MaxBy(o => IoU(o.Box, d.Box));
                if (best is null || IoU(best.Box, d.Box) < 0.9) continue;
                matched++;
                maxScore = Math.Max(maxScore, Math.Abs(best.Score - d.Score));
                maxBox = Math.Max(maxBox, new[] { best.Box.X1 - d.Box.X1, best.Box.Y1 - d.Box.Y1, best.Box.X2 - d.Box.X2, best.Box.Y2 - d.Box.Y2 }.Max(Math.Abs));
            }
        }
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["network"] = network.Name, ["images"] = images.Length, ["max_prob_diff"] = maxProb, ["mean_prob_diff"] = sumProb / count,
            ["fp32_detections"] = total, ["matched"] = matched, ["max_score_diff"] = maxScore, ["max_box_diff"] = maxBox,
        }));
        return 0;
    }

    /// <summary>The single operations behind the choice of what runs in bf16: fc6's product and VGG16's 3×3 convolutions (channels-last), fp32 and bf16.</summary>
    private static int KernelChild(Options options)
    {
        CpuRuntime.SetThreads(options.Threads);
        CpuRuntime.RetainFreedMemory(true);
        using var noGrad = no_grad();
        var results = new List<Dictionary<string, object>>();
        double Time(Func<Tensor> op)
        {
            using (op()) { }   // warm-up: oneDNN creates its primitive
            var samples = new List<double>();
            for (int i = 0; i < 3; i++)
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                using (op()) { }
                samples.Add(clock.Elapsed.TotalMilliseconds);
            }
            return BenchReport.Median(samples);
        }
        void Measure(string name, Tensor[] inputs, Func<Tensor[], Tensor> op)
        {
            var low = inputs.Select(t => t.to_type(ScalarType.BFloat16)).ToArray();
            double f = Time(() => op(inputs)), b = Time(() => op(low));
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[bf16] {name}: fp32 {f:F1} ms, bf16 {b:F1} ms"));
            results.Add(new() { ["name"] = name, ["fp32_ms"] = f, ["bf16_ms"] = b });
            foreach (var t in low) t.Dispose();
            foreach (var t in inputs) t.Dispose();
        }
        static Tensor ChannelsLast(Tensor x) => x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
        var g = manual_seed(0);
        Measure("fc6: linear 1000 × 25088 → 4096", [randn([1000, 25088], generator: g), randn([4096, 25088], generator: g).Mul_(0.01), zeros(4096)],
            t => nn.functional.linear(t[0], t[1], t[2]));
        Measure("fc7: linear 2000 × 4096 → 4096", [randn([2000, 4096], generator: g), randn([4096, 4096], generator: g).Mul_(0.01), zeros(4096)],
            t => nn.functional.linear(t[0], t[1], t[2]));
        foreach (var (c, h, w) in new[] { (64, 300, 500), (256, 150, 250), (512, 75, 125), (512, 38, 63) })
        {
            Measure($"conv 3×3, {c} → {c} channels at {h}×{w}, channels-last",
                [ChannelsLast(randn([1, c, h, w], generator: g)), ChannelsLast(randn([c, c, 3, 3], generator: g).Mul_(0.01)), zeros(c)],
                t => nn.functional.conv2d(t[0], t[1], t[2], padding: [1, 1]));
        }
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object> { ["kernels"] = results }));
        return 0;
    }

    private static List<string> KernelSection(Options options, JsonElement? kernels, string machine)
    {
        var lines = new List<string>();
        if (kernels is not { } k) return lines;
        lines.AddRange(
        [
            "## bfloat16 kernels: what pays",
            "",
            $"From the same run ({machine}): single libtorch operations (oneDNN; median of 3 after a warm-up), float32 against bfloat16",
            "inputs and weights. They decide where `Precision.Bf16` applies: the fully connected layers, not the trunk's convolutions.",
            "",
            "| operation | fp32 (ms) | bf16 (ms) | bf16 / fp32 |",
            "|---|---:|---:|---:|",
        ]);
        foreach (var r in k.GetProperty("kernels").EnumerateArray())
        {
            double f = r.GetProperty("fp32_ms").GetDouble(), b = r.GetProperty("bf16_ms").GetDouble();
            lines.Add($"| {r.GetProperty("name").GetString()} | {Ms(f)} | {Ms(b)} | {Ratio(b, f)} |");
        }
        return lines;
    }

    private sealed record Detected(Tensor Probabilities, IReadOnlyList<DetectedObject> Objects);

    /// <summary>The detector's detections and, through its model, every RoI's class probabilities (R, K+1).</summary>
    private static Detected Run(Detector detector, Tensor image, Tensor proposals)
    {
        var objects = detector.Detect(image, proposals).Objects;
        using var scope = NewDisposeScope();
        using var test = new ImageTransform([detector.Options.EffectiveScales[0]], detector.Options.MaxSize, detector.Model.Pixels).Apply(image);
        var predictions = detector.Model.Predict(test, proposals);
        return new Detected(predictions.Probabilities.MoveToOuterDisposeScope(), objects);
    }

    private static double IoU(BoundingBox a, BoundingBox b)
    {
        double w = Math.Min(a.X2, b.X2) - Math.Max(a.X1, b.X1), h = Math.Min(a.Y2, b.Y2) - Math.Max(a.Y1, b.Y1);
        if (w <= 0 || h <= 0) return 0;
        double inter = w * h;
        return inter / ((a.X2 - a.X1) * (a.Y2 - a.Y1) + (b.X2 - b.X1) * (b.Y2 - b.Y1) - inter);
    }

    private static Options Parse(string[] args)
    {
        string[] networks = ["vgg16", "small"], only = ["detect", "scores", "train", "kernels"];
        int images = 0, threads = Environment.ProcessorCount, trainIters = 0;
        string? python = BenchReport.DefaultPython, write = null;
        bool child = false, kernelChild = false;
        (int, int) vggSvd = (1024, 256), smallSvd = (128, 64);
        (int, int) Ranks(string text)
        {
            var r = text.Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            return r.Length == 2 ? (r[0], r[1]) : throw new ArgumentException("SVD ranks are two numbers, e.g. 1024,256");
        }
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--network": networks = [Next()]; break;
                case "--images": images = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--train-iters": trainIters = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--svd": vggSvd = Ranks(Next()); break;
                case "--small-svd": smallSvd = Ranks(Next()); break;
                case "--only": only = Next().Split(','); break;
                case "--python": python = Next(); break;
                case "--no-peer": python = null; break;
                case "--write": write = Next(); break;
                case "--child": child = true; break;
                case "--child-kernels": kernelChild = true; break;
                default:
                    throw new ArgumentException($"unknown option {args[i]} (bf16 [--network vgg16|small] [--images N] [--threads N] [--train-iters N] " +
                                                "[--svd T6,T7] [--small-svd T6,T7] [--only detect,scores,train,kernels] [--python PATH | --no-peer] [--write FILE.md])");
            }
        }
        if (networks.Any(n => DetectBenchmark.Networks.All(k => k.Name != n))) throw new ArgumentException("unknown network; known: vgg16, small");
        if (child && images <= 0) throw new ArgumentException("--child needs --images");
        return new(networks, images, threads, python, write, child, vggSvd, smallSvd, trainIters, only, kernelChild);
    }
}
