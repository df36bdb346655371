using FastRcnn.Modeling.Svm;

namespace FastRcnn.Tests.Modeling.Svm;

/// <summary>Synthetic feature caches: images whose ground-truth rows and proposals carry random features and overlaps.</summary>
internal static class SvmTestData
{
    /// <summary>
    /// <paramref name="images"/> entries of K = 2 classes: 2 ground-truth rows (classes 1 and 2) whose fc7 lies near
    /// +class direction, and <paramref name="proposals"/> proposals, a few overlapping a ground-truth box (IoU 0.7, near
    /// its features, pool5 stored), the rest background near the origin.
    /// </summary>
    public static List<FeatureCacheEntry> Entries(int seed, int images, int proposals, int d7 = 6, int d5 = 5)
    {
        var rng = new Random(seed);
        float Noise(double s) => (float)((rng.NextDouble() * 2 - 1) * s);
        var entries = new List<FeatureCacheEntry>();
        for (int image = 0; image < images; image++)
        {
            int r = 2 + proposals;
            var gtClasses = new long[r];
            var classIoU = new float[r * 2];
            var maxIoU = new float[r];
            var matchedClasses = new long[r];
            var boxes = new float[4 * r];
            var matched = new float[4 * r];
            var fc7 = new float[r * d7];
            var pool5Rows = new List<long>();
            var pool5 = new List<float>();
            for (int row = 0; row < r; row++)
            {
                int cls = row < 2 ? row + 1 : (row % 5 == 0 ? 1 + row % 2 : 0);
                float x = 10 + 50 * image % 200 + row, y = 20 + row;
                var box = new[] { x, y, x + 40 + Noise(8), y + 30 + Noise(6) };
                box.CopyTo(boxes, 4 * row);
                var gt = new[] { x + Noise(4), y + Noise(4), x + 40 + Noise(4), y + 30 + Noise(4) };
                if (row < 2) { gtClasses[row] = cls; gt = box; }
                gt.CopyTo(matched, 4 * row);
                float iou = row < 2 ? 1 : cls > 0 ? 0.7f : (float)(rng.NextDouble() * 0.45);
                maxIoU[row] = iou;
                matchedClasses[row] = cls == 0 ? 1 + rng.Next(2) : cls;
                classIoU[row * 2 + (int)matchedClasses[row] - 1] = iou;
                for (int j = 0; j < d7; j++)
                    fc7[row * d7 + j] = (cls == 0 ? 0 : (j % 2 == cls - 1 ? 2 : 0)) + Noise(1.5);
                if (row < 2 || iou > 0.6)
                {
                    pool5Rows.Add(row);
                    for (int j = 0; j < d5; j++) pool5.Add(Noise(1) + (j == 0 ? (gt[0] - box[0]) / 40 : 0));
                }
            }
            entries.Add(new FeatureCacheEntry($"img{image}", 2, boxes, gtClasses, classIoU, maxIoU, matchedClasses, matched,
                fc7, d7, [.. pool5Rows], [.. pool5], d5));
        }
        return entries;
    }

    public static FeatureCache Cache(TempDir dir, List<FeatureCacheEntry> entries) =>
        FeatureCache.Write(dir.Combine("cache"), 2, entries[0].Fc7Width, entries[0].Pool5Width, new FeatureCacheOptions(), entries);
}
