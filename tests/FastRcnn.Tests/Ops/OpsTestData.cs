using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Ops;

/// <summary>Seeded random boxes and naive (plain-loop) references shared by the Ops tests.</summary>
internal static class OpsTestData
{
    /// <summary>n boxes (x1,y1,x2,y2) row-major, x1 in [0,xMax), w in [minSize,maxSize).</summary>
    public static float[] UniformBoxes(Random rng, int n, float xMax = 1000, float yMax = 600,
        float minSize = 10, float maxSize = 300)
    {
        var b = new float[4 * n];
        for (int i = 0; i < n; i++)
        {
            float x1 = (float)rng.NextDouble() * xMax, y1 = (float)rng.NextDouble() * yMax;
            float w = minSize + (float)rng.NextDouble() * (maxSize - minSize);
            float h = minSize + (float)rng.NextDouble() * (maxSize - minSize);
            b[4 * i] = x1; b[4 * i + 1] = y1; b[4 * i + 2] = x1 + w; b[4 * i + 3] = y1 + h;
        }
        return b;
    }

    /// <summary>n boxes jittered around a few centres (heavy overlap); optionally rounded to integers.</summary>
    public static float[] ClusteredBoxes(Random rng, int n, int centres, float spread, bool integer = false)
    {
        var cs = Enumerable.Range(0, centres).Select(_ => (x: 50 + rng.NextDouble() * 500, y: 50 + rng.NextDouble() * 300)).ToArray();
        var b = new float[4 * n];
        for (int i = 0; i < n; i++)
        {
            var (cx, cy) = cs[rng.Next(centres)];
            double x = cx + (rng.NextDouble() - 0.5) * spread, y = cy + (rng.NextDouble() - 0.5) * spread;
            double w = 20 + rng.NextDouble() * 40, h = 20 + rng.NextDouble() * 40;
            double[] v = { x - w / 2, y - h / 2, x + w / 2, y + h / 2 };
            for (int c = 0; c < 4; c++)
                b[4 * i + c] = integer ? (float)Math.Round(v[c]) : (float)v[c];
        }
        return b;
    }

    /// <summary>Scores drawn from <paramref name="levels"/> distinct values (many ties), or uniform when 0.</summary>
    public static float[] Scores(Random rng, int n, int levels = 0) =>
        Enumerable.Range(0, n).Select(_ => levels == 0 ? (float)rng.NextDouble() : (rng.Next(levels) + 1) / (float)(levels + 1)).ToArray();

    public static Tensor Boxes(float[] b) => tensor(b, new long[] { b.Length / 4, 4 });

    public static float[] Floats(Tensor t) => t.contiguous().data<float>().ToArray();

    public static long[] Longs(Tensor t) => t.contiguous().data<long>().ToArray();

    /// <summary>Naive greedy NMS exactly as torchvision's CPU kernel, in plain scalar loops.</summary>
    public static long[] NaiveNms(float[] b, float[] scores, double thr, IReadOnlyList<int>? subset = null)
    {
        var idx = (subset ?? Enumerable.Range(0, scores.Length).ToArray())
            .OrderByDescending(i => scores[i]).ToArray();   // LINQ ordering is stable: ties keep index order
        var suppressed = new bool[idx.Length];
        var keep = new List<long>();
        for (int a = 0; a < idx.Length; a++)
        {
            if (suppressed[a]) continue;
            int i = idx[a];
            keep.Add(i);
            float areaI = (b[4 * i + 2] - b[4 * i]) * (b[4 * i + 3] - b[4 * i + 1]);
            for (int c = a + 1; c < idx.Length; c++)
            {
                int j = idx[c];
                float areaJ = (b[4 * j + 2] - b[4 * j]) * (b[4 * j + 3] - b[4 * j + 1]);
                float w = MathF.Max(0, MathF.Min(b[4 * i + 2], b[4 * j + 2]) - MathF.Max(b[4 * i], b[4 * j]));
                float h = MathF.Max(0, MathF.Min(b[4 * i + 3], b[4 * j + 3]) - MathF.Max(b[4 * i + 1], b[4 * j + 1]));
                float inter = w * h;
                float ovr = inter / (areaI + areaJ - inter);
                if ((double)ovr > thr) suppressed[c] = true;
            }
        }
        return keep.ToArray();
    }

    /// <summary>Naive per-class NMS; result ordered by (score desc, index asc).</summary>
    public static long[] NaiveBatched(float[] b, float[] scores, long[] classes, double thr) =>
        Enumerable.Range(0, scores.Length).GroupBy(i => classes[i])
            .SelectMany(g => NaiveNms(b, scores, thr, g.ToArray()))
            .OrderByDescending(i => scores[i]).ThenBy(i => i).ToArray();
}
