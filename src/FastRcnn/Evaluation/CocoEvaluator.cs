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
/// the COCO API, equal to it bit for bit. Images are taken in ascending id order (numeric when every id
/// is an integer, as COCO's are; ordinal otherwise), as <c>COCOeval</c> sorts <c>imgIds</c>. Per image
/// and class, the detections in input order are sorted stably by decreasing score and the first
/// <c>maxDetections</c> are matched greedily at each IoU threshold t, each to the not yet matched ground
/// truth of highest IoU ≥ t (an IoU below t is skipped), preferring real objects to crowd regions; a
/// detection matched to a crowd region (IoU there = intersection / detection area, and crowds match any
/// number of detections) is ignored, and crowds are not positives. Per class, the detections of all
/// images, concatenated in image-id order, are sorted stably by decreasing score (so equal scores keep
/// image-id order); precision = tp / (tp + fp + 2⁻⁵²) with its monotone envelope is read at the first
/// detection reaching each recall threshold. The thresholds are numpy's:
/// <c>np.linspace(.5, .95, 10)</c> for IoU (0.85 and 0.8999999999999999 where 0.5 + 0.05·i gives
/// 0.8500000000000001 and 0.9) and <c>np.linspace(0, 1, 101)</c> for recall (ten of them one ulp above
/// k/100, e.g. 0.35000000000000003). AP, AP50, AP75 and AR are <c>np.mean</c> over the (threshold,
/// recall point, class) cells of the classes with ground truth, added in numpy's order. Only the area
/// range "all" (0 to 10¹⁰ px²) is evaluated, so no object or detection is ignored for its size.
/// </summary>
public static class CocoEvaluator
{
    /// <summary>The IoU thresholds, <c>np.linspace(.5, 0.95, 10)</c> (pycocotools' <c>iouThrs</c>).</summary>
    public static IReadOnlyList<double> IoUThresholds { get; } = NumpyArithmetic.Linspace(0.5, 0.95, 10);

    /// <summary>The recall thresholds, <c>np.linspace(.0, 1.00, 101)</c> (pycocotools' <c>recThrs</c>).</summary>
    public static IReadOnlyList<double> RecallThresholds { get; } = NumpyArithmetic.Linspace(0.0, 1.0, 101);

    /// <summary><c>np.spacing(1)</c>: what pycocotools adds to tp + fp before dividing.</summary>
    private const double Spacing1 = 2.220446049250313e-16;

    private static readonly double[] Thresholds = [.. IoUThresholds];

