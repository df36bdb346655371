namespace FastRcnn.Modeling.Rpn;

/// <summary>
/// What the RPN needs to know of one image of a (padded) batch: its own size after scaling, in pixels of the
/// network input (the batch may be padded beyond it on the bottom and right), and the factor by which it was scaled.
/// </summary>
/// <param name="Height">H, rows of the scaled image (unpadded).</param>
/// <param name="Width">W, columns of the scaled image (unpadded).</param>
/// <param name="ScaleFactor">Scaled size / original size (the proposal layer's minimum box size is in original pixels).</param>
/// <param name="SampleKey">Null, or the image's key (<see cref="ImageTargets.SampleKey"/>): its anchors are then sampled from a generator seeded by it.</param>
public sealed record RpnImage(long Height, long Width, double ScaleFactor = 1, long? SampleKey = null)
{
    /// <summary>Throws <see cref="ArgumentException"/> naming <paramref name="what"/> unless H, W ≥ 1 and the scale is positive and finite.</summary>
    public void Validate(string what)
    {
        if (Height < 1 || Width < 1)
            throw new ArgumentException($"{what}: image size must be positive, got {Height}x{Width} (HxW).");
        if (!(ScaleFactor > 0) || double.IsInfinity(ScaleFactor))
            throw new ArgumentException($"{what}: scale factor must be positive and finite, got {ScaleFactor}.");
    }
}
