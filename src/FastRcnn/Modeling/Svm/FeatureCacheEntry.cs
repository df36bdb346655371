namespace FastRcnn.Modeling.Svm;

/// <summary>
/// One image of a <see cref="FeatureCache"/>: R rows, its ground-truth boxes first (G rows, <see cref="GtClasses"/> ≥ 1),
/// then its proposals (<see cref="GtClasses"/> 0). Arrays are row-major. Shape shorthand: R rows, K object classes.
/// </summary>
/// <param name="ImageId">The dataset's image id.</param>
/// <param name="NumClasses">K.</param>
/// <param name="Boxes">(R,4) boxes in the image's pixels.</param>
/// <param name="GtClasses">(R) the class 1..K of a ground-truth row, 0 for a proposal.</param>
/// <param name="ClassIoU">(R,K) each row's largest IoU with a ground-truth box of class k + 1 (0 without one).</param>
/// <param name="MaxIoU">(R) each row's largest IoU with any ground-truth box.</param>
/// <param name="MatchedClasses">(R) the class of that ground-truth box (0 in an image without objects).</param>
/// <param name="MatchedGtBoxes">(R,4) that ground-truth box (the row's own box in an image without objects).</param>
/// <param name="Fc7">(R, D7) fc7 features.</param>
/// <param name="Fc7Width">D7.</param>
/// <param name="Pool5Rows">The rows whose pool5 feature is stored, ascending.</param>
/// <param name="Pool5">(M, D5) pool5 features of <paramref name="Pool5Rows"/>.</param>
/// <param name="Pool5Width">D5.</param>
public sealed record FeatureCacheEntry(
    string ImageId,
    int NumClasses,
    float[] Boxes,
    long[] GtClasses,
    float[] ClassIoU,
    float[] MaxIoU,
    long[] MatchedClasses,
    float[] MatchedGtBoxes,
    float[] Fc7,
    int Fc7Width,
    long[] Pool5Rows,
    float[] Pool5,
    int Pool5Width)
{
    /// <summary>R.</summary>
    public int Rows => GtClasses.Length;

    /// <summary>Whether row <paramref name="row"/> is a ground-truth box.</summary>
    public bool IsGroundTruth(int row) => GtClasses[row] > 0;

    /// <summary>Row <paramref name="row"/>'s largest IoU with a ground-truth box of class <paramref name="classIndex"/> (1..K).</summary>
    public float IoUWithClass(int row, int classIndex) => ClassIoU[row * NumClasses + classIndex - 1];

    /// <summary>Row <paramref name="row"/>'s fc7 feature.</summary>
    public ReadOnlySpan<float> Fc7Row(int row) => Fc7.AsSpan(row * Fc7Width, Fc7Width);

    /// <summary>The <paramref name="index"/>-th stored pool5 feature (of row <c>Pool5Rows[index]</c>).</summary>
    public ReadOnlySpan<float> Pool5At(int index) => Pool5.AsSpan(index * Pool5Width, Pool5Width);
}
