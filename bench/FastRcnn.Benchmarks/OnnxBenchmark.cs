using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FastRcnn.Compression;
using FastRcnn.Export;
using FastRcnn.Inference;
using FastRcnn.Modeling;
using FastRcnn.Ops;
using FastRcnn.Runtime;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace FastRcnn.Benchmarks;

/// <summary>
/// <c>onnx</c>: the two inference engines side by side (docs/benchmarks-onnx.md). Per network (VGG16 at 600×1000 and
/// <c>small</c> at 400×600, random weights, K = 20, 2000 random proposals, <see cref="DetectBenchmark"/>'s images and
/// proposals): detection time per image, stage by stage, and peak resident memory of <see cref="Detector"/> with
/// <see cref="InferenceEngine.Torch"/>, with ONNX Runtime split (trunk and head sessions around this library's RoI
/// pooling) and whole (one session, ONNX <c>MaxRoiPool</c>), each in its own process; ONNX Runtime's
/// <c>MaxRoiPool</c> against the library's kernel on the same features and RoIs; a parity check of both engines
/// (scores, boxes, detections); export time and file size for VGG16 dense and SVD-factored (1024, 256).
/// </summary>
public static class OnnxBenchmark
{
    private const int NumClasses = 20;

    private sealed record Network(string Name, int Height, int Width, int ShortSide, int MaxSize, int Images, int Warmup);

    private static readonly Network[] Networks = [new("vgg16", 600, 1000, 600, 1000, 3, 1), new("small", 400, 600, 400, 666, 10, 2)];

    private static readonly string[] Engines = ["torch", "onnx-split", "onnx-whole"];

    private sealed record Options(string[] Networks, int Threads, int Proposals, string? Write, string? Child, string? Engine, bool SkipExport);

    public static int Run(string[] args)
    {
        var o = Parse(args);
        if (o.Child == "detect") return DetectChild(o);
        if (o.Child == "parity") return ParityChild(o);
        if (o.Child == "export") return ExportChild(o);
        var (self, prefix) = BenchReport.SelfCommand();
        string[] Common(string network) => ["--network", network, "--threads", o.Threads.ToString(CultureInfo.InvariantCulture), "--proposals", o.Proposals.ToString(CultureInfo.InvariantCulture)];
        var detect = new Dictionary<(string, string), JsonElement>();
        var parity = new Dictionary<string, JsonElement>();
        foreach (var network in o.Networks)
        {
            foreach (var engine in Engines)
            {
                Console.Error.WriteLine($"[onnx] {network}, {engine} ...");
                if (BenchReport.RunJsonChild(self, [.. prefix, "onnx", "--child", "detect", "--engine", engine, .. Common(network)]) is { } r) detect[(network, engine)] = r;
            }
            Console.Error.WriteLine($"[onnx] {network}, parity ...");
            if (BenchReport.RunJsonChild(self, [.. prefix, "onnx", "--child", "parity", .. Common(network)]) is { } p) parity[network] = p;
        }
        JsonElement? export = null;
        if (!o.SkipExport)
        {
            Console.Error.WriteLine("[onnx] vgg16 export, dense and SVD ...");
            export = BenchReport.RunJsonChild(self, [.. prefix, "onnx", "--child", "export", .. Common("vgg16")]);
        }
        string machine = BenchReport.MachineLine(o.Threads) + $"; ONNX Runtime {typeof(InferenceSession).Assembly.GetName().Version}";
        var lines = Report(o, detect, parity, export, machine);
        foreach (var line in lines) Console.WriteLine(line);
        if (o.Write is { } path) BenchReport.WriteSection(path, "onnx", lines);
        return detect.Count == o.Networks.Length * Engines.Length ? 0 : 1;
    }

    private static DetectorOptions DetectorSettings(Network network, string engine) => new DetectorOptions([network.ShortSide], network.MaxSize) with
    {
        Engine = engine == "torch" ? InferenceEngine.Torch : InferenceEngine.OnnxRuntime,
        OnnxArrangement = engine == "onnx-whole" ? OnnxArrangement.Whole : OnnxArrangement.Split,
    };

