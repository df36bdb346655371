using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FastRcnn.Inference;
using FastRcnn.Modeling;
using FastRcnn.Modeling.Matching;
using FastRcnn.Modeling.Rpn;
using FastRcnn.Ops;
using FastRcnn.Runtime;
using FastRcnn.Training;
using static TorchSharp.torch;

namespace FastRcnn.Benchmarks;

/// <summary>
/// <c>faster</c>: Faster R-CNN side by side with torchvision 0.14's <c>FasterRCNN</c> (bench/peers/torchvision_faster_rcnn.py)
/// built with the same trunk (<c>small</c>, 256 channels at stride 16), anchors (<see cref="RpnOptions.ShapesSmall"/>:
/// 32–256 px × ratios 0.5, 1, 2), RPN settings, RoI max pooling (<c>torchvision.ops.RoIPool</c> 5×5), box head
/// (fc6 6400 → 512, fc7 512 → 512, dropout) and sampling, K = 8, random weights drawn identically on both sides:
/// the training iteration (N = 2 images of 400×600 with 5 ground-truth boxes each: <see cref="TwoStageModel.Loss"/>,
/// backward and <see cref="MomentumSgd"/>; torchvision: the four losses summed, backward, <c>torch.optim.SGD</c>) and
/// detection of one 400×600 image (test mode, the RPN's 300 proposals: <see cref="Detector.Detect(Tensor, Tensor?)"/>
/// against <c>model([x])</c>). Each side runs in its own process, so that its peak resident memory (VmHWM) is its own;
/// medians after warm-ups; <c>--rounds</c> alternates the sides so that a change in the machine's load falls on both.
/// <c>faster --stages</c> instead splits FastRcnn's training iteration into its parts (<see cref="TrainingStages"/>).
/// </summary>
public static class FasterRcnnBenchmark
{
    private const int NumClasses = 8;
    private const int Height = 400, Width = 600, ShortSide = 400, MaxSize = 666;

    private sealed record Options(int Iters, int Images, int Warmup, int Threads, int Rounds, string? Python, string? Write,
        string? ChildMode, bool Retain, bool Stages);

    /// <summary>One side's figures for one mode, merged over the rounds.</summary>
    private sealed class Side
    {
        public List<double> Samples { get; } = [];
        public List<double> Cpu { get; } = [];
        public Dictionary<string, List<double>> Stages { get; } = [];
        public List<int> Detections { get; } = [];
        public List<int> Proposals { get; } = [];
        public double PeakRssMib { get; private set; }
        public double Checksum { get; private set; }
        public string? Machine { get; private set; }
        public double FirstLoss { get; private set; } = double.NaN;

        public void Add(JsonElement json)
        {
            bool train = json.TryGetProperty("samples_s", out var seconds);
            Samples.AddRange((train ? seconds : json.GetProperty("samples_ms")).EnumerateArray().Select(e => e.GetDouble()));
            if (train) Cpu.Add(json.GetProperty("cpu_s_per_iteration").GetDouble());
            else Cpu.AddRange(json.GetProperty("cpu_ms").EnumerateArray().Select(e => e.GetDouble()));
            if (json.TryGetProperty("stages_ms", out var stages))
                foreach (var stage in stages.EnumerateObject())
                {
                    if (!Stages.TryGetValue(stage.Name, out var list)) Stages[stage.Name] = list = [];
                    list.AddRange(stage.Value.EnumerateArray().Select(e => e.GetDouble()));
                }
            if (json.TryGetProperty("detections", out var d)) Detections.AddRange(d.EnumerateArray().Select(e => e.GetInt32()));
            if (json.TryGetProperty("proposals", out var p)) Proposals.AddRange(p.EnumerateArray().Select(e => e.GetInt32()));
            if (json.TryGetProperty("losses", out var l) && double.IsNaN(FirstLoss)) FirstLoss = l.EnumerateArray().First().GetDouble();
            PeakRssMib = Math.Max(PeakRssMib, json.GetProperty("peak_rss_mib").GetDouble());
            Checksum = json.GetProperty("weights_checksum").GetDouble();
            if (json.TryGetProperty("machine", out _)) Machine = BenchReport.TorchPeer(json);
        }