    public static CocoResult Evaluate(IReadOnlyList<ImageRecord> images, IEnumerable<Detection> detections, int numClasses, int maxDetections = 100)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 1);
        var byImageClass = detections.GroupBy(d => (d.ImageId, d.ClassIndex))
            .ToDictionary(g => g.Key, g => g.OrderByDescending(d => (double)d.Score).Take(maxDetections).ToArray()); // stable
        var known = images.Select(i => i.Id).ToHashSet();
        foreach (var key in byImageClass.Keys)
            if (!known.Contains(key.ImageId)) throw new ArgumentException($"detection for unknown image '{key.ImageId}'");
        var sortedImages = InIdOrder(images);

        int t = Thresholds.Length, r = RecallThresholds.Count;
        var precision = new double[numClasses][];   // per class with GT: T × R values (t major); null without GT
        var recall = new double[numClasses][];      // per class with GT: T values
        var perClass = new double[numClasses];
        for (int k = 1; k <= numClasses; k++)
        {
            var scored = new List<(float Score, bool[] Matched, bool[] Ignored)>();
            int positives = 0;
            foreach (var image in sortedImages)
            {
                var gts = image.Objects.Where(o => o.ClassIndex == k).OrderBy(o => o.Crowd).ToArray(); // crowds last (stable)
                positives += gts.Count(g => !g.Crowd);
                var dets = byImageClass.GetValueOrDefault((image.Id, k)) ?? [];
                int offset = scored.Count;
                foreach (var d in dets) scored.Add((d.Score, new bool[t], new bool[t]));
                MatchImage(dets, gts, scored, offset);
            }
            if (positives == 0) { perClass[k - 1] = double.NaN; continue; }
            var order = Enumerable.Range(0, scored.Count).OrderByDescending(i => (double)scored[i].Score).ToArray(); // stable, as mergesort
            var classPrecision = new double[t * r];
            var classRecall = new double[t];
            for (int ti = 0; ti < t; ti++)
            {
                var (rc, pr) = Curve(order.Select(i => scored[i].Matched[ti]).ToArray(), order.Select(i => scored[i].Ignored[ti]).ToArray(), positives);
                classRecall[ti] = rc.Length > 0 ? rc[^1] : 0;
                for (int i = pr.Length - 1; i > 0; i--) if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
                for (int ri = 0; ri < r; ri++)
                {
                    int at = LowerBound(rc, RecallThresholds[ri]);
                    if (at >= pr.Length) break;   // the rest stay 0
                    classPrecision[ti * r + ri] = pr[at];
                }
            }
            precision[k - 1] = classPrecision;
            recall[k - 1] = classRecall;
            perClass[k - 1] = NumpyArithmetic.Mean(classPrecision);   // detectron2: np.mean(precision[:, :, k, 0, -1])
        }
        var withGt = Enumerable.Range(0, numClasses).Where(k => precision[k] is not null).ToArray();
        if (withGt.Length == 0) return new CocoResult(double.NaN, double.NaN, double.NaN, double.NaN, perClass);

        // COCOeval.summarize: np.mean(s[s > -1]) over precision[T, R, K] (K fastest) or recall[T, K].
        double MeanPrecision(int fromT, int toT)
        {
            var cells = new List<double>((toT - fromT) * r * withGt.Length);
            for (int ti = fromT; ti < toT; ti++)
                for (int ri = 0; ri < r; ri++)
                    foreach (int k in withGt) cells.Add(precision[k]![ti * r + ri]);
            return NumpyArithmetic.Mean(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(cells));
        }
        var recallCells = new List<double>(t * withGt.Length);
        for (int ti = 0; ti < t; ti++)
            foreach (int k in withGt) recallCells.Add(recall[k]![ti]);
        int t50 = Array.IndexOf(Thresholds, 0.5), t75 = Array.IndexOf(Thresholds, 0.75);
        return new CocoResult(MeanPrecision(0, t), MeanPrecision(t50, t50 + 1), MeanPrecision(t75, t75 + 1),
            NumpyArithmetic.Mean(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(recallCells)), perClass);
    }

    /// <summary>
    /// The images in the order <c>COCOeval</c> visits them (<c>np.unique(imgIds)</c>): by numeric id when every
    /// id is an integer, else by ordinal string order.
    /// </summary>
    internal static IReadOnlyList<ImageRecord> InIdOrder(IReadOnlyList<ImageRecord> images)
    {
        var numeric = new long[images.Count];
        bool allNumeric = true;
        for (int i = 0; i < images.Count && allNumeric; i++)
            allNumeric = long.TryParse(images[i].Id, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out numeric[i]);
        var indices = Enumerable.Range(0, images.Count);
        return (allNumeric ? indices.OrderBy(i => numeric[i]) : indices.OrderBy(i => images[i].Id, StringComparer.Ordinal))
            .Select(i => images[i]).ToArray();
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

    /// <summary>
    /// COCOeval.accumulate for one threshold: over every scored detection (ignored ones count as neither tp nor fp),
    /// recall = tp / positives and precision = tp / (fp + tp + np.spacing(1)).
    /// </summary>
    private static (double[] Recall, double[] Precision) Curve(bool[] matched, bool[] ignored, int positives)
    {
        var rc = new double[matched.Length];
        var pr = new double[matched.Length];
        long tp = 0, fp = 0;
        for (int i = 0; i < matched.Length; i++)
        {
            if (!ignored[i]) { if (matched[i]) tp++; else fp++; }
            rc[i] = (double)tp / positives;
            pr[i] = tp / ((double)fp + tp + Spacing1);
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
