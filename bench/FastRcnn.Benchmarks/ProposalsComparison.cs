using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FastRcnn.Data;
using FastRcnn.Ops;
using FastRcnn.Proposals;

namespace FastRcnn.Benchmarks;

/// <summary>
/// <c>proposals IMAGE... [--gt GT.json]...</c> or <c>proposals --dataset DIR --split S</c> (a VOC or COCO
/// split; non-difficult, non-crowd objects): runs <see cref="SelectiveSearch"/> and OpenCV's selective
/// search (bench/peers/opencv_selective_search.py, same images, same thread count) in one run and prints
/// time per image (median of <c>--repeats</c> after a warm-up), boxes per image, recall at IoU 0.5 / 0.7 and
/// AR with all boxes and with both lists cut to the same count per image, and the time ratio. Images are
/// decoded here with SkiaSharp and by the peer with OpenCV, both at full size. <c>@FILE</c> reads image
/// paths from FILE (one per line, # comments). <c>--profile</c> adds a per-stage breakdown of the first
/// image; <c>--write FILE --section NAME</c> replaces the NAME section of a markdown file.
/// </summary>
public static class ProposalsComparison
{
    private sealed record Options(
        List<string> Images, List<string> GroundTruth, string? Dataset, string? Split, int Threads, int Repeats, SelectiveSearchMode Mode,
        int? MaxBoxes, int? MinBoxSize, string? Python, string PeerScript, bool Profile, string? Write, string Section, int? Limit);

    private sealed record ImageResult(ImageRecord Record, double Ms, ProposalSet Proposals);

