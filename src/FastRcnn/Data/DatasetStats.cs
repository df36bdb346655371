namespace FastRcnn.Data;

/// <summary>Counts of one class.</summary>
/// <param name="ClassIndex">1..K.</param>
/// <param name="Name">The class name.</param>
/// <param name="Objects">Objects of the class (difficult and crowd included).</param>
/// <param name="Images">Images holding at least one object of the class.</param>
/// <param name="Difficult">Objects flagged difficult.</param>
/// <param name="Crowd">Crowd (ignore) regions.</param>
/// <param name="Truncated">Objects flagged truncated.</param>
public sealed record ClassStats(int ClassIndex, string Name, int Objects, int Images, int Difficult, int Crowd, int Truncated);

/// <summary>A histogram: Counts[i] of values in [Edges[i], Edges[i+1]) (the last bin is open-ended).</summary>
/// <param name="Edges">Lower bin edges, ascending, Edges[0] = 0.</param>
/// <param name="Labels">One display label per bin.</param>
/// <param name="Counts">One count per bin.</param>
public sealed record Histogram(IReadOnlyList<double> Edges, IReadOnlyList<string> Labels, IReadOnlyList<int> Counts)
{
    internal static Histogram Of(IEnumerable<double> values, double[] edges, string[] labels)
    {
        var counts = new int[edges.Length];
        foreach (var v in values)
        {
            int bin = Array.FindLastIndex(edges, e => v >= e);
            counts[Math.Max(bin, 0)]++;
        }
        return new Histogram(edges, labels, counts);
    }
}

/// <summary>
/// Summary statistics of a dataset split. Box size s = √(w·h) in pixels; aspect ratio a = w / h.
/// </summary>
/// <param name="Dataset">The split described.</param>
/// <param name="Images">Number of images.</param>
/// <param name="ImagesWithoutObjects">Images with no objects.</param>
/// <param name="Objects">Number of objects (all flags).</param>
/// <param name="Classes">Per-class counts, index order 1..K.</param>
/// <param name="BoxSize">Histogram of s over all objects.</param>
/// <param name="AspectRatio">Histogram of a over all objects.</param>
/// <param name="MinImageSize">Smallest (W, H) seen, component-wise.</param>
/// <param name="MaxImageSize">Largest (W, H) seen, component-wise.</param>
public sealed record DatasetStats(
    DetectionDataset Dataset,
    int Images,
    int ImagesWithoutObjects,
    int Objects,
    IReadOnlyList<ClassStats> Classes,
    Histogram BoxSize,
    Histogram AspectRatio,
    (int Width, int Height) MinImageSize,
    (int Width, int Height) MaxImageSize)
{
    private static readonly double[] SizeEdges = [0, 8, 16, 32, 64, 128, 256, 512];
    private static readonly string[] SizeLabels = ["<8", "8–16", "16–32", "32–64", "64–128", "128–256", "256–512", "≥512"];
    private static readonly double[] AspectEdges = [0, 1 / 3.0, 1 / 2.0, 2 / 3.0, 3 / 2.0, 2, 3];
    private static readonly string[] AspectLabels = ["<1/3", "1/3–1/2", "1/2–2/3", "2/3–3/2", "3/2–2", "2–3", "≥3"];

    /// <summary>Computes the statistics of <paramref name="ds"/>.</summary>
    public static DatasetStats Compute(DetectionDataset ds)
    {
        int k = ds.NumClasses;
        var objects = new int[k + 1];
        var images = new int[k + 1];
        var difficult = new int[k + 1];
        var crowd = new int[k + 1];
        var truncated = new int[k + 1];
        var seen = new bool[k + 1];
        foreach (var img in ds.Images)
        {
            Array.Clear(seen);
            foreach (var o in img.Objects)
            {
                objects[o.ClassIndex]++;
                if (o.Difficult) { difficult[o.ClassIndex]++; }
                if (o.Crowd) { crowd[o.ClassIndex]++; }
                if (o.Truncated) { truncated[o.ClassIndex]++; }
                if (!seen[o.ClassIndex]) { seen[o.ClassIndex] = true; images[o.ClassIndex]++; }
            }
        }
        var classes = Enumerable.Range(1, k)
            .Select(c => new ClassStats(c, ds.ClassNames[c], objects[c], images[c], difficult[c], crowd[c], truncated[c]))
            .ToArray();
        var boxes = ds.Images.SelectMany(i => i.Objects).Select(o => o.Box).ToList();
        var size = Histogram.Of(boxes.Select(b => Math.Sqrt(b.Area)), SizeEdges, SizeLabels);
        var aspect = Histogram.Of(boxes.Select(b => (double)b.Width / b.Height), AspectEdges, AspectLabels);
        var min = ds.Images.Count == 0 ? (0, 0) : (ds.Images.Min(i => i.Width), ds.Images.Min(i => i.Height));
        var max = ds.Images.Count == 0 ? (0, 0) : (ds.Images.Max(i => i.Width), ds.Images.Max(i => i.Height));
        return new DatasetStats(ds, ds.Images.Count, ds.Images.Count(i => i.Objects.Count == 0), boxes.Count,
            classes, size, aspect, min, max);
    }
}
