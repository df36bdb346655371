using System.Diagnostics;
using System.Text.Json;
using FastRcnn.Ops;
using FastRcnn.Runtime;
using static TorchSharp.torch;

namespace FastRcnn.Benchmarks;

/// <summary>
/// <c>ops</c>: times the core operators at Fast R-CNN's sizes and the same operators of the reference
/// peer (torchvision 0.14 through bench/peers/torchvision_ops.py) in one run, prints the table, and
/// optionally writes it into docs/benchmarks.md. Medians of <c>--repeats</c> calls after 2 warm-ups.
/// </summary>
public static class SideBySide
{
    private sealed record Options(int Repeats, int Threads, string? Python, string PeerScript, string? Write);

    public static int Run(string[] args)
    {
        var options = Parse(args);
        CpuRuntime.SetThreads(options.Threads);
        Console.WriteLine($"FastRcnn core operators, {options.Threads} threads, median of {options.Repeats} (after 2 warm-ups)");

        var rows = new List<Row>();
        // The glibc default allocator first (as any process starts), then with freed memory retained,
        // the setting the fastrcnn command and the trainer use.
        var plain = MeasureRoiPooling(options.Repeats);
        bool retained = CpuRuntime.RetainFreedMemory(true);
        var kept = retained ? MeasureRoiPooling(options.Repeats) : plain;
        var nms = MeasureBoxOps(options.Repeats, out int keptCount);

        var peer = RunPeer(options);
        double? Peer(string name, string field = "median_ms") =>
            peer is { } p && p.GetProperty("benchmarks").TryGetProperty(name, out var b) && b.TryGetProperty(field, out var v) ? v.GetDouble() : null;
        double? PeerMedianOf(string name, string field) =>
            peer is { } p && p.GetProperty("benchmarks").TryGetProperty(name, out var b) && b.TryGetProperty(field, out var v)
                ? BenchReport.Median(v.EnumerateArray().Select(e => e.GetDouble()).ToArray()) : null;

        rows.Add(new("RoI pooling forward, inference (2000 RoIs, 512×38×63 → 7×7)", kept.Inference, Peer("roi_pool_forward"), $"default allocator: {plain.Inference:F1} ms"));
        rows.Add(new("RoI pooling forward, training (keeps argmax)", kept.Forward, PeerMedianOf("roi_pool_backward", "forward_with_grad_samples_ms"), $"default allocator: {plain.Forward:F1} ms"));
        rows.Add(new("RoI pooling backward", kept.Backward, Peer("roi_pool_backward"), $"default allocator: {plain.Backward:F1} ms"));
        rows.Add(new("**RoI pooling forward + backward**", kept.Total, Peer("roi_pool_backward", "forward_backward_median_ms"), $"default allocator: {plain.Total:F1} ms; target ≥ 8×"));
        string keptNote = peer is null ? $"kept {keptCount}" : $"kept {keptCount} (torchvision: {Peer("nms", "kept")})";
        rows.Add(new("**NMS, 6000 boxes at IoU 0.7**", nms.Nms, Peer("nms"), keptNote + "; target ≥ 2×"));
        rows.Add(new("Pairwise IoU 2000 × 50", nms.Iou, Peer("box_iou"), ""));
        rows.Add(new("Box decode 2000 × 21 classes", nms.Decode, Peer("box_decode"), ""));

        string machine = MachineLine(options, peer);
        Print(rows, machine);
        if (options.Write is { } path) WriteMarkdown(path, rows, machine, options);
        return 0;
    }

    private sealed record Row(string Name, double Ours, double? Peer, string Note)
    {
        public string Ratio => Peer is { } p ? $"{p / Ours:F1}×" : "–";
    }

    private sealed record RoiTimes(double Inference, double Forward, double Backward, double Total);

    private static RoiTimes MeasureRoiPooling(int repeats)
    {
        using var scope = NewDisposeScope();
        var (features, rois) = Workloads.RoiPooling();
        var grad = Workloads.RoiPoolingGradient();
        double inference = BenchReport.Median(Sample(repeats, () =>
        {
            using var s = NewDisposeScope();
            using var noGrad = no_grad();
            RoiPool.Apply(features, rois, 7, 7, 1.0 / 16);
        }));
        var forward = new List<double>();
        var backward = new List<double>();
        var total = new List<double>();
        for (int i = 0; i < repeats + 2; i++)
        {
            using var s = NewDisposeScope();
            var x = features.detach().requires_grad_();
            var sw = Stopwatch.StartNew();
            var y = RoiPool.Apply(x, rois, 7, 7, 1.0 / 16);
            double f = sw.Elapsed.TotalMilliseconds;
            y.backward([grad]);
            double t = sw.Elapsed.TotalMilliseconds;
            if (i < 2) continue;
            forward.Add(f);
            backward.Add(t - f);
            total.Add(t);
        }
        return new(inference, BenchReport.Median([.. forward]), BenchReport.Median([.. backward]), BenchReport.Median([.. total]));
    }