    public static int Run(string[] args)
    {
        var o = Parse(args);
        Parallelism.Threads = o.Threads;
        var ds = o.Dataset is not null ? DatasetLoader.Load(o.Dataset, o.Split) : ProposalsData.DatasetFromImages(o.Images, o.GroundTruth);
        if (o.Limit is { } limit && ds.Images.Count > limit) ds = ds with { Images = ds.Images.Take(limit).ToList() };
        o = o with { Images = ds.Images.Select(r => r.ImagePath).ToList() };
        var options = new SelectiveSearchOptions { Mode = o.Mode, MaxBoxes = o.MaxBoxes };
        if (o.MinBoxSize is { } mbs) options = options with { MinBoxSize = mbs };
        var ss = new SelectiveSearch(options);
        Console.WriteLine($"selective search, {o.Mode} mode ({ss.Strategies.Count} strategies), {o.Threads} threads, median of {o.Repeats} after a warm-up, {ds.Images.Count} images");

        var ours = new List<ImageResult>();
        foreach (var record in ds.Images)
        {
            var (rgb, w, h) = ProposalsData.Decode(record.ImagePath);
            var result = ss.Run(rgb, w, h);
            var samples = new double[o.Repeats];
            for (int i = 0; i < o.Repeats; i++)
            {
                var sw = Stopwatch.StartNew();
                result = ss.Run(rgb, w, h);
                samples[i] = sw.Elapsed.TotalMilliseconds;
            }
            ours.Add(new ImageResult(record, BenchReport.Median(samples), result));
            if (o.Profile && ours.Count == 1) Profile(ss, rgb, w, h);
        }

        var peer = RunPeer(o, ds);
        var lines = new List<string>();
        bool perImage = ds.Images.Count <= 20;
        if (perImage)
        {
            lines.Add("| image | size | ours ms | OpenCV ms | OpenCV/ours | boxes ours | boxes OpenCV | R@0.5 ours | R@0.5 OpenCV | R@0.7 ours | R@0.7 OpenCV |");
            lines.Add("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        }
        var oursAll = new ProposalRecall([1]);
        var cvAll = new ProposalRecall([1]);
        var oursEq = new ProposalRecall([1]);
        var cvEq = new ProposalRecall([1]);
        var peerMs = new List<double>();
        double equalBoxes = 0;
        foreach (var r in ours)
        {
            var mine = r.Proposals.Boxes.AsSpan(0, 4 * r.Proposals.Count);
            oursAll.Add(r.Record.Objects, mine);
            var one = new ProposalRecall([1]);
            one.Add(r.Record.Objects, mine);
            var o1 = one.Report("").All;
            string name = Path.GetFileName(r.Record.ImagePath);
            PeerImage? p = peer?.Images.GetValueOrDefault(name);
            RecallPoint? c1 = null;
            if (p is not null)
            {
                peerMs.Add(p.Ms);
                cvAll.Add(r.Record.Objects, p.Boxes);
                int n = Math.Min(mine.Length, p.Boxes.Length);
                equalBoxes += n / 4;
                oursEq.Add(r.Record.Objects, mine[..n]);
                cvEq.Add(r.Record.Objects, p.Boxes.AsSpan(0, n));
                var c = new ProposalRecall([1]);
                c.Add(r.Record.Objects, p.Boxes);
                c1 = c.Report("").All;
            }
            if (!perImage) continue;
            string Rate(double v) => r.Record.Objects.Count(x => !x.Difficult && !x.Crowd) == 0 ? "–" : v.ToString("F2", CultureInfo.InvariantCulture);
            lines.Add($"| {name} | {r.Record.Width}×{r.Record.Height} | {r.Ms:F0} | {Opt(p?.Ms, "F0")} | {Opt(p?.Ms / r.Ms, "F1")}× | {r.Proposals.Count} | {Opt(p?.Boxes.Length / 4, "F0")} " +
                      $"| {Rate(o1.Recall50)} | {(c1 is null ? "–" : Rate(c1.Recall50))} | {Rate(o1.Recall70)} | {(c1 is null ? "–" : Rate(c1.Recall70))} |");
        }
        double oursMedian = BenchReport.Median(ours.Select(r => r.Ms).ToArray()), cvMedian = BenchReport.Median(peerMs.ToArray());
        var oa = oursAll.Report("").All;
        var ca = cvAll.Report("").All;
        var oe = oursEq.Report("").All;
        var ce = cvEq.Report("").All;
        int gt = oursAll.Report("").GtBoxes;
        string F3(double v) => v.ToString("F3", CultureInfo.InvariantCulture);
        var summary = new List<string>
        {
            $"| {ds.Images.Count} images, {gt} objects | ours | OpenCV |",
            "|---|---:|---:|",
            $"| time per image, median (ms) | **{oursMedian:F0}** | {(peer is null ? "–" : $"{cvMedian:F0}")} |",
            $"| OpenCV time / ours | **{(peer is null ? "–" : $"{cvMedian / oursMedian:F1}×")}** | |",
            $"| boxes per image, mean | {oa.MeanProposals:F0} | {(peer is null ? "–" : $"{ca.MeanProposals:F0}")} |",
            $"| recall@0.5, all boxes | {F3(oa.Recall50)} | {(peer is null ? "–" : F3(ca.Recall50))} |",
            $"| recall@0.7, all boxes | {F3(oa.Recall70)} | {(peer is null ? "–" : F3(ca.Recall70))} |",
            $"| AR 0.5:0.95, all boxes | {F3(oa.AverageRecall)} | {(peer is null ? "–" : F3(ca.AverageRecall))} |",
        };
        if (peer is not null)
        {
            summary.Add($"| equal box count: both cut to min(ours, OpenCV) per image, mean {equalBoxes / ours.Count:F0} | | |");
            summary.Add($"| recall@0.5, equal count | {F3(oe.Recall50)} | {F3(ce.Recall50)} |");
            summary.Add($"| recall@0.7, equal count | {F3(oe.Recall70)} | {F3(ce.Recall70)} |");
            summary.Add($"| AR 0.5:0.95, equal count | {F3(oe.AverageRecall)} | {F3(ce.AverageRecall)} |");
        }
        string machine = MachineLine(o, peer?.Version);
        Console.WriteLine(machine);
        foreach (var l in summary) Console.WriteLine(l);
        foreach (var l in lines) Console.WriteLine(l);
        if (o.Write is { } markdown) WriteMarkdown(markdown, summary, lines, machine, o, ds, peer is not null);
        return 0;
    }

    private static string Opt(double? v, string f) => v is { } x ? x.ToString(f, CultureInfo.InvariantCulture) : "–";

    private static void Profile(SelectiveSearch ss, byte[] rgb, int w, int h)
    {
        var o = ss.Options;
        double T(Action a, int reps = 3)
        {
            a();
            var s = new double[reps];
            for (int i = 0; i < reps; i++) { var sw = Stopwatch.StartNew(); a(); s[i] = sw.Elapsed.TotalMilliseconds; }
            return BenchReport.Median(s);
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

    private sealed record PeerImage(double Ms, float[] Boxes);

    private sealed record PeerResult(string Version, Dictionary<string, PeerImage> Images);

    /// <summary>Runs the OpenCV peer on the same images; boxes come back in its rank order (for recall at equal counts).</summary>
    private static PeerResult? RunPeer(Options o, DetectionDataset ds)
    {
        if (o.Python is null) return null;
        string boxesOut = Path.Combine(Path.GetTempPath(), $"ss-peer-boxes-{Environment.ProcessId}.json");
        var start = new ProcessStartInfo(o.Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(o.PeerScript);
        foreach (string image in o.Images) start.ArgumentList.Add(image);
        foreach (var (flag, value) in new[] { ("--threads", o.Threads.ToString()), ("--repeats", o.Repeats.ToString()),
                     ("--mode", o.Mode == SelectiveSearchMode.Quality ? "quality" : "fast"), ("--boxes-out", boxesOut) })
        {
            start.ArgumentList.Add(flag);
            start.ArgumentList.Add(value);
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
            var root = JsonDocument.Parse(stdout.Result).RootElement;
            using var boxesDoc = JsonDocument.Parse(File.ReadAllText(boxesOut));
            var images = new Dictionary<string, PeerImage>();
            foreach (var e in root.GetProperty("images").EnumerateArray())
            {
                string name = e.GetProperty("image").GetString()!;
                var boxes = boxesDoc.RootElement.GetProperty(name).EnumerateArray().SelectMany(b => b.EnumerateArray().Select(v => v.GetSingle())).ToArray();
                images[name] = new PeerImage(e.GetProperty("median_s").GetDouble() * 1000, boxes);
            }
            File.Delete(boxesOut);
            var info = root.GetProperty("peer");
            return new PeerResult($"OpenCV {info.GetProperty("opencv").GetString()} ximgproc, {info.GetProperty("mode").GetString()} mode", images);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Console.Error.WriteLine($"cannot start {o.Python}: {e.Message}; peer columns left empty");
            return null;
        }
    }

    private static string MachineLine(Options o, string? peer) => BenchReport.MachineLine(o.Threads) + (peer is null ? "" : $"; peer: {peer}");

    private static void WriteMarkdown(string path, List<string> summary, List<string> table, string machine, Options o, DetectionDataset ds, bool peerRan)
    {
        string what = o.Dataset is not null ? $"`{ds.Source}`, split `{ds.Split}` (non-difficult objects)" : $"{ds.Images.Count} images";
        var lines = new List<string>
        {
            $"Measured {DateTime.UtcNow:yyyy-MM-dd} on {what} with `dotnet run --project bench/FastRcnn.Benchmarks -c Release -- proposals ...` " +
            $"({o.Mode} mode; OpenCV: `switchToSelectiveSearch{(o.Mode == SelectiveSearchMode.Quality ? "Quality" : "Fast")}()`), same images, " +
            $"full size, {machine}. Time: median over images of each image's median of {o.Repeats} runs after a warm-up. Recall: fraction of " +
            "ground-truth boxes matched by some proposal at IoU ≥ t, pooled over the images; at equal count both lists are cut, image by image, " +
            "to the smaller of the two counts (best-ranked first).",
            "",
        };
        lines.AddRange(summary);
        if (table.Count > 0)
        {
            lines.Add("");
            lines.AddRange(table);
        }
        if (!peerRan) lines.AddRange(["", BenchReport.PeerNotRun]);
        lines.AddRange(["", "Context (SPEC §1, §9): selective search takes about 2 s per image on a CPU in the paper's setting; " +
            "OpenCV's implementation about 1–3 s per 500-px image in fast mode, serial."]);
        BenchReport.WriteSection(path, o.Section, lines);
    }


    private static Options Parse(string[] args)
    {
        var images = new List<string>();
        var gt = new List<string>();
        int threads = Environment.ProcessorCount, repeats = 3;
        string? dataset = null, split = null;
        string section = "proposals";
        var mode = SelectiveSearchMode.Fast;
        int? maxBoxes = null, minBox = null, limit = null;
        string? python = BenchReport.DefaultPython, write = null;
        string script = BenchReport.PeerScript("opencv_selective_search.py");
        bool profile = false;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--gt": gt.Add(Next()); break;
                case "--dataset": dataset = Next(); break;
                case "--split": split = Next(); break;
                case "--section": section = Next(); break;
                case "--threads": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--repeats": repeats = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--mode": mode = Enum.Parse<SelectiveSearchMode>(Next(), ignoreCase: true); break;
                case "--limit": limit = int.Parse(Next(), CultureInfo.InvariantCulture); break;
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
        if (images.Count == 0 && dataset is null)
            throw new ArgumentException("usage: proposals (IMAGE... [@LIST] [--gt GT.json]... | --dataset DIR [--split S]) [--threads N] [--repeats R] " +
                                        "[--limit N] [--mode fast|quality|single] [--no-peer] [--profile] [--write docs/benchmarks.md [--section NAME]]");
        return new Options(images, gt, dataset, split, threads, repeats, mode, maxBoxes, minBox, python, script, profile, write, section, limit);
    }
}
