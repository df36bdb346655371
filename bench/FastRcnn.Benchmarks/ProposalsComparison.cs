using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FastRcnn.Ops;
using FastRcnn.Proposals;

namespace FastRcnn.Benchmarks;

/// <summary>
/// <c>proposals IMAGE... [--gt GT.json]...</c>: runs <see cref="SelectiveSearch"/> and OpenCV's
/// selective search (bench/peers/opencv_selective_search.py, same images, same thread count) in one
/// run and prints time per image (median of <c>--repeats</c> after a warm-up), boxes per image and
/// recall at IoU 0.5 / 0.7 against the ground truth, with the time ratio. Images are decoded here with
/// SkiaSharp and by the peer with OpenCV, both at full size. <c>@FILE</c> reads image paths from FILE
/// (one per line, # comments). <c>--profile</c> adds a per-stage breakdown of the first image.
/// </summary>
public static class ProposalsComparison
{
    private sealed record Options(
        List<string> Images, List<string> GroundTruth, int Threads, int Repeats, SelectiveSearchMode Mode,
        int? MaxBoxes, int? MinBoxSize, string? Python, string PeerScript, bool Profile, string? Write);

    private sealed record ImageResult(string Name, int Width, int Height, double Ms, int Boxes, double[] Best, ProposalSet Proposals);

