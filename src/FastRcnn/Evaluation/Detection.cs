using FastRcnn.Data;

namespace FastRcnn.Evaluation;

/// <summary>One detection: an image, an object class 1..K, a confidence and a box in original-image pixels.</summary>
public sealed record Detection(string ImageId, int ClassIndex, float Score, BoundingBox Box);

/// <summary>Average precision of one class, with the curve it was computed from.</summary>
/// <param name="ClassIndex">1..K.</param>
/// <param name="Ap">Average precision; NaN when the class has no ground truth to find.</param>
/// <param name="Positives">Ground-truth objects that count (not difficult, not crowd).</param>
/// <param name="Detections">Detections of the class that were scored (true or false positives).</param>
/// <param name="Recall">Recall after each scored detection, in decreasing score order.</param>
/// <param name="Precision">Precision after each scored detection.</param>
public sealed record ClassAp(int ClassIndex, double Ap, int Positives, int Detections, double[] Recall, double[] Precision);

/// <summary>Shared pieces of the PASCAL VOC and COCO protocols.</summary>
public static class EvaluationMath
{
    /// <summary>IoU of two boxes in continuous coordinates (width = x2 − x1); 0 when the union is empty.</summary>
    public static double IoU(in BoundingBox a, in BoundingBox b)
    {
        double w = Math.Min(a.X2, b.X2) - Math.Max(a.X1, b.X1), h = Math.Min(a.Y2, b.Y2) - Math.Max(a.Y1, b.Y1);
        if (w <= 0 || h <= 0) return 0;
        double inter = w * h;
        double union = (double)a.Width * a.Height + (double)b.Width * b.Height - inter;
        return union > 0 ? inter / union : 0;
    }

    /// <summary>Detections of every image, grouped by class and sorted by decreasing score (stable: input order breaks ties).</summary>
    public static Dictionary<int, List<Detection>> ByClassDescending(IEnumerable<Detection> detections) =>
        detections.GroupBy(d => d.ClassIndex)
            .ToDictionary(g => g.Key, g => g.OrderByDescending(d => d.Score).ToList());

    /// <summary>The mean of the finite values, added as <c>np.mean</c> adds; NaN when there is none.</summary>
    public static double MeanOfDefined(IEnumerable<double> values) => NumpyArithmetic.Mean(values.Where(double.IsFinite).ToArray());
}
