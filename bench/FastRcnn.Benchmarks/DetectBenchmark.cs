using System.Globalization;
using System.Text.Json;
using FastRcnn.Compression;
using FastRcnn.Inference;
using FastRcnn.Modeling;
using FastRcnn.Ops;
using FastRcnn.Runtime;
using static TorchSharp.torch;

namespace FastRcnn.Benchmarks;

/// <summary>
/// <c>detect</c>: detection time per image, stage by stage (the paper's Figure 2 split: conv, RoI pooling, fc6,
/// fc7, cls + bbox + softmax + decode, NMS), for the VGG16 structure at 600×1000 and the small backbone at
/// the Shapes scale (400×600), random weights, 2000 proposals, K = 20: ours — the library's
/// <see cref="Detector"/> with its <see cref="Detector.Detect(Tensor, Tensor)"/> stage times (threshold 0.05,
/// per-class NMS 0.3, top 100) and the process settings of the <c>fastrcnn</c> command — against
/// bench/peers/pytorch_detect.py (the same network, weights, images, proposals and postprocessing in PyTorch
/// 1.13 + torchvision). Each side in its own process; medians of <c>--images</c> images after
/// <c>--warmup</c>. For VGG16, <c>--svd T6,T7</c> (default 1024,256) also times fc6 and fc7 factored by
/// truncated SVD (SPEC §7) in the two-matmul form on both sides.
/// </summary>
public static class DetectBenchmark
{
    private const int NumClasses = 20;

    /// <summary>The stages in order, named as the peer names them, and their labels.</summary>
    internal static readonly (string Key, string Label)[] Stages =
    [
        ("conv", "conv (scale, pixels, trunk)"), ("roi_pool", "RoI pooling"), ("fc6", "fc6 + ReLU"), ("fc7", "fc7 + ReLU"),
        ("outputs", "cls + bbox + softmax + decode"), ("nms", "threshold + per-class NMS + top 100"),
    ];

    internal sealed record Network(string Name, int Height, int Width, int ShortSide, int MaxSize, int Images, int Warmup);

    internal static readonly Network[] Networks = [new("vgg16", 600, 1000, 600, 1000, 5, 1), new("small", 400, 600, 400, 666, 15, 2)];

    internal sealed record Options(string[] Networks, int Images, int Warmup, int Threads, int Proposals, string? Python, bool Child,
        string? Write, (int Fc6, int Fc7)? Svd, int Rounds, Precision Precision = Precision.Fp32, (int Fc6, int Fc7)? Compressed = null);

    /// <summary>One side's figures for one network: the JSON both sides print, merged over the rounds.</summary>
    internal sealed class Side
    {
        private readonly Dictionary<string, List<double>> _samples = [];
        private readonly List<int> _detections = [];

        public double PeakRssMib { get; private set; }
        public double Checksum { get; private set; }
        public double? ScoreSum { get; private set; }
        public int[]? SvdRanks { get; private set; }
        public string? Machine { get; private set; }
        public string? Precision { get; private set; }

        public void Add(JsonElement json)
        {
            foreach (var stage in json.GetProperty("samples_ms").EnumerateObject())
            {
                if (!_samples.TryGetValue(stage.Name, out var list)) _samples[stage.Name] = list = [];
                list.AddRange(stage.Value.EnumerateArray().Select(e => e.GetDouble()));
            }
            _detections.AddRange(json.GetProperty("detections").EnumerateArray().Select(e => e.GetInt32()));
            PeakRssMib = Math.Max(PeakRssMib, json.GetProperty("peak_rss_mib").GetDouble());
            Checksum = json.GetProperty("weights_checksum").GetDouble();
            ScoreSum ??= json.GetProperty("score_sum").GetDouble();
            if (json.TryGetProperty("svd_ranks", out var ranks)) SvdRanks = [.. ranks.EnumerateArray().Select(e => e.GetInt32())];
            if (json.TryGetProperty("machine", out _)) Machine = BenchReport.TorchPeer(json);
            if (json.TryGetProperty("precision", out var precision)) Precision = precision.GetString();
        }

