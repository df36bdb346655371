using FastRcnn.Data;

namespace FastRcnn.Evaluation;

/// <summary>COCO-style summary: AP averaged over IoU 0.50:0.05:0.95, AP at 0.50 and 0.75, AR with at most 100 detections per image.</summary>
/// <param name="Ap">AP@[.5:.95]: the mean over IoU thresholds 0.50, 0.55, …, 0.95.</param>
/// <param name="Ap50">AP at IoU 0.50.</param>
/// <param name="Ap75">AP at IoU 0.75.</param>
/// <param name="Ar100">Average recall over the thresholds with at most 100 detections per image.</param>
/// <param name="PerClassAp">AP@[.5:.95] per class 1..K (NaN for a class without ground truth).</param>
public sealed record CocoResult(double Ap, double Ap50, double Ap75, double Ar100, IReadOnlyList<double> PerClassAp);

/// <summary>
/// The COCO detection protocol (pycocotools' <c>COCOeval</c>, bbox, area range "all"), without
/// the COCO API. Per image and class, at most <c>maxDetections</c> detections by decreasing score are
/// matched greedily, each to the unmatched ground truth of highest IoU ≥ t, preferring real objects
/// to crowd regions; a detection matched to a crowd region (IoU there = intersection / detection area,
/// and crowds match any number of detections) is ignored, and crowds are not positives. Precision is
/// read at the 101 recall points 0, 0.01, …, 1 of the monotone envelope; AP is the mean over
/// thresholds, recall points and classes with ground truth; AR the mean final recall.
/// </summary>
public static class CocoEvaluator
{
    private static readonly double[] Thresholds = Enumerable.Range(0, 10).Select(i => 0.5 + 0.05 * i).ToArray();

    public static CocoResult Evaluate(IReadOnlyList<ImageRecord> images, IEnumerable<Detection> detections, int numClasses, int maxDetections = 100)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 1);
        var byImageClass = detections.GroupBy(d => (d.ImageId, d.ClassIndex))
            .ToDictionary(g => g.Key, g => g.OrderByDescending(d => d.Score).Take(maxDetections).ToArray());
        var known = images.Select(i => i.Id).ToHashSet();
        foreach (var key in byImageClass.Keys)
            if (!known.Contains(key.ImageId)) throw new ArgumentException($"detection for unknown image '{key.ImageId}'");

        int t = Thresholds.Length;
        var precision = new List<double[]>();   // per class with GT: T × 101 values, flattened
        var recall = new List<double[]>();      // per class with GT: T values
        var perClass = new double[numClasses];
        for (int k = 1; k <= numClasses; k++)
        {
            var scored = new List<(float Score, bool[] Matched, bool[] Ignored)>();
            int positives = 0;
            foreach (var image in images)
            {
                var gts = image.Objects.Where(o => o.ClassIndex == k).OrderBy(o => o.Crowd).ToArray(); // crowds last
                positives += gts.Count(g => !g.Crowd);
                var dets = byImageClass.GetValueOrDefault((image.Id, k)) ?? [];
                int offset = scored.Count;
                foreach (var d in dets) scored.Add((d.Score, new bool[t], new bool[t]));
                MatchImage(dets, gts, scored, offset);
            }
            if (positives == 0) { perClass[k - 1] = double.NaN; continue; }
            var order = Enumerable.Range(0, scored.Count).OrderByDescending(i => scored[i].Score).ToArray(); // stable
            var classPrecision = new double[t * 101];
            var classRecall = new double[t];
            for (int ti = 0; ti < t; ti++)
            {
                var (rc, pr) = Curve(order.Where(i => !scored[i].Ignored[ti]).Select(i => scored[i].Matched[ti]).ToArray(), positives);
                classRecall[ti] = rc.Length > 0 ? rc[^1] : 0;
                for (int i = pr.Length - 1; i > 0; i--) pr[i - 1] = Math.Max(pr[i - 1], pr[i]);
                for (int ri = 0; ri <= 100; ri++)
                {
                    int at = LowerBound(rc, ri / 100.0);
                    classPrecision[ti * 101 + ri] = at < pr.Length ? pr[at] : 0;
                }
            }
            precision.Add(classPrecision);
            recall.Add(classRecall);
            perClass[k - 1] = classPrecision.Average();
        }
        if (precision.Count == 0) return new CocoResult(double.NaN, double.NaN, double.NaN, double.NaN, perClass);
        double At(int ti) => precision.Average(p => p.Skip(ti * 101).Take(101).Average());
        return new CocoResult(precision.Average(p => p.Average()), At(0), At(5), recall.Average(r => r.Average()), perClass);
    }

    /// <summary>Greedy matching of one image's detections (by score) at every threshold; writes into <paramref name="scored"/> from <paramref name="offset"/>.</summary>
    private static void MatchImage(Detection[] dets, ObjectAnnotation[] gts, List<(float Score, bool[] Matched, bool[] Ignored)> scored, int offset)
    {
        var taken = new bool[Thresholds.Length, gts.Length];
        for (int d = 0; d < dets.Length; d++)
        {
            var ious = gts.Select(g => g.Crowd ? CrowdIoU(dets[d].Box, g.Box) : EvaluationMath.IoU(dets[d].Box, g.Box)).ToArray();
            for (int ti = 0; ti < Thresholds.Length; ti++)
            {
                double best = Math.Min(Thresholds[ti], 1 - 1e-10);
                int match = -1;
                for (int g = 0; g < gts.Length; g++)
                {
                    if (taken[ti, g] && !gts[g].Crowd) continue;
                    if (match >= 0 && !gts[match].Crowd && gts[g].Crowd) break; // a real object beats any crowd
                    if (ious[g] < best) continue;
                    best = ious[g];
                    match = g;
                }
                if (match < 0) continue;
                taken[ti, match] = true;
                scored[offset + d].Matched[ti] = true;
                scored[offset + d].Ignored[ti] = gts[match].Crowd;
            }
        }
    }

    /// <summary>Intersection over the detection's area: how COCO scores overlap with a crowd region.</summary>
    private static double CrowdIoU(in BoundingBox det, in BoundingBox crowd)
    {
        double w = Math.Min(det.X2, crowd.X2) - Math.Max(det.X1, crowd.X1), h = Math.Min(det.Y2, crowd.Y2) - Math.Max(det.Y1, crowd.Y1);
        double area = (double)det.Width * det.Height;
        return w <= 0 || h <= 0 || area <= 0 ? 0 : w * h / area;
    }

    private static (double[] Recall, double[] Precision) Curve(bool[] truePositive, int positives)
    {
        var rc = new double[truePositive.Length];
        var pr = new double[truePositive.Length];
        int tp = 0;
        for (int i = 0; i < truePositive.Length; i++)
        {
            if (truePositive[i]) tp++;
            rc[i] = (double)tp / positives;
            pr[i] = tp / (i + 1 + double.Epsilon);
        }
        return (rc, pr);
    }

    /// <summary>The first index i with values[i] ≥ x (values ascending), like numpy's searchsorted(side='left').</summary>
    private static int LowerBound(double[] values, double x)
    {
        int lo = 0, hi = values.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) / 2;
            if (values[mid] < x) lo = mid + 1; else hi = mid;
        }
        return lo;
    }
}