    public static int Run(string[] args)
    {
        var o = Parse(args);
        Parallelism.Threads = o.Threads;
        var gt = ProposalsData.LoadGroundTruth(o.GroundTruth);
        var options = new SelectiveSearchOptions { Mode = o.Mode, MaxBoxes = o.MaxBoxes };
        if (o.MinBoxSize is { } mbs) options = options with { MinBoxSize = mbs };
        var ss = new SelectiveSearch(options);
        Console.WriteLine($"selective search, {o.Mode} mode ({ss.Strategies.Count} strategies), {o.Threads} threads, median of {o.Repeats} after a warm-up");

        var ours = new List<ImageResult>();
        foreach (string path in o.Images)
        {
            var (rgb, w, h) = ProposalsData.Decode(path);
            string name = Path.GetFileName(path);
            var result = ss.Run(rgb, w, h);
            var samples = new double[o.Repeats];
            for (int i = 0; i < o.Repeats; i++)
            {
                var sw = Stopwatch.StartNew();
                result = ss.Run(rgb, w, h);
                samples[i] = sw.Elapsed.TotalMilliseconds;
            }
            var truth = gt.GetValueOrDefault(name) ?? [];
            ours.Add(new ImageResult(name, w, h, Median(samples), result.Count, ProposalsData.BestIoU(truth, result, result.Count), result));
            if (o.Profile && ours.Count == 1) Profile(ss, rgb, w, h);
        }

        var peer = RunPeer(o);
        var peerByName = new Dictionary<string, JsonElement>();
        if (peer is { } p)
            foreach (var e in p.GetProperty("images").EnumerateArray()) peerByName[e.GetProperty("image").GetString()!] = e;

        var lines = new List<string>
        {
            "| image | size | ours ms | OpenCV ms | OpenCV/ours | boxes ours | boxes OpenCV | R@0.5 ours | R@0.5 OpenCV | R@0.7 ours | R@0.7 OpenCV | R@0.5 / 0.7 ours, top-N(OpenCV) |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        };
        int gtTotal = 0, h5 = 0, h7 = 0, c5 = 0, c7 = 0, t5 = 0, t7 = 0;
        var peerMs = new List<double>();
        var peerBoxes = new List<int>();
        foreach (var r in ours)
        {
            var truth = gt.GetValueOrDefault(r.Name) ?? [];
            double? cvMs = null;
            int? cvBoxes = null;
            double? cv5 = null, cv7 = null;
            double[]? top = null;
            if (peerByName.TryGetValue(r.Name, out var e))
            {
                cvMs = e.GetProperty("median_s").GetDouble() * 1000;
                cvBoxes = e.GetProperty("boxes").GetInt32();
                peerMs.Add(cvMs.Value);
                peerBoxes.Add(cvBoxes.Value);
                if (e.TryGetProperty("recall", out var rec))
                {
                    cv5 = rec.GetProperty("0.5").GetDouble();
                    cv7 = rec.GetProperty("0.7").GetDouble();
                    c5 += (int)Math.Round(cv5.Value * truth.Count);
                    c7 += (int)Math.Round(cv7.Value * truth.Count);
                }
                top = ProposalsData.BestIoU(truth, r.Proposals, cvBoxes.Value);
            }
            int o5 = r.Best.Count(v => v >= 0.5), o7 = r.Best.Count(v => v >= 0.7);
            gtTotal += truth.Count;
            h5 += o5;
            h7 += o7;
            if (top is not null)
            {
                t5 += top.Count(v => v >= 0.5);
                t7 += top.Count(v => v >= 0.7);
            }
            string Rate(int hits) => truth.Count == 0 ? "–" : (hits / (double)truth.Count).ToString("F2", CultureInfo.InvariantCulture);
            string Opt(double? v, string f) => v is { } x ? x.ToString(f, CultureInfo.InvariantCulture) : "–";
            lines.Add($"| {r.Name} | {r.Width}×{r.Height} | {r.Ms:F0} | {Opt(cvMs, "F0")} | {Opt(cvMs / r.Ms, "F1")}× | {r.Boxes} | {Opt(cvBoxes, "F0")} " +
                      $"| {Rate(o5)} | {Opt(cv5, "F2")} | {Rate(o7)} | {Opt(cv7, "F2")} " +
                      $"| {(top is null ? "–" : $"{Rate(top.Count(v => v >= 0.5))} / {Rate(top.Count(v => v >= 0.7))}")} |");
        }
        double oursMedian = Median(ours.Select(r => r.Ms).ToArray());
        string Pooled(int hits) => gtTotal == 0 ? "–" : (hits / (double)gtTotal).ToString("F3", CultureInfo.InvariantCulture);
        string summary = $"| **all ({ours.Count} images, {gtTotal} objects)** | | **{oursMedian:F0}** (median) | " +
                         (peerMs.Count > 0 ? $"**{Median(peerMs.ToArray()):F0}** | **{Median(peerMs.ToArray()) / oursMedian:F1}×** | " : "– | – | ") +
                         $"{ours.Average(r => r.Boxes):F0} (mean) | {(peerBoxes.Count > 0 ? peerBoxes.Average().ToString("F0", CultureInfo.InvariantCulture) : "–")} | " +
                         $"{Pooled(h5)} | {(peerMs.Count > 0 ? Pooled(c5) : "–")} | {Pooled(h7)} | {(peerMs.Count > 0 ? Pooled(c7) : "–")} | " +
                         $"{(peerMs.Count > 0 ? $"{Pooled(t5)} / {Pooled(t7)}" : "–")} |";
        lines.Add(summary);
        string machine = MachineLine(o, peer);
        Console.WriteLine(machine);
        foreach (var l in lines) Console.WriteLine(l);
        if (o.Write is { } markdown) WriteMarkdown(markdown, lines, machine, o);
        return 0;
    }

    private static void Profile(SelectiveSearch ss, byte[] rgb, int w, int h)
    {
        var o = ss.Options;
        double T(Action a, int reps = 3)
        {
            a();
            var s = new double[reps];
            for (int i = 0; i < reps; i++) { var sw = Stopwatch.StartNew(); a(); s[i] = sw.Elapsed.TotalMilliseconds; }
            return Median(s);
        }
        Console.WriteLine($"profile of the first image ({w}×{h}), one thread per stage, ms:");
        foreach (var space in o.EffectiveColorSpaces)
        {
            PlanarImage image = null!;
            Console.Write($"  {space}: convert {T(() => image = ColorSpaces.Convert(rgb, w, h, space)):F1}");
            GraphSegmentation.SortedGraph graph = null!;
            Console.Write($", graph+sort {T(() => graph = GraphSegmentation.BuildGraph(image, o.Sigma)):F1}");
            PixelFeatures px = null!;
            Console.WriteLine($", pixel codes {T(() => px = PixelFeatures.Compute(image)):F1}");
            foreach (float k in o.EffectiveKs)
            {
                Segmentation seg = null!;
                RegionFeatures f = null!;
                RegionAdjacency adj = null!;
                int minSize = o.MinSegmentSize ?? (int)k;
                Console.Write($"    k={k}: segment {T(() => seg = GraphSegmentation.Segment(graph, k, minSize)):F1} ({seg.RegionCount} regions)");
                Console.Write($", features {T(() => f = RegionFeatures.Compute(seg, px)):F1}, adjacency {T(() => adj = RegionAdjacency.FromLabels(seg)):F1}");
                foreach (var set in o.EffectiveSimilaritySets)
                    Console.Write($", group[{set}] {T(() => HierarchicalGrouping.Run(f, adj, set)):F1}");
                Console.WriteLine();
            }
        }
        Console.WriteLine($"  total Run {T(() => ss.Run(rgb, w, h)):F1} ms");
    }

    private static JsonElement? RunPeer(Options o)
    {
        if (o.Python is null) return null;
        var start = new ProcessStartInfo(o.Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(o.PeerScript);
        foreach (string image in o.Images) start.ArgumentList.Add(image);
        foreach (var (flag, value) in new[] { ("--threads", o.Threads.ToString()), ("--repeats", o.Repeats.ToString()),
                     ("--mode", o.Mode == SelectiveSearchMode.Quality ? "quality" : "fast") })
        {
            start.ArgumentList.Add(flag);
            start.ArgumentList.Add(value);
        }
        if (o.GroundTruth.Count > 0)
        {
            string merged = Path.Combine(Path.GetTempPath(), $"ss-gt-{Environment.ProcessId}.json");
            File.WriteAllText(merged, JsonSerializer.Serialize(ProposalsData.LoadGroundTruth(o.GroundTruth)));
            start.ArgumentList.Add("--gt");
            start.ArgumentList.Add(merged);
        }
        try
        {
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                Console.Error.WriteLine($"the peer failed (exit {process.ExitCode}); is python3-opencv installed?\n{stderr.Result}");
                return null;
            }
            return JsonDocument.Parse(stdout.Result).RootElement.Clone();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Console.Error.WriteLine($"cannot start {o.Python}: {e.Message}; peer columns left empty");
            return null;
        }
    }

    private static string MachineLine(Options o, JsonElement? peer)
    {
        string cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim() ?? "?"
            : "?";
        string line = $"{cpu}, {Environment.ProcessorCount} logical CPUs, {o.Threads} threads; .NET {Environment.Version}";
        if (peer is { } p) line += $"; peer: OpenCV {p.GetProperty("peer").GetProperty("opencv").GetString()} ximgproc, {p.GetProperty("peer").GetProperty("mode").GetString()} mode";
        return line;
    }

    private const string Begin = "<!-- proposals:begin -->", End = "<!-- proposals:end -->";

    private static void WriteMarkdown(string path, List<string> table, string machine, Options o)
    {
        var lines = new List<string>
        {
            Begin,
            "## Selective search (proposals) vs OpenCV ximgproc",
            "",
            $"Measured {DateTime.UtcNow:yyyy-MM-dd} with `dotnet run --project bench/FastRcnn.Benchmarks -c Release -- proposals ...` " +
            $"({o.Mode} mode; OpenCV: `switchToSelectiveSearch{(o.Mode == SelectiveSearchMode.Quality ? "Quality" : "Fast")}()`), same images, " +
            $"full size, {machine}. Median of {o.Repeats} runs after a warm-up. Recall: fraction of ground-truth boxes matched by some proposal at IoU ≥ t; " +
            "the last column restricts ours to the best-ranked N boxes, N = OpenCV's count for that image.",
            "",
        };
        lines.AddRange(table);
        lines.Add(End);
        string existing = File.Exists(path) ? File.ReadAllText(path) : "# Benchmarks\n";
        int b = existing.IndexOf(Begin, StringComparison.Ordinal), e = existing.IndexOf(End, StringComparison.Ordinal);
        string updated = b >= 0 && e > b
            ? existing[..b] + string.Join("\n", lines) + existing[(e + End.Length)..]
            : existing.TrimEnd() + "\n\n" + string.Join("\n", lines) + "\n";
        File.WriteAllText(path, updated);
        Console.WriteLine($"wrote {path}");
    }

    private static double Median(double[] samples)
    {
        if (samples.Length == 0) return double.NaN;
        var s = samples.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    private static Options Parse(string[] args)
    {
        var images = new List<string>();
        var gt = new List<string>();
        int threads = Environment.ProcessorCount, repeats = 3;
        var mode = SelectiveSearchMode.Fast;
        int? maxBoxes = null, minBox = null;
        string? python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : null, write = null;
        string script = Path.Combine(RepoRoot(), "bench", "peers", "opencv_selective_search.py");
        bool profile = false;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--gt": gt.Add(Next()); break;
                case "--threads": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--repeats": repeats = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--mode": mode = Enum.Parse<SelectiveSearchMode>(Next(), ignoreCase: true); break;
                case "--max-boxes": maxBoxes = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--min-box-size": minBox = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--python": python = Next(); break;
                case "--no-peer": python = null; break;
                case "--profile": profile = true; break;
                case "--write": write = Next(); break;
                case var a when a.StartsWith('@'):
                    images.AddRange(File.ReadLines(a[1..]).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')));
                    break;
                case var a when a.StartsWith("--"): throw new ArgumentException($"unknown option {a}");
                default: images.Add(args[i]); break;
            }
        }
        if (images.Count == 0) throw new ArgumentException("usage: proposals IMAGE... [@LIST] [--gt GT.json]... [--threads N] [--repeats R] [--mode fast|quality|single] [--no-peer] [--profile] [--write docs/benchmarks.md]");
        return new Options(images, gt, threads, repeats, mode, maxBoxes, minBox, python, script, profile, write);
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "FastRcnn.sln"))) return dir.FullName;
        return Directory.GetCurrentDirectory();
    }
}