        public double Median => BenchReport.Median(Samples);

        public double CpuMedian => BenchReport.Median(Cpu);

        /// <summary>The fastest sample: the least disturbed by other work on a shared machine.</summary>
        public double Fastest => Samples.Count == 0 ? double.NaN : Samples.Min();
    }

    public static int Run(string[] args)
    {
        var options = Parse(args);
        if (options.ChildMode is { } mode) return mode == "train" ? TrainChild(options) : DetectChild(options);
        if (options.Stages) return TrainingStages(options);
        string loadAtStart = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
        var (self, prefix) = BenchReport.SelfCommand();
        Side? ours = null, released = null, peer = null, oursDetect = null, peerDetect = null;
        for (int round = 1; round <= options.Rounds; round++)
        {
            Console.Error.WriteLine($"[faster] round {round}/{options.Rounds}: training, FastRcnn (freed memory retained, as fastrcnn train for small) ...");
            Merge(ref ours, BenchReport.RunJsonChild(self, [.. prefix, .. ChildArgs(options, "train", self: true), "--retain"]));
            Console.Error.WriteLine($"[faster] round {round}/{options.Rounds}: training, FastRcnn (freed memory released) ...");
            Merge(ref released, BenchReport.RunJsonChild(self, [.. prefix, .. ChildArgs(options, "train", self: true)]));
            if (options.Python is { } python)
            {
                Console.Error.WriteLine($"[faster] round {round}/{options.Rounds}: training, torchvision ...");
                Merge(ref peer, BenchReport.RunJsonChild(python, [BenchReport.PeerScript("torchvision_faster_rcnn.py"), .. ChildArgs(options, "train", self: false)]));
            }
            Console.Error.WriteLine($"[faster] round {round}/{options.Rounds}: detection, FastRcnn ...");
            Merge(ref oursDetect, BenchReport.RunJsonChild(self, [.. prefix, .. ChildArgs(options, "detect", self: true)]));
            if (options.Python is { } python2)
            {
                Console.Error.WriteLine($"[faster] round {round}/{options.Rounds}: detection, torchvision ...");
                Merge(ref peerDetect, BenchReport.RunJsonChild(python2, [BenchReport.PeerScript("torchvision_faster_rcnn.py"), .. ChildArgs(options, "detect", self: false)]));
            }
        }
        string machine = BenchReport.MachineLine(options.Threads).Replace(" at the end;", $" at the end ({loadAtStart} at the start);", StringComparison.Ordinal)
                         + (peer?.Machine ?? peerDetect?.Machine ?? "");
        var lines = Tables(ours, released, peer, oursDetect, peerDetect);
        Console.WriteLine(machine);
        foreach (var line in lines) Console.WriteLine(line);
        if (options.Write is { } path) WriteMarkdown(path, lines, machine, options, ours, peer, oursDetect, peerDetect);
        return 0;
    }

    private static void Merge(ref Side? side, JsonElement? json)
    {
        if (json is not { } j) return;
        (side ??= new Side()).Add(j);
    }

    private static string[] ChildArgs(Options o, string mode, bool self) =>
    [
        .. self ? new[] { "faster", "--child", mode } : ["--mode", mode],
        "--iters", (mode == "train" ? o.Iters : o.Images).ToString(CultureInfo.InvariantCulture),
        "--warmup", o.Warmup.ToString(CultureInfo.InvariantCulture), "--threads", o.Threads.ToString(CultureInfo.InvariantCulture),
    ];

    /// <summary>The benchmark's Faster R-CNN: the small backbone, <see cref="RpnOptions.ShapesSmall"/>, the default RoI sampling.</summary>
    private static TwoStageModel Model() => new("small", NumClasses, seed: 0,
        new TwoStageOptions { Architecture = DetectorArchitecture.FasterRcnn, Rpn = RpnOptions.ShapesSmall });

    private static double Checksum(TwoStageModel model) => model.parameters().Sum(p => p.sum(ScalarType.Float64).item<double>());

