namespace FastRcnn.Modeling.Svm;

/// <summary>
/// R-CNN's feature scaling: features are multiplied by one number per feature kind so that their mean L2 norm over the
/// training boxes is <see cref="TargetNorm"/> (20), which puts liblinear's C = 0.001 on a known scale.
/// </summary>
public static class FeatureScaling
{
    /// <summary>R-CNN's mean feature norm after scaling.</summary>
    public const double TargetNorm = 20;

    /// <summary>The factors (fc7, pool5) that give the cache's fc7 rows and its stored pool5 rows a mean norm of <paramref name="targetNorm"/> (1 where a kind has no rows or only zero rows).</summary>
    public static (float Fc7, float Pool5) Compute(FeatureCache cache, double targetNorm = TargetNorm)
    {
        double fc7Sum = 0, pool5Sum = 0;
        long fc7Count = 0, pool5Count = 0;
        foreach (var entry in cache.Entries())
        {
            for (int row = 0; row < entry.Rows; row++, fc7Count++) fc7Sum += Norm(entry.Fc7Row(row));
            for (int i = 0; i < entry.Pool5Rows.Length; i++, pool5Count++) pool5Sum += Norm(entry.Pool5At(i));
        }
        return (Factor(fc7Sum, fc7Count, targetNorm), Factor(pool5Sum, pool5Count, targetNorm));
    }

    /// <summary>targetNorm / (sum / count), or 1 when undefined.</summary>
    private static float Factor(double sum, long count, double targetNorm) =>
        count > 0 && sum > 0 ? (float)(targetNorm / (sum / count)) : 1f;

    /// <summary>‖x‖₂.</summary>
    public static double Norm(ReadOnlySpan<float> x) => Math.Sqrt(LinearSvm.Dot(x, x));
}