    private static void Setup(Options o)
    {
        CpuRuntime.UseTransparentHugePages();     // as the fastrcnn command
        CpuRuntime.SetThreads(o.Threads);
        CpuRuntime.RetainFreedMemory(true);
    }

    private static string[] ClassNames => Enumerable.Range(1, NumClasses).Select(k => $"class {k}").ToArray();

    /// <summary>One engine on one network: per-image stage times and total, peak RSS; for ONNX whole also ORT's MaxRoiPool against the library's.</summary>
    private static int DetectChild(Options o)
    {
        var network = Networks.First(n => n.Name == o.Networks[0]);
        Setup(o);
        var clock = Stopwatch.StartNew();
        using var detector = new Detector(new TwoStageModel(network.Name, NumClasses, seed: 0), ClassNames, DetectorSettings(network, o.Engine!));
        double loadS = clock.Elapsed.TotalSeconds;
        double loadedRss = CurrentRssMib();
        using var proposals = DetectBenchmark.Proposals(o.Proposals, 1, network.Height, network.Width);
        var stages = new[] { "conv", "roi_pool", "fc6", "fc7", "outputs", "nms", "total" };
        var samples = stages.ToDictionary(s => s, _ => new List<double>());
        var detections = new List<int>();
        Tensor? lastImage = null;
        for (int j = 0; j < network.Warmup + network.Images; j++)
        {
            lastImage?.Dispose();
            lastImage = rand([3, network.Height, network.Width], generator: manual_seed(100 + j)).Mul_(255);
            clock.Restart();
            var result = detector.Detect(lastImage, proposals);
            double total = clock.Elapsed.TotalMilliseconds;
            var t = result.Times;
            double[] ms = [.. new[] { t.Conv, t.RoiPooling, t.Fc6, t.Fc7, t.Outputs, t.Nms }.Select(s => s.TotalMilliseconds), total];
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[onnx] {network.Name} {o.Engine} image {j + 1}: {total:F0} ms ({string.Join(", ", stages.Select((s, i) => $"{s} {ms[i]:F0}"))}), {result.Objects.Count} detections"));
            if (j < network.Warmup) continue;
            for (int i = 0; i < stages.Length; i++) samples[stages[i]].Add(ms[i]);
            detections.Add(result.Objects.Count);
        }
        var json = new Dictionary<string, object>
        {
            ["network"] = network.Name,
            ["engine"] = o.Engine!,
            ["load_s"] = loadS,
            ["median_ms"] = samples.ToDictionary(kv => kv.Key, kv => BenchReport.Median(kv.Value)),
            ["detections"] = detections,
            ["loaded_rss_mib"] = loadedRss,
            ["peak_rss_mib"] = BenchReport.PeakRssMib(),
        };
        if (o.Engine == "onnx-whole") json["roi_pool_ms"] = RoiPoolComparison(detector.Model, network, lastImage!, proposals);
        lastImage?.Dispose();
        Console.WriteLine(JsonSerializer.Serialize(json));
        return 0;
    }

