using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FastRcnn.Modeling;
using FastRcnn.Ops;
using FastRcnn.Runtime;
using FastRcnn.Training;
using static TorchSharp.torch;

namespace FastRcnn.Benchmarks;

/// <summary>
/// <c>train</c>: the time and memory of one Fast R-CNN training iteration (N = 2 images, R = 128 RoIs:
/// RoI sampling, conv forward, RoI pooling, head, loss, backward, SGD step) for VGG16 at 600×1000 and the
/// small backbone at the Shapes scale (400×600): ours (<see cref="TwoStageModel.Loss"/> + the trainer's
/// <see cref="MomentumSgd"/>, glibc's allocator and huge pages as in <c>fastrcnn train</c>; then again with
/// freed memory retained) and PyTorch's (bench/peers/pytorch_train_step.py: the same network, inputs and update). Each side runs in its own process so that its peak resident memory (VmHWM, the
/// kernel's high-water mark) is its own; the median of <c>--iters</c> iterations after <c>--warmup</c>.
/// </summary>
public static class TrainStepBenchmark
{
    private const int NumClasses = 20;

    private sealed record Network(string Name, int Height, int Width);

    private static readonly Network[] Networks = [new("vgg16", 600, 1000), new("small", 400, 600)];

    private sealed record Options(string[] Networks, int Iters, int Warmup, int Threads, string? Python, bool Child, string? Write, bool Retain,
        Precision Precision = Precision.Fp32);

    internal sealed record Measurement(string Network, double MedianSeconds, double[] Samples, double PeakRssMib, double[] Losses, double CpuSecondsPerIteration, bool Retained = false);

    public static int Run(string[] args)
    {
        var options = Parse(args);
        if (options.Child) return Child(options);
        var rows = new List<(Measurement Ours, Measurement? Other, Measurement? Peer)>();
        foreach (var name in options.Networks)
        {
            int iters = options.Iters > 0 ? options.Iters : name == "vgg16" ? 5 : 20;
            var o = options with { Iters = iters };
            Console.Error.WriteLine($"[train] {name}: FastRcnn ...");
            var (self, prefix) = BenchReport.SelfCommand();
            var released = RunChild(self, [.. prefix, .. ChildArgs(o, name, self: true)]);
            Console.Error.WriteLine($"[train] {name}: FastRcnn, freed memory retained ...");
            var retained = RunChild(self, [.. prefix, .. ChildArgs(o, name, self: true), "--retain"]);
            // The trainer's default (fastrcnn train): retained for the small backbone, released for the large ones.
            var (ours, other) = name == "small" ? (retained, released) : (released, retained);
            Measurement? peer = null;
            if (options.Python is { } python)
            {
                Console.Error.WriteLine($"[train] {name}: PyTorch ...");
                peer = RunChild(python, [BenchReport.PeerScript("pytorch_train_step.py"), .. ChildArgs(o, name, self: false)]);
            }
            if (ours is not null) rows.Add((ours, other, peer));
        }
        string machine = BenchReport.MachineLine(options.Threads);
        Console.WriteLine(machine);
        Console.WriteLine($"{"network",-8} {"side",-22} {"s/it",8} {"it/s",8} {"CPU s/it",9} {"peak MiB",9} {"speed-up",9} {"memory",7}");
        foreach (var (ours, other, peer) in rows)
        {
            foreach (var (side, m) in new[] { ("FastRcnn" + Allocator(ours), ours), ("  other allocator" + Allocator(other), other), ("PyTorch", peer) })
            {
                if (m is null) continue;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{ours.Network,-8} {side,-22} {m.MedianSeconds,8:F3} {1 / m.MedianSeconds,8:F3} {m.CpuSecondsPerIteration,9:F2} {m.PeakRssMib,9:F0} {Peer(peer, p => p.MedianSeconds / m.MedianSeconds, "F2"),8}× {Peer(peer, p => m.PeakRssMib / p.PeakRssMib, "F2"),6}×"));
            }
        }
        if (options.Write is { } path) WriteMarkdown(path, rows, machine, options);
        return 0;
    }