        public double Median(string stage) => _samples.TryGetValue(stage, out var s) ? BenchReport.Median(s) : double.NaN;

        public string Detections => string.Join("/", _detections.Distinct());

        public int Count => _samples.TryGetValue("total", out var s) ? s.Count : 0;

        /// <summary>The total with fc6 and fc7 replaced by their factored medians (NaN without SVD figures).</summary>
        public double SvdTotal => Median("total") - Median("fc6") - Median("fc7") + Median("fc6_svd") + Median("fc7_svd");
    }

    internal sealed record Result(string Network, Side? Ours, Side? Peer);

    public static int Run(string[] args)
    {
        var options = Parse(args);
        if (options.Child) return Child(options);
        var results = new List<Result>();
        foreach (var name in options.Networks)
        {
            var network = Networks.First(n => n.Name == name);
            var o = options with
            {
                Images = options.Images > 0 ? options.Images : network.Images,
                Warmup = options.Warmup >= 0 ? options.Warmup : network.Warmup,
            };
            Side? ours = null, peer = null;
            // Rounds alternate the sides (ours, peer, ours, peer, ...) so that a change in the machine's load
            // falls on both; the SVD layers are timed in the last round only.
            for (int round = 1; round <= options.Rounds; round++)
            {
                var r = o with { Svd = name == "vgg16" && round == options.Rounds ? options.Svd : null };
                Console.Error.WriteLine($"[detect] {name}, round {round}/{options.Rounds}: FastRcnn ...");
                var (self, prefix) = BenchReport.SelfCommand();
                if (BenchReport.RunJsonChild(self, [.. prefix, "detect", "--child", .. ChildArgs(r, name)]) is { } a) (ours ??= new()).Add(a);
                if (options.Python is not { } python) continue;
                Console.Error.WriteLine($"[detect] {name}, round {round}/{options.Rounds}: PyTorch ...");
                if (BenchReport.RunJsonChild(python, [BenchReport.PeerScript("pytorch_detect.py"), .. ChildArgs(r, name)]) is { } b) (peer ??= new()).Add(b);
            }
            results.Add(new Result(name, ours, peer));
        }
        string machine = BenchReport.MachineLine(options.Threads) + (results.Select(r => r.Peer?.Machine).FirstOrDefault(m => m is not null) ?? "");
        Console.WriteLine(machine);
        foreach (var line in StageTable(results)) Console.WriteLine(line);
        foreach (var line in SvdTable(results)) Console.WriteLine(line);
        if (options.Write is { } path) WriteMarkdown(path, results, machine, options);
        return 0;
    }

    internal static string[] ChildArgs(Options o, string network)
    {
        var args = new List<string>
        {
            "--network", network, "--images", o.Images.ToString(CultureInfo.InvariantCulture), "--warmup", o.Warmup.ToString(CultureInfo.InvariantCulture),
            "--threads", o.Threads.ToString(CultureInfo.InvariantCulture), "--proposals", o.Proposals.ToString(CultureInfo.InvariantCulture),
        };
        if (o.Svd is { } svd) args.AddRange(["--svd", $"{svd.Fc6},{svd.Fc7}"]);
        if (o.Precision != Precision.Fp32) args.AddRange(["--precision", o.Precision.Name()]);
        if (o.Compressed is { } c) args.AddRange(["--compressed", $"{c.Fc6},{c.Fc7}"]);
        return [.. args];
    }

