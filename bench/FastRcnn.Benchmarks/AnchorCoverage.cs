using System.Globalization;
using FastRcnn.Data;
using FastRcnn.Data.Transforms;
using FastRcnn.Modeling.Rpn;
using FastRcnn.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Benchmarks;

/// <summary>
/// <c>anchors</c>: how well candidate anchor sets for the <c>small</c> backbone cover the objects of a held-out Shapes
/// set (seed 1000, the pre-training set, disjoint from the demo's seed 0): each image scaled as training scales it
/// (shorter side 400, max 666), anchors at stride 16 inside the image (the ones the RPN trains on), and for every
/// ground-truth box the best IoU any anchor reaches. A box whose best anchor IoU is ≥ 0.7 gets a positive anchor by the
/// threshold; below, only as its best-matching (low-quality) anchor; below 0.5 the RPN must regress far. The report
/// gives the share of boxes at ≥ 0.5 and ≥ 0.7 by object size, and the anchors per cell (A, the head's cost).
/// <code>dotnet run --project bench/FastRcnn.Benchmarks -c Release -- anchors [--images 300] [--data DIR] [--write FILE]</code>
/// </summary>
public static class AnchorCoverage
{
    private static readonly (string Name, double[] Sizes)[] Candidates =
    [
        ("32-256 (4 sizes)", [32, 64, 128, 256]),
        ("16-256 (5 sizes)", [16, 32, 64, 128, 256]),
        ("24-192 (4 sizes)", [24, 48, 96, 192]),
        ("24-384 (5 sizes)", [24, 48, 96, 192, 384]),
        ("20-320 (5 sizes)", [20, 40, 80, 160, 320]),
        ("16-128 (4 sizes)", [16, 32, 64, 128]),
        ("32-128 (3 sizes)", [32, 64, 128]),
        ("64-256 (3 sizes)", [64, 128, 256]),
        ("128-512 (VGG16's)", [128, 256, 512]),
    ];

    public static int Run(string[] args)
    {
        int images = 300;
        string? data = null, write = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--images": images = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--data": data = args[++i]; break;
                case "--write": write = args[++i]; break;
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        }
        data ??= Path.Combine(Path.GetTempPath(), $"fastrcnn-anchors-shapes-1000-{images}");
        var shapes = new ShapesOptions { TrainImages = images, TestImages = 0, Seed = 1000, Overwrite = true };
        if (!ShapesGenerator.IsGenerated(data, shapes)) ShapesGenerator.Generate(data, shapes);
        var dataset = DatasetLoader.Load(data, "train");

        // Every ground-truth box (non-difficult), scaled as training scales the image; the scaled image sizes.
        var boxes = new List<(float[] Box, int H, int W)>();
        foreach (var image in dataset.Images)
        {
            double s = ImageScaling.ScaleFactor(image.Height, image.Width, 400, 666);
            var (h, w) = ImageScaling.ScaledSize(image.Height, image.Width, s);
            foreach (var o in image.Objects.Where(o => !o.Difficult && !o.Crowd))
                boxes.Add(([(float)(o.Box.X1 * s), (float)(o.Box.Y1 * s), (float)(o.Box.X2 * s), (float)(o.Box.Y2 * s)], h, w));
        }
        string[] bins = ["< 32 px", "32–64 px", "64–128 px", "≥ 128 px"];
        static int Bin(float[] b) => Math.Sqrt((b[2] - b[0]) * (b[3] - b[1])) switch { < 32 => 0, < 64 => 1, < 128 => 2, _ => 3 };
        var counts = new int[bins.Length];
        foreach (var (b, _, _) in boxes) counts[Bin(b)]++;

        var lines = new List<string>
        {
            $"Held-out Shapes (seed 1000, {dataset.Images.Count} images, {boxes.Count} non-difficult objects: " +
                string.Join(", ", bins.Select((n, k) => $"{n} {counts[k]}")) + "), scaled to s = 400 (max 666); anchors at stride 16, ratios 0.5/1/2, inside the image.",
            "",
            "| anchor sizes | A | best IoU ≥ 0.5 | ≥ 0.7 | " + string.Join(" | ", bins.Select(b => $"≥ 0.7, {b}")) + " |",
            "|---|---:|---:|---:|" + string.Concat(bins.Select(_ => "---:|")),
        };
        foreach (var (name, sizes) in Candidates)
        {
            using var generator = new AnchorGenerator(sizes, [0.5, 1, 2], 16);
            var best = new List<(double IoU, int Bin)>();
            foreach (var group in boxes.GroupBy(b => (b.H, b.W)))
            {
                using var scope = NewDisposeScope();
                long fh = (group.Key.H + 15) / 16, fw = (group.Key.W + 15) / 16;
                var anchors = generator.Anchors(fh, fw);
                using TorchSharp.Scalar width = group.Key.W.ToScalar(), height = group.Key.H.ToScalar();
                var inside = anchors[.., 0].ge(SafeScalars.Zero).logical_and(anchors[.., 1].ge(SafeScalars.Zero))
                    .logical_and(anchors[.., 2].le(width)).logical_and(anchors[.., 3].le(height));
                var kept = anchors.index_select(0, inside.nonzero().reshape(-1));
                var gt = tensor(group.SelectMany(g => g.Box).ToArray(), [group.Count(), 4]);
                var iou = kept.shape[0] == 0 ? zeros(gt.shape[0]) : BoxOps.PairwiseIoU(gt, kept).max(1).values;
                var values = iou.data<float>().ToArray();
                int k = 0;
                foreach (var g in group) best.Add((values[k++], Bin(g.Box)));
            }
            string Share(Func<(double IoU, int Bin), bool> where, double t)
            {
                var set = best.Where(where).ToList();
                return set.Count == 0 ? "–" : (set.Count(b => b.IoU >= t) / (double)set.Count).ToString("P1", CultureInfo.InvariantCulture);
            }
            lines.Add($"| {name} | {generator.AnchorsPerCell} | {Share(_ => true, 0.5)} | {Share(_ => true, 0.7)} | " +
                string.Join(" | ", bins.Select((_, k) => Share(b => b.Bin == k, 0.7))) + " |");
        }
        foreach (var line in lines) Console.WriteLine(line);
        if (write is not null) BenchReport.WriteSection(write, "Anchor coverage (small backbone, held-out Shapes)", lines);
        return 0;
    }
}
