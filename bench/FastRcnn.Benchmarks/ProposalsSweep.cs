using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FastRcnn.Data;
using FastRcnn.Proposals;

namespace FastRcnn.Benchmarks;

/// <summary>
/// <c>proposals-sweep</c>: recall per box budget of several <see cref="SelectiveSearchOptions"/> variants on
/// one image set, beside OpenCV's boxes (from <c>opencv_selective_search.py --boxes-out</c>) — how the
/// Fast-mode defaults were chosen. Images run in parallel, one thread each; times are wall-clock per image
/// over the whole set, so only their ratios mean something.
/// <code>
/// proposals-sweep (--dataset ROOT --split S | IMAGE... @LIST --gt GT.json) [--cv BOXES.json]
///                 --config "name:ks=50,100;minseg=k;minbox=20;dup=0.9;spaces=hsv,lab;sets=ctsf,tsf;sigma=0.8" ...
/// </code>
/// </summary>
public static class ProposalsSweep
{
    public static int Run(string[] args)
    {
        string? dataset = null, split = null, cvPath = null;
        var images = new List<string>();
        var gtFiles = new List<string>();
        var configs = new List<(string Name, SelectiveSearchOptions Options)>();
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--dataset": dataset = Next(); break;
                case "--split": split = Next(); break;
                case "--gt": gtFiles.Add(Next()); break;
                case "--cv": cvPath = Next(); break;
                case "--config": configs.Add(ParseConfig(Next())); break;
                case var a when a.StartsWith('@'):
                    images.AddRange(File.ReadLines(a[1..]).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')));
                    break;
                default: images.Add(args[i]); break;
            }
        }
        var ds = dataset is not null ? DatasetLoader.Load(dataset, split) : ProposalsData.DatasetFromImages(images, gtFiles);
        if (configs.Count == 0) configs.Add(("default", new SelectiveSearchOptions()));
        var decoded = ds.Images.AsParallel().AsOrdered().Select(r => ProposalsData.Decode(r.ImagePath)).ToArray();
        var cv = cvPath is null ? null : LoadBoxes(cvPath);
        Console.WriteLine($"{ds.Images.Count} images, {ds.Images.Sum(r => r.Objects.Count(o => !o.Difficult && !o.Crowd))} objects");
        if (cv is not null)
            Print("opencv", ds, r => cv[Path.GetFileName(r.ImagePath)], double.NaN, cv);

        foreach (var (name, options) in configs)
        {
            var ss = new SelectiveSearch(options with { Parallel = false });
            var results = new float[ds.Images.Count][];
            var sw = Stopwatch.StartNew();
            Parallel.For(0, ds.Images.Count, i =>
            {
                var (rgb, w, h) = decoded[i];
                var p = ss.Run(rgb, w, h);
                results[i] = p.Boxes[..(4 * p.Count)];
            });
            double ms = sw.Elapsed.TotalMilliseconds * Environment.ProcessorCount / ds.Images.Count;
            var byId = ds.Images.Select((r, i) => (r.Id, results[i])).ToDictionary(x => x.Id, x => x.Item2);
            Print(name, ds, r => byId[r.Id], ms, cv);
        }
        return 0;
    }

    private static void Print(string name, DetectionDataset ds, Func<ImageRecord, float[]> boxes, double ms, Dictionary<string, float[]>? cv)
    {
        var report = ProposalRecall.Evaluate(ds, boxes, [50, 100, 200, 300, 500, 1000, 2000]);
        string F(double v) => v.ToString("F3", CultureInfo.InvariantCulture);
        var line = $"{name,-28} {ms,6:F0} ms  boxes {report.All.MeanProposals,6:F0}  all {F(report.All.Recall50)}/{F(report.All.Recall70)}/{F(report.All.AverageRecall)}";
        foreach (var p in report.Points.SkipLast(1)) line += $"  @{p.Budget} {F(p.Recall50)}/{F(p.Recall70)}/{F(p.AverageRecall)}";
        if (cv is not null)
        {
            // Both truncated to the smaller of the two counts, image by image.
            var mine = new ProposalRecall([1]);
            var theirs = new ProposalRecall([1]);
            double used = 0;
            foreach (var r in ds.Images)
            {
                var a = boxes(r);
                var b = cv[Path.GetFileName(r.ImagePath)];
                int n = Math.Min(a.Length, b.Length);
                used += n / 4;
                mine.Add(r.Objects, a.AsSpan(0, n));
                theirs.Add(r.Objects, b.AsSpan(0, n));
            }
            var m = mine.Report("").All;
            var t = theirs.Report("").All;
            line += $"  | equal N (mean {used / ds.Images.Count:F0}): ours {F(m.Recall50)}/{F(m.Recall70)}/{F(m.AverageRecall)} cv {F(t.Recall50)}/{F(t.Recall70)}/{F(t.AverageRecall)}";
        }
        Console.WriteLine(line);
    }

    private static Dictionary<string, float[]> LoadBoxes(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.EnumerateObject().ToDictionary(
            e => e.Name, e => e.Value.EnumerateArray().SelectMany(b => b.EnumerateArray().Select(v => v.GetSingle())).ToArray());
    }

    private static (string, SelectiveSearchOptions) ParseConfig(string spec)
    {
        int colon = spec.IndexOf(':');
        string name = colon < 0 ? spec : spec[..colon];
        var o = new SelectiveSearchOptions();
        if (colon < 0) return (name, o);
        foreach (var part in spec[(colon + 1)..].Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = part.Split('=', 2);
            string v = kv[1];
            float[] Floats() => v.Split(',').Select(x => float.Parse(x, CultureInfo.InvariantCulture)).ToArray();
            o = kv[0] switch
            {
                "mode" => o with { Mode = Enum.Parse<SelectiveSearchMode>(v, true) },
                "ks" => o with { Ks = Floats() },
                "minseg" => o with { MinSegmentSize = v == "k" ? null : int.Parse(v, CultureInfo.InvariantCulture) },
                "minbox" => o with { MinBoxSize = int.Parse(v, CultureInfo.InvariantCulture) },
                "dup" => o with { DuplicateIoU = v == "none" ? null : float.Parse(v, CultureInfo.InvariantCulture) },
                "max" => o with { MaxBoxes = v == "none" ? null : int.Parse(v, CultureInfo.InvariantCulture) },
                "div" => o with { DiverseIoU = v == "none" ? null : float.Parse(v, CultureInfo.InvariantCulture) },
                "rank" => o with { Ranking = Enum.Parse<SelectiveSearchRanking>(v, true) },
                "sigma" => o with { Sigma = float.Parse(v, CultureInfo.InvariantCulture) },
                "resize" => o with { ResizeTo = int.Parse(v, CultureInfo.InvariantCulture) },
                "spaces" => o with { ColorSpaces = v.Split(',').Select(x => Enum.Parse<ColorSpace>(x, true)).ToArray() },
                "sets" => o with { SimilaritySets = v.Split(',').Select(ParseSet).ToArray() },
                _ => throw new ArgumentException($"unknown config key {kv[0]}"),
            };
        }
        return (name, o);
    }

    private static SimilarityTerms ParseSet(string s)
    {
        var t = SimilarityTerms.None;
        foreach (char c in s.ToLowerInvariant())
            t |= c switch
            {
                'c' => SimilarityTerms.Color,
                't' => SimilarityTerms.Texture,
                's' => SimilarityTerms.Size,
                'f' => SimilarityTerms.Fill,
                _ => throw new ArgumentException($"similarity set {s}: letters c, t, s, f"),
            };
        return t;
    }
}
