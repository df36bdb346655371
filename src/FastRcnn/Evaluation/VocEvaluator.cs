using FastRcnn.Data;

namespace FastRcnn.Evaluation;

/// <summary>How a precision–recall curve becomes one number.</summary>
public enum VocApMetric
{
    /// <summary>VOC2007: mean over the 11 thresholds t of <c>np.arange(0., 1.1, 0.1)</c> of the maximum precision at recall ≥ t.</summary>
    ElevenPoint,

    /// <summary>VOC2010 and later: the area under the monotone (running-maximum) precision envelope.</summary>
    Area,
}

/// <summary>Per-class AP and their mean.</summary>
public sealed record VocResult(VocApMetric Metric, double IoUThreshold, IReadOnlyList<ClassAp> Classes)
{
    /// <summary>Mean AP over the classes that have ground truth.</summary>
    public double MeanAp => EvaluationMath.MeanOfDefined(Classes.Select(c => c.Ap));
}

/// <summary>
/// The PASCAL VOC detection protocol (SPEC §8), as the official devkit computes it. Per class, the
/// detections of all images are taken in decreasing score order; each is matched to the
/// ground-truth box of the same class and image with the highest IoU. IoU ≥ the threshold (0.5) with
/// an object not yet matched is a true positive, and marks it matched; with an object already
/// matched (a duplicate), or below the threshold, a false positive. Detections whose best match is
/// <c>difficult</c> (or a COCO crowd region) count as neither, and such objects are not among the
/// positives. Our continuous boxes (x1 = xmin − 1, x2 = xmax) give the devkit's "+1" integer IoU.
/// AP is computed as py-faster-rcnn's <c>voc_eval.py</c> (copied by detectron2) computes it, bit for bit:
/// the 11-point thresholds are numpy's <c>np.arange(0., 1.1, 0.1)</c> (0.30000000000000004, not 0.3),
/// summed as <c>ap += p / 11</c>; the area and the mean over classes add in numpy's pairwise order.
/// The IoU test stays the official devkit's ≥ 0.5 (<c>voc_eval.py</c> has &gt; 0.5; SPEC §8), and ties in
/// score keep the input order (<c>voc_eval.py</c>'s unstable <c>np.argsort</c> has no order to match).
/// </summary>
public static class VocEvaluator
{
    public static VocResult Evaluate(IReadOnlyList<ImageRecord> images, IEnumerable<Detection> detections, int numClasses,
        VocApMetric metric = VocApMetric.ElevenPoint, double iouThreshold = 0.5)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 1);
        var imagesById = images.ToDictionary(i => i.Id);
        var byClass = EvaluationMath.ByClassDescending(detections);
        var classes = new List<ClassAp>(numClasses);
        for (int k = 1; k <= numClasses; k++)
        {
            // Per image: this class's objects and whether each is matched yet.
            var objects = images.ToDictionary(i => i.Id, i => i.Objects.Where(o => o.ClassIndex == k).ToArray());
            var matched = objects.ToDictionary(p => p.Key, p => new bool[p.Value.Length]);
            int positives = objects.Values.Sum(list => list.Count(o => !o.Difficult && !o.Crowd));
            var list = byClass.GetValueOrDefault(k) ?? [];
            var truePositive = new List<bool>(list.Count);
            foreach (var detection in list)
            {
                if (!imagesById.ContainsKey(detection.ImageId))
                    throw new ArgumentException($"detection for unknown image '{detection.ImageId}'");
                var candidates = objects[detection.ImageId];
                int best = -1;
                double bestIoU = double.NegativeInfinity;
                for (int g = 0; g < candidates.Length; g++)
                {
                    double iou = EvaluationMath.IoU(detection.Box, candidates[g].Box);
                    if (iou > bestIoU) { bestIoU = iou; best = g; }
                }
                if (best >= 0 && bestIoU >= iouThreshold)
                {
                    if (candidates[best].Difficult || candidates[best].Crowd) continue; // neither TP nor FP
                    bool first = !matched[detection.ImageId][best];
                    matched[detection.ImageId][best] = true;
                    truePositive.Add(first);
                }
                else
                {
                    truePositive.Add(false);
                }
            }
            classes.Add(Curve(k, truePositive, positives, metric));
        }
        return new VocResult(metric, iouThreshold, classes);
    }

    private static ClassAp Curve(int classIndex, List<bool> truePositive, int positives, VocApMetric metric)
    {
        int n = truePositive.Count, tp = 0, fp = 0;
        var recall = new double[n];
        var precision = new double[n];
        for (int i = 0; i < n; i++)
        {
            if (truePositive[i]) tp++; else fp++;
            recall[i] = positives > 0 ? (double)tp / positives : double.NaN;
            precision[i] = (double)tp / Math.Max(tp + fp, 1);
        }
        double ap = positives == 0 ? double.NaN : metric == VocApMetric.ElevenPoint ? ElevenPoint(recall, precision) : Area(recall, precision);
        return new ClassAp(classIndex, ap, positives, n, recall, precision);
    }

    /// <summary>
    /// The VOC2007 recall thresholds, <c>np.arange(0., 1.1, 0.1)</c>: i · 0.1 in double, so 0.30000000000000004,
    /// 0.6000000000000001 and 0.7000000000000001 where exact tenths would be 0.3, 0.6, 0.7.
    /// </summary>
    public static IReadOnlyList<double> ElevenPointThresholds { get; } = NumpyArithmetic.Arange(0.0, 1.1, 0.1);

    /// <summary>
    /// VOC2007: Σ_t max{precision[i] : recall[i] ≥ t} / 11 (0 when none) over <see cref="ElevenPointThresholds"/>,
    /// accumulated as <c>voc_eval.py</c> does (<c>ap = ap + p / 11.</c>).
    /// </summary>
    public static double ElevenPoint(double[] recall, double[] precision)
    {
        double ap = 0;
        foreach (double t in ElevenPointThresholds)
        {
            double best = 0;
            for (int i = 0; i < recall.Length; i++)
                if (recall[i] >= t) best = Math.Max(best, precision[i]);
            ap += best / 11.0;
        }
        return ap;
    }

    /// <summary>VOC2010+: area under the running maximum of precision (from the right) over recall.</summary>
    public static double Area(double[] recall, double[] precision)
    {
        int n = recall.Length;
        var r = new double[n + 2];
        var p = new double[n + 2];
        r[n + 1] = 1;
        for (int i = 0; i < n; i++) { r[i + 1] = recall[i]; p[i + 1] = precision[i]; }
        for (int i = n; i >= 0; i--) p[i] = Math.Max(p[i], p[i + 1]);
        var terms = new List<double>(n + 1);
        for (int i = 0; i <= n; i++)
            if (r[i + 1] != r[i]) terms.Add((r[i + 1] - r[i]) * p[i + 1]);
        return NumpyArithmetic.Sum(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(terms));   // voc_eval.py: np.sum
    }
}