    /// <summary>The measurement of one network in this process; prints one JSON object like the peer's.</summary>
    private static int Child(Options options)
    {
        var network = Networks.First(n => n.Name == options.Networks[0]);
        CpuRuntime.UseTransparentHugePages();     // as the fastrcnn command: before libtorch allocates,
        CpuRuntime.SetThreads(options.Threads);
        CpuRuntime.RetainFreedMemory(true);       // and freed memory kept for reuse
        var model = new TwoStageModel(network.Name, NumClasses, seed: 0);
        double checksum = model.parameters().Sum(p => p.sum(ScalarType.Float64).item<double>());   // of the float32 weights, before any conversion
        if (options.Compressed is { } c)
        {
            var dense = model;
            model = ModelCompression.Compress(dense, new SvdCompressionOptions { Fc6 = LayerTruncation.ToRank(c.Fc6), Fc7 = LayerTruncation.ToRank(c.Fc7) }).Model;
            dense.Dispose();
        }
        using var detector = new Detector(model, Enumerable.Range(1, NumClasses).Select(k => $"class {k}").ToArray(),
            new DetectorOptions([network.ShortSide], network.MaxSize, Precision: options.Precision));
        using var proposals = Proposals(options.Proposals, 1, network.Height, network.Width);
        var samples = Stages.Select(s => s.Key).Concat(["total", "cpu"]).ToDictionary(k => k, _ => new List<double>());
        var detections = new List<int>();
        double scoreSum = 0;
        Tensor? lastImage = null;
        for (int j = 0; j < options.Warmup + options.Images; j++)
        {
            lastImage?.Dispose();
            lastImage = rand([3, network.Height, network.Width], generator: manual_seed(100 + j)).Mul_(255);
            double cpu = CpuMilliseconds();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var result = detector.Detect(lastImage, proposals);
            double total = clock.Elapsed.TotalMilliseconds;
            cpu = CpuMilliseconds() - cpu;
            var t = result.Times;
            double[] ms = [.. new[] { t.Conv, t.RoiPooling, t.Fc6, t.Fc7, t.Outputs, t.Nms }.Select(s => s.TotalMilliseconds)];
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[detect] {network.Name} image {j + 1}: {total:F1} ms, {result.Objects.Count} detections, {string.Join(", ", Stages.Select((s, i) => $"{s.Key} {ms[i]:F1}"))}"));
            if (j < options.Warmup) continue;
            for (int i = 0; i < ms.Length; i++) samples[Stages[i].Key].Add(ms[i]);
            samples["total"].Add(total);
            samples["cpu"].Add(cpu);
            detections.Add(result.Objects.Count);
            if (j == options.Warmup) scoreSum = result.Objects.Sum(d => (double)d.Score);
        }
        double peak = BenchReport.PeakRssMib();     // before the factorisation's float64 work
        var json = new Dictionary<string, object>
        {
            ["network"] = network.Name,
            ["side"] = "fastrcnn",
            ["samples_ms"] = samples,
            ["median_ms"] = samples.ToDictionary(kv => kv.Key, kv => BenchReport.Median(kv.Value)),
            ["detections"] = detections,
            ["peak_rss_mib"] = peak,
            ["weights_checksum"] = checksum,
            ["score_sum"] = scoreSum,
            ["precision"] = detector.Precision.Name(),
            ["bf16"] = Bf16Support.Describe(),
        };
        if (options.Svd is { } ranks)
        {
            MeasureSvd(model, lastImage!, proposals, ranks, options, json);
            MeasureSvdEndToEnd(model, network, proposals, ranks, options, json);
        }
        lastImage?.Dispose();
        Console.WriteLine(JsonSerializer.Serialize(json));
        return 0;
    }

    /// <summary>User + system CPU time of this process so far, all threads.</summary>
    private static double CpuMilliseconds()
    {
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        return self.TotalProcessorTime.TotalMilliseconds;
    }