    /// <summary>Training iterations in this process; prints one JSON object like the peer's.</summary>
    private static int TrainChild(Options options)
    {
        CpuRuntime.UseTransparentHugePages();                // as the fastrcnn command: before libtorch allocates
        CpuRuntime.SetThreads(options.Threads);
        CpuRuntime.RetainFreedMemory(options.Retain);
        random.manual_seed(0);
        using var model = Model();
        double checksum = Checksum(model);
        model.train();
        using var optimizer = new MomentumSgd(model, learningRate: 0.001);
        var images = randn([2, 3, Height, Width], generator: manual_seed(0));
        var targets = Enumerable.Range(0, 2).Select(i => new ImageTargets(
            zeros(0, 4), Boxes(5, 10 + i), randint(0, NumClasses, [5], generator: manual_seed(20 + i)).Add(1))).ToList();
        var samples = new List<double>();
        var losses = new List<double>();
        double cpuStart = 0;
        for (int it = 0; it < options.Warmup + options.Iters; it++)
        {
            if (it == options.Warmup) cpuStart = CpuSeconds();
            var clock = Stopwatch.StartNew();
            using (var scope = NewDisposeScope())
            {
                using var output = model.Loss(images, targets);
                optimizer.ZeroGrad();
                output.Total().backward();
                optimizer.Step();
                losses.Add(output.Total().item<float>());
            }
            double seconds = clock.Elapsed.TotalSeconds;
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[faster] train iteration {it + 1}: {seconds:F3} s, loss {losses[^1]:F4}"));
            if (it >= options.Warmup) samples.Add(seconds);
        }
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            side = "fastrcnn",
            mode = "train",
            median_s = BenchReport.Median(samples),
            samples_s = samples,
            losses,
            cpu_s_per_iteration = (CpuSeconds() - cpuStart) / options.Iters,
            peak_rss_mib = BenchReport.PeakRssMib(),
            weights_checksum = checksum,
            retained = options.Retain,
        }));
        return 0;
    }

    /// <summary>Detection of one image at a time in this process (the fastrcnn command's settings); one JSON object.</summary>
    private static int DetectChild(Options options)
    {
        CpuRuntime.UseTransparentHugePages();
        CpuRuntime.SetThreads(options.Threads);
        CpuRuntime.RetainFreedMemory(true);                  // as the fastrcnn command
        var model = Model();
        double checksum = Checksum(model);
        using var detector = new Detector(model, Enumerable.Range(1, NumClasses).Select(k => $"class {k}").ToArray(),
            new DetectorOptions([ShortSide], MaxSize));
        string[] keys = ["proposals", "conv", "roi_pool", "fc6", "fc7", "outputs", "nms"];
        var stages = keys.ToDictionary(k => k, _ => new List<double>());
        var samples = new List<double>();
        var cpu = new List<double>();
        var detections = new List<int>();
        var proposals = new List<int>();
        for (int j = 0; j < options.Warmup + options.Iters; j++)
        {
            using var scope = NewDisposeScope();
            var rgb = rand([3, Height, Width], generator: manual_seed(100 + j)).Mul_(255);
            double c0 = CpuSeconds();
            var clock = Stopwatch.StartNew();
            var result = detector.Detect(rgb, null);
            double ms = clock.Elapsed.TotalMilliseconds;
            double c1 = CpuSeconds();
            var t = result.Times;
            double[] values = [.. new[] { t.Proposals, t.Conv, t.RoiPooling, t.Fc6, t.Fc7, t.Outputs, t.Nms }.Select(s => s.TotalMilliseconds)];
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[faster] detect image {j + 1}: {ms:F1} ms, {result.Objects.Count} detections, {result.ProposalCount} proposals, {string.Join(", ", keys.Select((k, i) => $"{k} {values[i]:F1}"))}"));
            if (j < options.Warmup) continue;
            samples.Add(ms);
            cpu.Add((c1 - c0) * 1e3);
            detections.Add(result.Objects.Count);
            proposals.Add(result.ProposalCount);
            for (int i = 0; i < keys.Length; i++) stages[keys[i]].Add(values[i]);
        }
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            side = "fastrcnn",
            mode = "detect",
            median_ms = BenchReport.Median(samples),
            samples_ms = samples,
            cpu_ms = cpu,
            stages_ms = stages,
            detections,
            proposals,
            peak_rss_mib = BenchReport.PeakRssMib(),
            weights_checksum = checksum,
        }));
        return 0;
    }

    /// <summary>
    /// <c>faster --stages</c>: FastRcnn's training iteration taken apart, in this process (nothing written): the whole
    /// iteration, its forward alone (<see cref="TwoStageModel.Loss"/>), and, without autograd, the trunk on the batch, the
    /// RPN head, the proposal layer per image (<see cref="ProposalLayer"/>: 11,400 anchors, 12000 → NMS 0.7 → 2000) and
    /// the anchor targets per image (<see cref="AnchorTargets"/>); medians in milliseconds over <c>--iters</c> after <c>--warmup</c>.
    /// </summary>
    private static int TrainingStages(Options options)
    {
        CpuRuntime.UseTransparentHugePages();
        CpuRuntime.SetThreads(options.Threads);
        CpuRuntime.RetainFreedMemory(true);
        random.manual_seed(0);
        using var model = Model();
        model.train();
        using var optimizer = new MomentumSgd(model, learningRate: 0.001);
        var rpn = model.Rpn!;
        var images = randn([2, 3, Height, Width], generator: manual_seed(0));
        var targets = Enumerable.Range(0, 2).Select(i => new ImageTargets(
            zeros(0, 4), Boxes(5, 10 + i), randint(0, NumClasses, [5], generator: manual_seed(20 + i)).Add(1))).ToList();
        var matcher = new Matcher(rpn.Options.MatcherOptions);
        using var sampler = new BalancedSampler(rpn.Options.SamplerOptions, seed: 2);
        var image = new RpnImage(Height, Width);
        var samples = new Dictionary<string, List<double>>();
        void Record(string key, double ms)
        {
            if (!samples.TryGetValue(key, out var list)) samples[key] = list = [];
            list.Add(ms);
        }
        for (int it = 0; it < options.Warmup + options.Iters; it++)
        {
            bool timed = it >= options.Warmup;
            var clock = Stopwatch.StartNew();
            using (var scope = NewDisposeScope())
            {
                using var output = model.Loss(images, targets);
                double forward = clock.Elapsed.TotalMilliseconds;
                optimizer.ZeroGrad();
                output.Total().backward();
                optimizer.Step();
                if (timed)
                {
                    Record("whole iteration (forward, backward, SGD step)", clock.Elapsed.TotalMilliseconds);
                    Record("forward with the four losses", forward);
                }
            }
            using (var scope = NewDisposeScope())
            using (no_grad())
            {
                clock.Restart();
                var features = model.Features(images);
                double trunk = clock.Elapsed.TotalMilliseconds;
                clock.Restart();
                var (objectness, deltas) = rpn.Head.forward(features);
                var flatObjectness = RpnHead.FlattenObjectness(objectness);
                var flatDeltas = RpnHead.FlattenDeltas(deltas);
                double head = clock.Elapsed.TotalMilliseconds;
                var anchors = rpn.Anchors.Anchors(features.shape[2], features.shape[3]);
                clock.Restart();
                for (int i = 0; i < 2; i++) ProposalLayer.Propose(anchors, flatObjectness[i], flatDeltas[i], image, rpn.Options.ProposalOptions(true));
                double proposals = clock.Elapsed.TotalMilliseconds;
                clock.Restart();
                for (int i = 0; i < 2; i++) AnchorTargets.Create(anchors, Height, Width, targets[i].GtBoxes, matcher, sampler, rpn.Options.AllowedBorder);
                double anchorTargets = clock.Elapsed.TotalMilliseconds;
                if (timed)
                {
                    Record("trunk, 2 images (no autograd)", trunk);
                    Record("RPN head, 2 images (no autograd)", head);
                    Record("proposal layer, 2 images (decode, top 12000, NMS 0.7, top 2000)", proposals);
                    Record("anchor targets, 2 images (match, sample, encode)", anchorTargets);
                }
            }
            Console.Error.WriteLine($"[faster] stages iteration {it + 1}");
        }
        Console.WriteLine(BenchReport.MachineLine(options.Threads));
        Console.WriteLine("| FastRcnn training, N = 2 | median ms |");
        Console.WriteLine("|---|---:|");
        foreach (var (key, values) in samples) Console.WriteLine($"| {key} | {F(BenchReport.Median(values), "F1")} |");
        return 0;
    }

    private static double CpuSeconds()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime.TotalSeconds;
    }

    /// <summary>The peer's ground-truth recipe: x1 ~ U[0,W), y1 ~ U[0,H), w ~ U[16, W/2), h ~ U[16, 2H/3), clipped at W−1, H−1.</summary>
    private static Tensor Boxes(int count, int seed)
    {
        using var scope = NewDisposeScope();
        var g = manual_seed(seed);
        var x1 = rand(count, generator: g).Mul(Width);
        var y1 = rand(count, generator: g).Mul(Height);
        var w = rand(count, generator: g).Mul(Width / 2f - 16).Add(16);
        var h = rand(count, generator: g).Mul(2f * Height / 3 - 16).Add(16);
        return stack([x1, y1, x1.Add(w).ClampMax(Width - 1), y1.Add(h).ClampMax(Height - 1)], 1).MoveToOuterDisposeScope();
    }

    private static string F(double v, string format) => double.IsNaN(v) ? "–" : v.ToString(format, CultureInfo.InvariantCulture);

    private static string Ratio(double v) => double.IsNaN(v) ? "–" : v.ToString("F2", CultureInfo.InvariantCulture) + "×";

    /// <summary>The training table, the detection table and the detection stages (markdown).</summary>
    private static List<string> Tables(Side? ours, Side? released, Side? peer, Side? oursDetect, Side? peerDetect)
    {
        double peerS = peer?.Median ?? double.NaN, peerFastest = peer?.Fastest ?? double.NaN, peerMem = peer?.PeakRssMib ?? double.NaN;
        var lines = new List<string>
        {
            "| training, N = 2 | s/it | it/s | CPU s/it | fastest s/it | peak MiB | it/s vs torchvision | fastest vs fastest | memory vs torchvision |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        };
        foreach (var (label, side) in new[] { ("**FastRcnn** (retained, as `fastrcnn train`)", ours), ("FastRcnn, freed memory released", released), ("torchvision 0.14 FasterRCNN", peer) })
        {
            if (side is null) continue;
            lines.Add($"| {label} | {F(side.Median, "F3")} | {F(1 / side.Median, "F2")} | {F(side.CpuMedian, "F2")} | {F(side.Fastest, "F3")} | {F(side.PeakRssMib, "F0")} | " +
                      $"{Ratio(peerS / side.Median)} | {Ratio(peerFastest / side.Fastest)} | {Ratio(side.PeakRssMib / peerMem)} |");
        }
        double peerMs = peerDetect?.Median ?? double.NaN, peerMsFastest = peerDetect?.Fastest ?? double.NaN;
        lines.AddRange(["", "| detection, one image | ms/image | CPU ms | fastest ms | peak MiB | proposals | detections | time vs torchvision | fastest vs fastest |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]);
        foreach (var (label, side) in new[] { ("**FastRcnn** `Detector`", oursDetect), ("torchvision 0.14 FasterRCNN", peerDetect) })
        {
            if (side is null) continue;
            lines.Add($"| {label} | {F(side.Median, "F1")} | {F(side.CpuMedian, "F0")} | {F(side.Fastest, "F1")} | {F(side.PeakRssMib, "F0")} | " +
                      $"{string.Join("/", side.Proposals.Distinct())} | {string.Join("/", side.Detections.Distinct())} | {Ratio(side.Median / peerMs)} | {Ratio(side.Fastest / peerMsFastest)} |");
        }
        if (oursDetect is { Stages.Count: > 0 })
        {
            lines.AddRange(["", "| FastRcnn detection stage (`StageTimes`) | median ms |", "|---|---:|"]);
            foreach (var (key, values) in oursDetect.Stages)
                lines.Add($"| {key} | {F(BenchReport.Median(values), "F1")} |");
        }
        return lines;
    }

    private static void WriteMarkdown(string path, List<string> tables, string machine, Options options, Side? ours, Side? peer, Side? oursDetect, Side? peerDetect)
    {
        string checksums = $"{F(ours?.Checksum ?? double.NaN, "G9")} and {F(peer?.Checksum ?? peerDetect?.Checksum ?? double.NaN, "G9")}";
        var lines = new List<string>
        {
            "## Faster R-CNN against torchvision 0.14 (small backbone, 400×600)",
            "",
            $"Measured {DateTime.UtcNow:yyyy-MM-dd} with `dotnet run --project bench/FastRcnn.Benchmarks -c Release -- faster --python /usr/bin/python3 --write {path}`",
            $"against `bench/peers/torchvision_faster_rcnn.py` in the same run: {machine}. {options.Rounds} round(s), each running",
            $"FastRcnn's processes, then torchvision's; per round {options.Iters} timed training iterations and {options.Images} timed images",
            $"after {options.Warmup} warm-ups each; medians over all rounds (\"fastest\": the least disturbed sample, for a shared machine). Peak = the process's resident high-water mark (VmHWM / ru_maxrss),",
            "the largest of the rounds. Random weights drawn identically on both sides (weights checksum " + checksums + ").",
            $"Training: N = 2 images N(0,1) of 400×600 with 5 random ground-truth boxes each (K = 8), first loss {F(ours?.FirstLoss ?? double.NaN, "F4")} (FastRcnn)",
            $"and {F(peer?.FirstLoss ?? double.NaN, "F4")} (torchvision); one iteration = forward with the four losses, backward, SGD step with momentum.",
            "Detection: one 255·U[0,1) RGB image of 400×600 at a time (s = 400, max 666: scale 1), test mode, the RPN's 300 proposals,",
            "score > 0.05, per-class NMS 0.3, top 100; the wall time of the whole call. Targets (issue 14): ≥ 1.3× torchvision's it/s at no",
            "more peak memory; ≤ 0.6× its detection time.",
            "",
        };
        lines.AddRange(tables);
        if (peer is null && peerDetect is null) lines.AddRange(["", BenchReport.PeerNotRun]);
        BenchReport.WriteSection(path, "faster", lines);
    }

    private static Options Parse(string[] args)
    {
        int iters = 8, images = 10, warmup = 2, threads = 2, rounds = 3;
        string? python = BenchReport.DefaultPython, write = null, childMode = null;
        bool retain = false, stagesOnly = false;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Int() => int.Parse(Next(), CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--iters": iters = Int(); break;
                case "--images": images = Int(); break;
                case "--warmup": warmup = Int(); break;
                case "--threads": threads = Int(); break;
                case "--rounds": rounds = Math.Max(1, Int()); break;
                case "--python": python = Next(); break;
                case "--no-peer": python = null; break;
                case "--write": write = Next(); break;
                case "--child":
                    childMode = Next();
                    if (childMode is not ("train" or "detect")) throw new ArgumentException($"--child takes train or detect, got {childMode}");
                    break;
                case "--retain": retain = true; break;
                case "--stages": stagesOnly = true; break;
                default:
                    throw new ArgumentException($"unknown option {args[i]} (faster [--iters N] [--images N] [--warmup N] [--threads N] [--rounds N] " +
                                                "[--python PATH | --no-peer] [--write FILE.md] | faster --stages [--iters N] [--warmup N] [--threads N])");
            }
        }
        if (iters < 1 || images < 1 || warmup < 0 || threads < 1) throw new ArgumentException("--iters, --images and --threads must be positive, --warmup non-negative");
        return new(iters, images, warmup, threads, rounds, python, write, childMode, retain, stagesOnly);
    }
}