    private static string Peer(Measurement? peer, Func<Measurement, double> value, string format) =>
        peer is null ? "–" : value(peer).ToString(format, CultureInfo.InvariantCulture);

    private static string[] ChildArgs(Options o, string network, bool self) =>
    [
        .. self ? new[] { "train", "--child" } : [],
        "--network", network, "--iters", o.Iters.ToString(CultureInfo.InvariantCulture),
        "--warmup", o.Warmup.ToString(CultureInfo.InvariantCulture), "--threads", o.Threads.ToString(CultureInfo.InvariantCulture),
    ];

    /// <summary>The measurement of one network in this process; prints one JSON object like the peer's.</summary>
    private static int Child(Options options)
    {
        var network = Networks.First(n => n.Name == options.Networks[0]);
        CpuRuntime.UseTransparentHugePages();                // as the fastrcnn command: before libtorch allocates
        CpuRuntime.SetThreads(options.Threads);
        CpuRuntime.RetainFreedMemory(options.Retain);        // the trainer's default: off
        random.manual_seed(0);
        using var model = new TwoStageModel(network.Name, NumClasses, seed: 0);
        model.BoxHead.ComputeType = options.Precision.ComputeType();   // as the trainer: mixed precision on float32 weights
        model.train();
        using var optimizer = new MomentumSgd(model, learningRate: 0.001);
        var images = randn([2, 3, network.Height, network.Width], generator: manual_seed(0));
        var targets = Enumerable.Range(0, 2).Select(i => new ImageTargets(
            Boxes(2000, 1 + i, network.Height, network.Width), Boxes(5, 10 + i, network.Height, network.Width),
            randint(0, NumClasses, [5], generator: manual_seed(20 + i)).Add(1))).ToList();
        var samples = new List<double>();
        var losses = new List<double>();
        double cpuStart = 0;
        for (int it = 0; it < options.Warmup + options.Iters; it++)
        {
            if (it == options.Warmup) cpuStart = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
            var clock = Stopwatch.StartNew();
            using (var scope = NewDisposeScope())
            {
                var output = model.Loss(images, targets);
                optimizer.ZeroGrad();
                output.Total().backward();
                optimizer.Step();
                losses.Add(output.Total().item<float>());
            }
            double seconds = clock.Elapsed.TotalSeconds;
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[train] {network.Name} iteration {it + 1}: {seconds:F3} s, loss {losses[^1]:F4}"));
            if (it >= options.Warmup) samples.Add(seconds);
        }
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            network = network.Name,
            median_s = BenchReport.Median(samples),
            samples_s = samples,
            losses,
            peak_rss_mib = BenchReport.PeakRssMib(),
            cpu_s_per_iteration = (Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds - cpuStart) / options.Iters,
            retained = options.Retain,
            precision = options.Precision.Resolve().Name(),
        }));
        return 0;
    }

    /// <summary>The peer script's box recipe: x1 ~ U[0,W), y1 ~ U[0,H), w ~ U[16, W/2), h ~ U[16, 2H/3), clipped at W−1, H−1.</summary>
    private static Tensor Boxes(int count, int seed, int height, int width)
    {
        var g = manual_seed(seed);
        var x1 = rand(count, generator: g).Mul(width);
        var y1 = rand(count, generator: g).Mul(height);
        var w = rand(count, generator: g).Mul(width / 2f - 16).Add(16);
        var h = rand(count, generator: g).Mul(2f * height / 3 - 16).Add(16);
        return stack([x1, y1, x1.Add(w).ClampMax(width - 1), y1.Add(h).ClampMax(height - 1)], 1);
    }

    internal static Measurement? RunChild(string program, IEnumerable<string> args)
    {
        if (BenchReport.RunJsonChild(program, args) is not { } json) return null;
        return new Measurement(json.GetProperty("network").GetString()!, json.GetProperty("median_s").GetDouble(),
            json.GetProperty("samples_s").EnumerateArray().Select(e => e.GetDouble()).ToArray(), json.GetProperty("peak_rss_mib").GetDouble(),
            json.GetProperty("losses").EnumerateArray().Select(e => e.GetDouble()).ToArray(),
            json.TryGetProperty("cpu_s_per_iteration", out var cpu) ? cpu.GetDouble() : double.NaN,
            json.TryGetProperty("retained", out var retained) && retained.GetBoolean());
    }

    private static string Allocator(Measurement? m) => m is null ? "" : m.Retained ? " (retained)" : " (released)";

    private static void WriteMarkdown(string path, List<(Measurement Ours, Measurement? Other, Measurement? Peer)> rows, string machine, Options options)
    {
        var lines = new List<string>
        {
            "## Training iteration (N = 2, R = 128: RoI sampling, forward, loss, backward, SGD step)",
            "",
            $"Measured {DateTime.UtcNow:yyyy-MM-dd} with `dotnet run --project bench/FastRcnn.Benchmarks -c Release -- train --write docs/benchmarks.md`",
            $"against `bench/peers/pytorch_train_step.py` in the same run: {machine}. Median seconds per iteration of the timed iterations",
            $"after {options.Warmup} warm-ups; CPU = user + system seconds per timed iteration; peak = the process's resident high-water mark",
            "(VmHWM / ru_maxrss). **FastRcnn** is the setting `fastrcnn train` uses (huge pages; freed memory retained for the small backbone,",
            "released to the system for VGG16), the next row the other allocator setting. Target: ≥ 1.2× PyTorch's it/s at no more peak memory.",
            "",
            "| network | side | s/it | it/s | CPU s/it | peak MiB | speed-up vs PyTorch | memory vs PyTorch |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        };
        foreach (var (ours, other, peer) in rows)
        {
            foreach (var (side, m) in new[] { ("**FastRcnn**" + Allocator(ours), ours), ("FastRcnn, other allocator" + Allocator(other), other), ("PyTorch 1.13", peer) })
            {
                if (m is null) continue;
                lines.Add(string.Create(CultureInfo.InvariantCulture,
                    $"| {ours.Network} | {side} | {m.MedianSeconds:F3} | {1 / m.MedianSeconds:F3} | {m.CpuSecondsPerIteration:F2} | {m.PeakRssMib:F0} | {Peer(peer, p => p.MedianSeconds / m.MedianSeconds, "F2")}× | {Peer(peer, p => m.PeakRssMib / p.PeakRssMib, "F2")}× |"));
            }
        }
        if (rows.All(r => r.Peer is null)) lines.AddRange(["", BenchReport.PeerNotRun]);
        lines.AddRange(["", "Context, the paper on one K40 GPU (SPEC §5, §10): VGG16 trains on VOC07 in 9.5 h for its 40k iterations " +
            "(30k at lr 0.001, 10k at 0.0001), about 0.86 s per iteration of 2 images."]);
        BenchReport.WriteSection(path, "train", lines);
    }

    private static Options Parse(string[] args)
    {
        var networks = Networks.Select(n => n.Name).ToArray();
        int iters = 0, warmup = 2, threads = 2;
        string? python = BenchReport.DefaultPython, write = null;
        bool child = false, retain = false;
        var precision = Precision.Fp32;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--network": networks = [Next()]; break;
                case "--iters": iters = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--warmup": warmup = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--python": python = Next(); break;
                case "--no-peer": python = null; break;
                case "--write": write = Next(); break;
                case "--child": child = true; break;
                case "--retain": retain = true; break;
                case "--precision": precision = Precisions.Parse(Next()); break;
                default: throw new ArgumentException($"unknown option {args[i]} (train [--network vgg16|small] [--iters N] [--warmup N] [--threads N] [--python PATH | --no-peer] [--precision fp32|bf16|auto] [--write FILE.md])");
            }
        }
        if (networks.Any(n => Networks.All(k => k.Name != n))) throw new ArgumentException($"unknown network; known: {string.Join(", ", Networks.Select(n => n.Name))}");
        return new(networks, iters, warmup, threads, python, child, write, retain, precision);
    }

}