    /// <summary>
    /// fc6 and fc7 factored by <see cref="TruncatedSvd"/> and timed in the two-matmul form
    /// relu(linear(linear(x, Σ_t V_tᵀ), U_t, b)) on the deduplicated pooled RoIs of <paramref name="image"/>.
    /// </summary>
    private static void MeasureSvd(TwoStageModel model, Tensor image, Tensor proposals, (int Fc6, int Fc7) ranks, Options options, Dictionary<string, object> json)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var fc6 = TruncatedSvd.Factor(parameters["box_head.fc6.weight"], parameters["box_head.fc6.bias"], ranks.Fc6);
        using var fc7 = TruncatedSvd.Factor(parameters["box_head.fc7.weight"], parameters["box_head.fc7.bias"], ranks.Fc7);
        json["svd_factor_s"] = clock.Elapsed.TotalSeconds;
        json["svd_ranks"] = new[] { fc6.Rank, fc7.Rank };
        var features = model.Features(model.Pixels.Apply(image).unsqueeze(0));
        var rois = cat([zeros(proposals.shape[0], 1), proposals], 1);
        var pooled = model.PoolRois(features, RoiDeduplication.Run(rois, model.Spec.SpatialScale).Unique).flatten(1);
        features.Dispose();
        var fc6Samples = new List<double>();
        var fc7Samples = new List<double>();
        for (int j = 0; j < options.Warmup + options.Images; j++)
        {
            using var step = NewDisposeScope();
            clock.Restart();
            var x6 = nn.functional.relu(nn.functional.linear(nn.functional.linear(pooled, fc6.First), fc6.Second, fc6.Bias), inplace: true);
            double t6 = clock.Elapsed.TotalMilliseconds;
            clock.Restart();
            nn.functional.relu(nn.functional.linear(nn.functional.linear(x6, fc7.First), fc7.Second, fc7.Bias), inplace: true);
            double t7 = clock.Elapsed.TotalMilliseconds;
            if (j < options.Warmup) continue;
            fc6Samples.Add(t6);
            fc7Samples.Add(t7);
        }
        var samples = (Dictionary<string, List<double>>)json["samples_ms"];
        var medians = (Dictionary<string, double>)json["median_ms"];
        samples["fc6_svd"] = fc6Samples;
        samples["fc7_svd"] = fc7Samples;
        medians["fc6_svd"] = BenchReport.Median(fc6Samples);
        medians["fc7_svd"] = BenchReport.Median(fc7Samples);
    }

    /// <summary>
    /// The whole detection with the compressed model (<see cref="ModelCompression.Compress"/>: fc6 and fc7 factored
    /// layers inside the box head) on the same images as the dense run: medians "total_svd" and "fc6_svd_e2e", "fc7_svd_e2e".
    /// </summary>
    private static void MeasureSvdEndToEnd(TwoStageModel model, Network network, Tensor proposals, (int Fc6, int Fc7) ranks, Options options, Dictionary<string, object> json)
    {
        var compressed = ModelCompression.Compress(model, new SvdCompressionOptions { Fc6 = LayerTruncation.ToRank(ranks.Fc6), Fc7 = LayerTruncation.ToRank(ranks.Fc7) });
        using var detector = new Detector(compressed.Model, Enumerable.Range(1, NumClasses).Select(k => $"class {k}").ToArray(),
            new DetectorOptions([network.ShortSide], network.MaxSize));
        var totals = new List<double>();
        var fc6 = new List<double>();
        var fc7 = new List<double>();
        for (int j = 0; j < options.Warmup + options.Images; j++)
        {
            using var scope = NewDisposeScope();
            var image = rand([3, network.Height, network.Width], generator: manual_seed(100 + j)).Mul_(255);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var result = detector.Detect(image, proposals);
            double total = clock.Elapsed.TotalMilliseconds;
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[detect] {network.Name} SVD image {j + 1}: {total:F1} ms"));
            if (j < options.Warmup) continue;
            totals.Add(total);
            fc6.Add(result.Times.Fc6.TotalMilliseconds);
            fc7.Add(result.Times.Fc7.TotalMilliseconds);
        }
        var samples = (Dictionary<string, List<double>>)json["samples_ms"];
        var medians = (Dictionary<string, double>)json["median_ms"];
        foreach (var (key, values) in new[] { ("total_svd", totals), ("fc6_svd_e2e", fc6), ("fc7_svd_e2e", fc7) })
        {
            samples[key] = values;
            medians[key] = BenchReport.Median(values);
        }
    }

    /// <summary>
    /// The peer's proposal recipe (valid boxes, at least 16 px before the border cuts them): x1 ~ U[0, W−32),
    /// y1 ~ U[0, H−32), w ~ U[16, W/2), h ~ U[16, 2H/3), x2 = min(x1 + w, W − 1), y2 = min(y1 + h, H − 1).
    /// </summary>
    internal static Tensor Proposals(int count, int seed, int height, int width)
    {
        using var scope = NewDisposeScope();
        var g = manual_seed(seed);
        var x1 = rand(count, generator: g).Mul(width - 32);
        var y1 = rand(count, generator: g).Mul(height - 32);
        var w = rand(count, generator: g).Mul(width / 2f - 16).Add(16);
        var h = rand(count, generator: g).Mul(2f * height / 3 - 16).Add(16);
        return stack([x1, y1, x1.Add(w).ClampMax(width - 1), y1.Add(h).ClampMax(height - 1)], 1).MoveToOuterDisposeScope();
    }

    private static string Ms(double v) => double.IsNaN(v) ? "–" : v.ToString("F1", CultureInfo.InvariantCulture);

    private static string Ratio(double ours, double peer) => double.IsNaN(ours) || double.IsNaN(peer) ? "–" : (ours / peer).ToString("F2", CultureInfo.InvariantCulture) + "×";

    /// <summary>Stage rows: per network, ours, PyTorch, ours/PyTorch; then the paper's VGG16 split.</summary>
    private static List<string> StageTable(List<Result> results)
    {
        var header = "| stage |" + string.Concat(results.Select(r => $" {r.Network} FastRcnn | {r.Network} PyTorch | ours/PyTorch |")) + " paper, VGG16 (K40 GPU) |";
        var lines = new List<string> { header, "|---|" + string.Concat(results.Select(_ => "---:|---:|---:|")) + "---|" };
        var paper = new Dictionary<string, string> { ["conv"] = "46%", ["roi_pool"] = "5%", ["fc6"] = "39% (122 ms)", ["fc7"] = "6% (20 ms)", ["total"] = "320 ms" };
        foreach (var (key, label) in Stages.Append(("total", "**total**")))
        {
            string Cells(Result r)
            {
                double o = r.Ours?.Median(key) ?? double.NaN, p = r.Peer?.Median(key) ?? double.NaN;
                return key == "total" ? $" **{Ms(o)}** | {Ms(p)} | **{Ratio(o, p)}** |" : $" {Ms(o)} | {Ms(p)} | {Ratio(o, p)} |";
            }
            lines.Add($"| {label} |" + string.Concat(results.Select(Cells)) + $" {paper.GetValueOrDefault(key, "")} |");
        }
        string Row(string label, Func<Side, double> value, string format) => $"| {label} |" + string.Concat(results.Select(r =>
        {
            double o = r.Ours is null ? double.NaN : value(r.Ours), p = r.Peer is null ? double.NaN : value(r.Peer);
            string F(double v) => double.IsNaN(v) ? "–" : v.ToString(format, CultureInfo.InvariantCulture);
            return $" {F(o)} | {F(p)} | {Ratio(o, p)} |";
        })) + " |";
        lines.Add(Row("CPU time, user + system, all threads", s => s.Median("cpu"), "F0"));
        lines.Add(Row("peak resident memory (MiB)", s => s.PeakRssMib, "F0"));
        lines.Add("| detections per image |" + string.Concat(results.Select(r => $" {r.Ours?.Detections ?? "–"} | {r.Peer?.Detections ?? "–"} | |")) + " |");
        lines.Add(Row("their scores summed, first timed image", s => s.ScoreSum ?? double.NaN, "F3"));
        return lines;
    }

    /// <summary>fc6, fc7 and the total, full and factored, for the networks measured with SVD.</summary>
    private static List<string> SvdTable(List<Result> results)
    {
        var lines = new List<string>();
        foreach (var r in results.Where(r => r.Ours?.SvdRanks is not null))
        {
            var ranks = r.Ours!.SvdRanks!;
            Side? ours = r.Ours, peer = r.Peer;
            string Row(string label, Func<Side, double> value, string paper)
            {
                double o = value(ours), p = peer is null ? double.NaN : value(peer);
                return $"| {label} | {Ms(o)} | {Ms(p)} | {Ratio(o, p)} | {paper} |";
            }
            string Change(Side? s) => s is null ? "–" : (s.SvdTotal / s.Median("total") - 1).ToString("+0%;−0%", CultureInfo.InvariantCulture);
            lines.AddRange(
            [
                $"| {r.Network}, ms per image | FastRcnn | PyTorch | ours/PyTorch | paper (K40 GPU) |",
                "|---|---:|---:|---:|---:|",
                Row("fc6 (25088 → 4096)", s => s.Median("fc6"), "122"),
                Row($"fc6, SVD t = {ranks[0]}", s => s.Median("fc6_svd"), "37"),
                Row("fc7 (4096 → 4096)", s => s.Median("fc7"), "20"),
                Row($"fc7, SVD t = {ranks[1]}", s => s.Median("fc7_svd"), "4"),
                Row("**total**", s => s.Median("total"), "320"),
                Row("**total with SVD** (dense total, fc times swapped)", s => s.SvdTotal, "223"),
                $"| total with SVD, end to end (compressed model) | {Ms(ours!.Median("total_svd"))} | – | | |",
                $"| change of the total | {Change(ours)} | {Change(peer)} | | −30% |",
            ]);
        }
        return lines;
    }

    private static void WriteMarkdown(string path, List<Result> results, string machine, Options options)
    {
        string counts = string.Join(", ", results.Select(r => $"{r.Network}: median of {r.Ours?.Count ?? r.Peer?.Count ?? 0} images"));
        var lines = new List<string>
        {
            "## Detection (issue 6): time per image, stage by stage",
            "",
            $"Measured {DateTime.UtcNow:yyyy-MM-dd} with `dotnet run --project bench/FastRcnn.Benchmarks -c Release -- detect --write docs/benchmarks.md`",
            $"against `bench/peers/pytorch_detect.py` in the same run: {machine}. Milliseconds per image ({counts}, after warm-ups;",
            $"{options.Rounds} round(s), each running FastRcnn's process, then PyTorch's). Random weights drawn identically on both sides (weights",
            $"checksum {Checksums(results)}), random images (255·U[0,1)), the same {options.Proposals} valid random proposals on every image,",
            "K = 20 (21 classes); score threshold 0.05, per-class NMS at IoU 0.3, top 100 — the matching scores below show that both sides",
            "compute the same detections. FastRcnn: the library's `Detector` (RoI deduplication on, channels-last trunk, the `fastrcnn`",
            "command's process settings) and its `StageTimes`; PyTorch 1.13: the same network in `torch.no_grad()` with `torchvision.ops.roi_pool`",
            "and `batched_nms`. Total: the wall time of the whole call. vgg16: 600×1000 (s = 600, max 1000); small: the Shapes backbone at",
            "400×600 (s = 400, max 666). Target: total ≤ 0.8× PyTorch's.",
            "",
        };
        lines.AddRange(StageTable(results));
        if (results.All(r => r.Peer is null)) lines.AddRange(["", BenchReport.PeerNotRun]);
        lines.AddRange(["", "Context: the paper's figures are for VGG16 with 2000 RoIs on one K40 GPU (SPEC §7, §10): 0.32 s per image; the percentages are " +
            "its forward-pass split (conv 46%, fc6 39%, fc7 6%, RoI pooling 5%)."]);
        BenchReport.WriteSection(path, "detect", lines);
        var svd = SvdTable(results);
        if (svd.Count == 0) return;
        var svdLines = new List<string>
        {
            "## Truncated SVD of fc6 and fc7 in detection (SPEC §7)",
            "",
            $"From the same `detect` run ({machine}): fc6 and fc7 factored by `FastRcnn.Compression.TruncatedSvd` (PyTorch: `torch.linalg.svd`, both",
            "in float64) and timed in the two-matmul form relu(x·(Σ_t V_tᵀ)ᵀ·U_tᵀ + b) on one image's pooled RoIs, as many times as the images",
            "above. \"Total with SVD\" is composed on both sides (the dense total with the fc6 and fc7 medians replaced by the factored",
            "ones); \"end to end\" is the library's compressed model (`ModelCompression.Compress`, factored layers in the box head) run",
            "through `Detector` on the same images. Milliseconds per image; the change of the total is the composed one.",
            "",
        };
        svdLines.AddRange(svd);
        if (results.All(r => r.Peer is null)) svdLines.AddRange(["", BenchReport.PeerNotRun]);
        svdLines.AddRange(["", "Context: the paper's figures (VGG16, K40 GPU, SPEC §7): 320 → 223 ms per image, fc6 122 → 37 ms, fc7 20 → 4 ms, VOC07 mAP 66.9 → 66.6."]);
        BenchReport.WriteSection(path, "svd", svdLines);
    }

    private static string Checksums(List<Result> results) => string.Join("; ", results.Select(r =>
        $"{r.Network} {(r.Ours is null ? "–" : r.Ours.Checksum.ToString("G9", CultureInfo.InvariantCulture))}" +
        (r.Peer is null ? "" : $" and {r.Peer.Checksum.ToString("G9", CultureInfo.InvariantCulture)}")));

    private static Options Parse(string[] args)
    {
        var networks = Networks.Select(n => n.Name).ToArray();
        int images = 0, warmup = -1, threads = Environment.ProcessorCount, proposals = 2000, rounds = 1;
        string? python = BenchReport.DefaultPython, write = null;
        (int, int)? svd = (1024, 256);
        bool child = false, svdGiven = false;
        var precision = Precision.Fp32;
        (int, int)? compressed = null;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Int() => int.Parse(Next(), CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--network": networks = [Next()]; break;
                case "--images": images = Int(); break;
                case "--warmup": warmup = Int(); break;
                case "--threads": threads = Int(); break;
                case "--proposals": proposals = Int(); break;
                case "--rounds": rounds = Math.Max(1, Int()); break;
                case "--svd":
                    var ranks = Next().Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();
                    svd = ranks.Length == 2 ? (ranks[0], ranks[1]) : throw new ArgumentException("--svd takes two ranks, e.g. 1024,256");
                    svdGiven = true;
                    break;
                case "--no-svd": svd = null; break;
                case "--precision": precision = Precisions.Parse(Next()); break;
                case "--compressed":
                    var c = Next().Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();
                    compressed = c.Length == 2 ? (c[0], c[1]) : throw new ArgumentException("--compressed takes two ranks, e.g. 1024,256");
                    break;
                case "--python": python = Next(); break;
                case "--no-peer": python = null; break;
                case "--write": write = Next(); break;
                case "--child": child = true; break;
                default:
                    throw new ArgumentException($"unknown option {args[i]} (detect [--network vgg16|small] [--images N] [--warmup N] [--threads N] " +
                                                "[--proposals N] [--rounds N] [--svd T6,T7 | --no-svd] [--python PATH | --no-peer] [--write FILE.md]; children also [--precision P] [--compressed T6,T7])");
            }
        }
        if (networks.Any(n => Networks.All(k => k.Name != n))) throw new ArgumentException($"unknown network; known: {string.Join(", ", Networks.Select(n => n.Name))}");
        // A child runs exactly what it is told: the parent resolves the per-network defaults.
        if (child && (images <= 0 || warmup < 0)) throw new ArgumentException("--child needs --images and --warmup");
        return new(networks, images, warmup, threads, proposals, python, child, write, child && !svdGiven ? null : svd, rounds, precision, compressed);
    }
}
