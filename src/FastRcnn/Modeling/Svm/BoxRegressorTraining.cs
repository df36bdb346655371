namespace FastRcnn.Modeling.Svm;

/// <summary>One class's box regressor after training.</summary>
/// <param name="ClassIndex">1..K.</param>
/// <param name="Map">Scaled pool5 (D5) → deltas (tx, ty, tw, th) of SPEC §5, unnormalised.</param>
/// <param name="Examples">Boxes it learnt from (0: the map is zero, boxes stay as proposed).</param>
public sealed record ClassBoxRegressor(int ClassIndex, LinearMap Map, int Examples);

/// <summary>
/// R-CNN's class-specific box regression: for each class, ridge regression (<see cref="RidgeRegression"/>, λ = 1000)
/// from the scaled pool5 features of the boxes whose largest IoU, with a ground-truth box of that class, exceeds the
/// cache's regression IoU (0.6; the ground-truth boxes themselves included) to the deltas that move each box onto that
/// ground-truth box.
/// </summary>
public static class BoxRegressorTraining
{
    /// <summary>R-CNN's ridge penalty.</summary>
    public const double DefaultLambda = 1000;

    /// <summary>Fits every class 1..K of <paramref name="cache"/>; pool5 features are multiplied by <paramref name="scale"/>.</summary>
    public static IReadOnlyList<ClassBoxRegressor> Train(FeatureCache cache, float scale, double lambda = DefaultLambda, CancellationToken cancellation = default)
    {
        int k = cache.NumClasses, d = cache.Pool5Width;
        var x = Enumerable.Range(0, k).Select(_ => new List<float>()).ToArray();
        var y = Enumerable.Range(0, k).Select(_ => new List<float>()).ToArray();
        foreach (var entry in cache.Entries())
        {
            cancellation.ThrowIfCancellationRequested();
            for (int i = 0; i < entry.Pool5Rows.Length; i++)
            {
                int row = (int)entry.Pool5Rows[i];
                int c = (int)entry.MatchedClasses[row];
                if (c == 0 || !(entry.MaxIoU[row] > cache.Options.RegressionIoU) && !entry.IsGroundTruth(row)) continue;
                foreach (float v in entry.Pool5At(i)) x[c - 1].Add(v * scale);
                y[c - 1].AddRange(Deltas(entry.Boxes.AsSpan(4 * row, 4), entry.MatchedGtBoxes.AsSpan(4 * row, 4)));
            }
        }
        return Enumerable.Range(0, k).Select(c => x[c].Count == 0
            ? new ClassBoxRegressor(c + 1, LinearMap.Zero(d, 4), 0)
            : new ClassBoxRegressor(c + 1, RidgeRegression.Fit([.. x[c]], [.. y[c]], d, 4, lambda), y[c].Count / 4)).ToArray();
    }

    /// <summary>(tx, ty, tw, th) from <paramref name="box"/> to <paramref name="gt"/> (SPEC §5, centres and sizes without "+1").</summary>
    public static float[] Deltas(ReadOnlySpan<float> box, ReadOnlySpan<float> gt)
    {
        double pw = box[2] - box[0], ph = box[3] - box[1], gw = gt[2] - gt[0], gh = gt[3] - gt[1];
        double px = box[0] + 0.5 * pw, py = box[1] + 0.5 * ph, gx = gt[0] + 0.5 * gw, gy = gt[1] + 0.5 * gh;
        return [(float)((gx - px) / pw), (float)((gy - py) / ph), (float)Math.Log(gw / pw), (float)Math.Log(gh / ph)];
    }
}