    /// <summary>Medians of 3 runs of ONNX Runtime's MaxRoiPool (a one-node session) and the library's kernel, on one image's features and deduplicated RoIs.</summary>
    private static Dictionary<string, double> RoiPoolComparison(TwoStageModel model, Network network, Tensor image, Tensor proposals)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var test = new ImageTransform([network.ShortSide], network.MaxSize, model.Pixels).Apply(image);
        var features = model.Features(test.Images).contiguous();
        var boxes = BoxOps.Clip(proposals, network.Height, network.Width).Mul(test.Levels[0].Factor);
        var rois = RoiDeduplication.Run(cat([zeros(boxes.shape[0], 1), boxes], 1), model.Spec.SpatialScale).Unique.contiguous();
        int p = model.Spec.PooledSize;
        using var session = new InferenceSession(OnnxExporter.MaxRoiPoolBytes(model.Spec.OutputChannels, p, p, model.Spec.SpatialScale));
        var ort = new List<double>();
        var ours = new List<double>();
        Tensor? a = null, b = null;
        for (int i = 0; i < 4; i++)
        {
            var clock = Stopwatch.StartNew();
            a = OnnxRuntimeEngine.Run(session, [("features", features), ("rois", rois)], ["pooled"])[0];
            double t1 = clock.Elapsed.TotalMilliseconds;
            clock.Restart();
            b = RoiPool.Pool(features, rois, p, p, model.Spec.SpatialScale, withArgmax: false).Output;
            double t2 = clock.Elapsed.TotalMilliseconds;
            if (i == 0) continue;
            ort.Add(t1);
            ours.Add(t2);
        }
        return new()
        {
            ["onnxruntime"] = BenchReport.Median(ort),
            ["fastrcnn"] = BenchReport.Median(ours),
            ["rois"] = rois.shape[0],
            ["max_abs_diff"] = a!.sub(b!).abs().max().item<float>(),
        };
    }

    /// <summary>Both engines on one image: scores and boxes of every RoI, and the detections after NMS.</summary>
    private static int ParityChild(Options o)
    {
        var network = Networks.First(n => n.Name == o.Networks[0]);
        Setup(o);
        var model = SharpModel(network.Name);
        var settings = new DetectorOptions([network.ShortSide], network.MaxSize);
        using var torchDetector = new Detector(model, ClassNames, settings);
        using var proposals = DetectBenchmark.Proposals(o.Proposals, 1, network.Height, network.Width);
        using var image = rand([3, network.Height, network.Width], generator: manual_seed(100)).Mul_(255);
        var json = new Dictionary<string, object> { ["network"] = network.Name };
        var expected = torchDetector.Detect(image, proposals);
        using var test = new ImageTransform(settings.EffectiveScales, settings.MaxSize, model.Pixels).Apply(image);
        using var reference = model.Predict(test, proposals);
        foreach (var arrangement in new[] { OnnxArrangement.Split, OnnxArrangement.Whole })
        {
            using var engine = new OnnxRuntimeEngine(model, ClassNames, settings with { OnnxArrangement = arrangement });
            using var onnx = engine.Predict(test, proposals, new PredictOptions(), new StageClock());
            using var onnxDetector = new Detector(SharpModel(network.Name), ClassNames, settings with { Engine = InferenceEngine.OnnxRuntime, OnnxArrangement = arrangement });
            var actual = onnxDetector.Detect(image, proposals);
            bool same = expected.Objects.Count == actual.Objects.Count
                && expected.Objects.Zip(actual.Objects).All(p => p.First.ClassIndex == p.Second.ClassIndex);
            double scoreDiff = same ? expected.Objects.Zip(actual.Objects).Select(p => Math.Abs(p.First.Score - p.Second.Score)).DefaultIfEmpty(0).Max() : double.NaN;
            double boxDiff = same ? expected.Objects.Zip(actual.Objects).Select(p => new[]
            {
                Math.Abs(p.First.Box.X1 - p.Second.Box.X1), Math.Abs(p.First.Box.Y1 - p.Second.Box.Y1),
                Math.Abs(p.First.Box.X2 - p.Second.Box.X2), Math.Abs(p.First.Box.Y2 - p.Second.Box.Y2),
            }.Max()).DefaultIfEmpty(0).Max() : double.NaN;
            json[arrangement.ToString().ToLowerInvariant()] = new Dictionary<string, object>
            {
                ["rois"] = reference.Probabilities.shape[0],
                ["max_score_diff_all_rois"] = reference.Probabilities.sub(onnx.Probabilities).abs().max().item<float>(),
                ["max_box_diff_all_rois_px"] = reference.Boxes.sub(onnx.Boxes).abs().max().item<float>(),
                ["detections_torch"] = expected.Objects.Count,
                ["detections_onnx"] = actual.Objects.Count,
                ["same_detections"] = same,
                ["max_score_diff_detections"] = scoreDiff,
                ["max_box_diff_detections_px"] = boxDiff,
            };
            Console.Error.WriteLine($"[onnx] parity {network.Name} {arrangement}: {JsonSerializer.Serialize(json[arrangement.ToString().ToLowerInvariant()])}");
        }
        Console.WriteLine(JsonSerializer.Serialize(json));
        return 0;
    }

    /// <summary>
    /// The random-weight model with sharper scores and boxes that move: random predictor weights give near-uniform
    /// scores and near-zero deltas, so cls_score's weights are scaled ×30 and bbox_pred's ×300. The same weights every call.
    /// </summary>
    private static TwoStageModel SharpModel(string network)
    {
        var model = new TwoStageModel(network, NumClasses, seed: 0);
        using var noGrad = no_grad();
        foreach (var (name, p) in model.named_parameters())
        {
            if (name == "predictor.cls_score.weight") p.Mul_(30.0);
            if (name == "predictor.bbox_pred.weight") p.Mul_(300.0);
        }
        return model;
    }

    /// <summary>VGG16 exported dense and SVD-factored (fc6 t = 1024, fc7 t = 256): export time and file size.</summary>
    private static int ExportChild(Options o)
    {
        Setup(o);
        string dir = Path.Combine(Path.GetTempPath(), "fastrcnn-onnx-bench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(dir);
        try
        {
            var json = new Dictionary<string, object>();
            using var model = new TwoStageModel("vgg16", NumClasses, seed: 0);
            var clock = Stopwatch.StartNew();
            var dense = OnnxExporter.Export(model, ClassNames, Path.Combine(dir, "dense.onnx"));
            json["dense"] = new Dictionary<string, object> { ["export_s"] = clock.Elapsed.TotalSeconds, ["bytes"] = dense.TotalBytes, ["external"] = dense.ExternalDataPath is not null };
            clock.Restart();
            var compressed = ModelCompression.Compress(model, new SvdCompressionOptions { Fc6 = LayerTruncation.ToRank(1024), Fc7 = LayerTruncation.ToRank(256) });
            double svdS = clock.Elapsed.TotalSeconds;
            clock.Restart();
            var svd = OnnxExporter.Export(compressed.Model, ClassNames, Path.Combine(dir, "svd.onnx"));
            json["svd"] = new Dictionary<string, object> { ["export_s"] = clock.Elapsed.TotalSeconds, ["factor_s"] = svdS, ["bytes"] = svd.TotalBytes, ["external"] = svd.ExternalDataPath is not null };
            clock.Restart();
            using (var session = new InferenceSession(svd.ModelPath)) json["svd_session_load_s"] = clock.Elapsed.TotalSeconds;
            compressed.Model.Dispose();
            Console.WriteLine(JsonSerializer.Serialize(json));
            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static double CurrentRssMib()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return line is null ? double.NaN : double.Parse(line.Split(':', StringSplitOptions.TrimEntries)[1].Split(' ')[0], CultureInfo.InvariantCulture) / 1024;
    }

    private static string F(double v, string format = "F0") => double.IsNaN(v) ? "–" : v.ToString(format, CultureInfo.InvariantCulture);

    private static List<string> Report(Options o, Dictionary<(string, string), JsonElement> detect, Dictionary<string, JsonElement> parity, JsonElement? export, string machine)
    {
        var lines = new List<string>
        {
            "## TorchSharp and ONNX Runtime, side by side",
            "",
            $"Measured {DateTime.UtcNow:yyyy-MM-dd} with `dotnet run --project bench/FastRcnn.Benchmarks -c Release -- onnx --write docs/benchmarks-onnx.md`:",
            $"{machine}. Random weights (seed 0), K = 20, random images (255·U[0,1)), the same {o.Proposals} random proposals on every image",
            "(`detect`'s recipe); vgg16 at 600×1000 (s = 600), small at 400×600 (s = 400). Each engine in its own process, medians of the",
            "timed images after a warm-up (vgg16 3 images, small 10). torch: `Detector` on TorchSharp; onnx-split: ONNX Runtime, trunk and",
            "head as two sessions with this library's RoI pooling between them (the engine's default); onnx-whole: the exported graph as",
            "one session, RoI pooling by ONNX Runtime's `MaxRoiPool`. For ONNX Runtime, \"conv\" is the trunk session (onnx-whole: the",
            "whole session) and \"fc6\" the head session (fc6, fc7, cls_score, bbox_pred, softmax); \"outputs\" is the library's box decoding.",
            "Peak memory: VmHWM of the process, which for the ONNX Runtime engine also holds the TorchSharp model the `Detector` keeps",
            "(and, at load, the in-memory export); \"after load\" is VmRSS before the first image.",
            "",
        };
        var stages = new[] { ("conv", "conv (trunk)"), ("roi_pool", "RoI pooling"), ("fc6", "fc6 (ONNX: the head session)"), ("fc7", "fc7"), ("outputs", "outputs + decode"), ("nms", "NMS"), ("total", "**total**") };
        var header = "| ms per image |" + string.Concat(o.Networks.SelectMany(n => Engines.Select(e => $" {n} {e} |")));
        lines.Add(header);
        lines.Add("|---|" + string.Concat(Enumerable.Repeat("---:|", o.Networks.Length * Engines.Length)));
        double Median(string n, string e, string key) => detect.TryGetValue((n, e), out var j) ? j.GetProperty("median_ms").GetProperty(key).GetDouble() : double.NaN;
        foreach (var (key, label) in stages)
            lines.Add($"| {label} |" + string.Concat(o.Networks.SelectMany(n => Engines.Select(e => key == "total" ? $" **{F(Median(n, e, key))}** |" : $" {F(Median(n, e, key))} |"))));
        double Value(string n, string e, string key) => detect.TryGetValue((n, e), out var j) ? j.GetProperty(key).GetDouble() : double.NaN;
        lines.Add("| total / torch |" + string.Concat(o.Networks.SelectMany(n => Engines.Select(e => $" {F(Median(n, e, "total") / Median(n, "torch", "total"), "F2")}× |"))));
        lines.Add("| peak resident memory (MiB) |" + string.Concat(o.Networks.SelectMany(n => Engines.Select(e => $" {F(Value(n, e, "peak_rss_mib"))} |"))));
        lines.Add("| resident after load (MiB) |" + string.Concat(o.Networks.SelectMany(n => Engines.Select(e => $" {F(Value(n, e, "loaded_rss_mib"))} |"))));
        lines.Add("| load (model + sessions), s |" + string.Concat(o.Networks.SelectMany(n => Engines.Select(e => $" {F(Value(n, e, "load_s"), "F1")} |"))));
        lines.Add("| detections per image |" + string.Concat(o.Networks.SelectMany(n => Engines.Select(e =>
            detect.TryGetValue((n, e), out var j) ? $" {string.Join("/", j.GetProperty("detections").EnumerateArray().Select(d => d.GetInt32()).Distinct())} |" : " – |"))));
        lines.Add("");
        lines.Add("RoI pooling alone, on one image's features and its deduplicated RoIs (median of 3 after a warm-up):");
        lines.Add("");
        lines.Add("| network | RoIs | ONNX Runtime MaxRoiPool, ms | FastRcnn RoI pooling, ms | ratio | max abs difference |");
        lines.Add("|---|---:|---:|---:|---:|---:|");
        foreach (var n in o.Networks)
        {
            if (!detect.TryGetValue((n, "onnx-whole"), out var j) || !j.TryGetProperty("roi_pool_ms", out var r)) continue;
            double ort = r.GetProperty("onnxruntime").GetDouble(), ours = r.GetProperty("fastrcnn").GetDouble();
            lines.Add($"| {n} | {r.GetProperty("rois").GetDouble():F0} | {F(ort, "F1")} | {F(ours, "F1")} | {F(ort / ours, "F1")}× | {r.GetProperty("max_abs_diff").GetDouble().ToString("G3", CultureInfo.InvariantCulture)} |");
        }
        lines.Add("");
        lines.Add("Parity on one image (predictor weights scaled ×30 and ×300 so that scores are sharp and deltas move boxes by pixels): all scored");
        lines.Add("RoIs of `TwoStageModel.Predict` against the ONNX Runtime engine, and the detections after NMS of the two `Detector`s:");
        lines.Add("");
        lines.Add("| network | arrangement | RoIs | max score diff, all RoIs | max box diff, all RoIs (px) | detections torch / ONNX | same detections | max score diff, detections | max box diff, detections (px) |");
        lines.Add("|---|---|---:|---:|---:|---:|---|---:|---:|");
        foreach (var (n, j) in parity)
            foreach (var a in new[] { "split", "whole" })
            {
                var r = j.GetProperty(a);
                string G(string k) => r.GetProperty(k).ValueKind == JsonValueKind.Number ? r.GetProperty(k).GetDouble().ToString("G3", CultureInfo.InvariantCulture) : "–";
                lines.Add($"| {n} | {a} | {r.GetProperty("rois").GetInt64()} | {G("max_score_diff_all_rois")} | {G("max_box_diff_all_rois_px")} | " +
                          $"{r.GetProperty("detections_torch").GetInt32()} / {r.GetProperty("detections_onnx").GetInt32()} | {(r.GetProperty("same_detections").GetBoolean() ? "yes" : "**no**")} | " +
                          $"{G("max_score_diff_detections")} | {G("max_box_diff_detections_px")} |");
            }
        if (export is { } x)
        {
            lines.Add("");
            lines.Add("Export of VGG16 (`OnnxExporter.Export`, K = 20, weights inline):");
            lines.Add("");
            lines.Add("| model | export, s | file size (MB) |");
            lines.Add("|---|---:|---:|");
            var d = x.GetProperty("dense");
            var s = x.GetProperty("svd");
            lines.Add($"| dense | {d.GetProperty("export_s").GetDouble():F1} | {d.GetProperty("bytes").GetDouble() / 1e6:F1} |");
            lines.Add($"| SVD fc6 t = 1024, fc7 t = 256 (factoring: {s.GetProperty("factor_s").GetDouble():F1} s) | {s.GetProperty("export_s").GetDouble():F1} | {s.GetProperty("bytes").GetDouble() / 1e6:F1} |");
            lines.Add("");
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"Loading the SVD file into an ONNX Runtime session: {x.GetProperty("svd_session_load_s").GetDouble():F1} s."));
        }
        return lines;
    }

    private static Options Parse(string[] args)
    {
        var networks = Networks.Select(n => n.Name).ToArray();
        int threads = Environment.ProcessorCount, proposals = 2000;
        string? write = null, child = null, engine = null;
        bool skipExport = false;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--network": networks = [Next()]; break;
                case "--threads": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--proposals": proposals = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--write": write = Next(); break;
                case "--child": child = Next(); break;
                case "--engine": engine = Next(); break;
                case "--no-export": skipExport = true; break;
                default:
                    throw new ArgumentException($"unknown option {args[i]} (onnx [--network vgg16|small] [--threads N] [--proposals N] [--no-export] [--write FILE.md])");
            }
        }
        if (networks.Any(n => Networks.All(k => k.Name != n))) throw new ArgumentException($"unknown network; known: {string.Join(", ", Networks.Select(n => n.Name))}");
        if (engine is not null && !Engines.Contains(engine)) throw new ArgumentException($"unknown engine {engine}; known: {string.Join(", ", Engines)}");
        return new(networks, threads, proposals, write, child, engine, skipExport);
    }
}