    private sealed record BoxTimes(double Nms, double Iou, double Decode);

    private static BoxTimes MeasureBoxOps(int repeats, out int keptCount)
    {
        using var scope = NewDisposeScope();
        var (boxes, scores) = Workloads.Nms();
        int kept = 0;
        double nms = BenchReport.Median(Sample(repeats, () => { using var s = NewDisposeScope(); kept = (int)Nms.Greedy(boxes, scores, 0.7).numel(); }));
        keptCount = kept;
        var (a, b) = Workloads.PairwiseIoU();
        double iou = BenchReport.Median(Sample(repeats, () => { using var s = NewDisposeScope(); BoxOps.PairwiseIoU(a, b); }));
        var (proposals, deltas) = Workloads.Decode();
        double decode = BenchReport.Median(Sample(repeats, () => { using var s = NewDisposeScope(); BoxCoder.Unit.Decode(deltas, proposals); }));
        return new(nms, iou, decode);
    }

    private static double[] Sample(int repeats, Action action)
    {
        action();
        action();
        var samples = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            var sw = Stopwatch.StartNew();
            action();
            samples[i] = sw.Elapsed.TotalMilliseconds;
        }
        return samples;
    }


    private static JsonElement? RunPeer(Options options)
    {
        if (options.Python is null) return null;
        if (!File.Exists(options.PeerScript))
        {
            Console.Error.WriteLine($"peer script not found: {options.PeerScript}; peer column left empty");
            return null;
        }
        var start = new ProcessStartInfo(options.Python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            ArgumentList = { options.PeerScript, "--threads", options.Threads.ToString(), "--repeats", options.Repeats.ToString() },
        };
        Console.WriteLine($"running the peer: {options.Python} {options.PeerScript} ...");
        try
        {
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                Console.Error.WriteLine($"the peer failed (exit {process.ExitCode}); is python3-torchvision installed?\n{stderr.Result}");
                return null;
            }
            return JsonDocument.Parse(stdout.Result).RootElement.Clone();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Console.Error.WriteLine($"cannot start {options.Python}: {e.Message}; peer column left empty");
            return null;
        }
    }

    private static string MachineLine(Options options, JsonElement? peer) => BenchReport.MachineLine(options.Threads) + BenchReport.TorchPeer(peer);

    private static void Print(List<Row> rows, string machine)
    {
        Console.WriteLine(machine);
        Console.WriteLine($"{"operator",-62} {"FastRcnn ms",12} {"peer ms",10} {"peer/ours",10}  note");
        foreach (var r in rows)
            Console.WriteLine($"{r.Name.Replace("**", ""),-62} {r.Ours,12:F1} {(r.Peer is { } p ? p.ToString("F1") : "–"),10} {r.Ratio,10}  {r.Note}");
    }


    /// <summary>Replaces the marked operators section of the markdown file (creating it if needed).</summary>
    private static void WriteMarkdown(string path, List<Row> rows, string machine, Options options)
    {
        var lines = new List<string>
        {
            "## Core operators (issue: Foundation)",
            "",
            $"Measured {DateTime.UtcNow:yyyy-MM-dd} with `dotnet run --project bench/FastRcnn.Benchmarks -c Release -- ops --write docs/benchmarks.md`,",
            $"side by side with torchvision in the same run: {machine}. Median of {options.Repeats} calls after 2 warm-ups, milliseconds.",
            "",
            "| operator | FastRcnn | torchvision | speed-up | note |",
            "|---|---:|---:|---:|---|",
        };
        lines.AddRange(rows.Select(r => $"| {r.Name} | {r.Ours:F1} | {(r.Peer is { } p ? p.ToString("F1") : "–")} | {r.Ratio} | {r.Note} |"));
        if (rows.All(r => r.Peer is null)) lines.AddRange(["", BenchReport.PeerNotRun]);
        lines.AddRange(["", "Context, the paper on one K40 GPU (SPEC §10): RoI pooling is 5% of VGG16's test-time forward pass with 2000 RoIs."]);
        BenchReport.WriteSection(path, "ops", lines);
    }

    private static Options Parse(string[] args)
    {
        int repeats = 9, threads = Environment.ProcessorCount;
        string? python = BenchReport.DefaultPython;
        string script = BenchReport.PeerScript("torchvision_ops.py");
        string? write = null;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--repeats": repeats = int.Parse(Next()); break;
                case "--threads": threads = int.Parse(Next()); break;
                case "--python": python = Next(); break;
                case "--no-peer": python = null; break;
                case "--write": write = Next(); break;
                default: throw new ArgumentException($"unknown option {args[i]} (ops [--repeats N] [--threads N] [--python PATH | --no-peer] [--write FILE.md])");
            }
        }
        return new(repeats, threads, python, script, write);
    }
}
