namespace FastRcnn.Data;

/// <summary>
/// An axis-aligned box <c>(x1, y1, x2, y2)</c> in continuous pixel coordinates of the original
/// image (SPEC §2): the pixel grid's top-left corner is (0, 0), a box covering pixels
/// x = a..b (inclusive) is <c>(a, ., b + 1, .)</c>, and width = x2 − x1 with no "+1".
/// </summary>
/// <param name="X1">Left edge.</param>
/// <param name="Y1">Top edge.</param>
/// <param name="X2">Right edge (exclusive as a pixel index).</param>
/// <param name="Y2">Bottom edge (exclusive as a pixel index).</param>
public readonly record struct BoundingBox(float X1, float Y1, float X2, float Y2)
{
    /// <summary>w = x2 − x1.</summary>
    public float Width => X2 - X1;

    /// <summary>h = y2 − y1.</summary>
    public float Height => Y2 - Y1;

    /// <summary>w·h, or 0 when the box is degenerate.</summary>
    public float Area => IsValid ? Width * Height : 0f;

    /// <summary>True when x2 &gt; x1 and y2 &gt; y1 and all four numbers are finite.</summary>
    public bool IsValid => float.IsFinite(X1) && float.IsFinite(Y1) && float.IsFinite(X2) && float.IsFinite(Y2)
        && X2 > X1 && Y2 > Y1;

    /// <summary>The box clipped to the image rectangle [0, width] × [0, height].</summary>
    public BoundingBox ClipTo(int width, int height) => new(
        Math.Clamp(X1, 0f, width), Math.Clamp(Y1, 0f, height),
        Math.Clamp(X2, 0f, width), Math.Clamp(Y2, 0f, height));

    /// <summary>True when some edge lies outside [0, width] × [0, height].</summary>
    public bool IsOutside(int width, int height) => X1 < 0 || Y1 < 0 || X2 > width || Y2 > height;

    /// <inheritdoc />
    public override string ToString() => FormattableString.Invariant($"({X1}, {Y1}, {X2}, {Y2})");
}

/// <summary>
/// One ground-truth object of an image.
/// </summary>
/// <param name="Box">The object's box, project convention (see <see cref="BoundingBox"/>).</param>
/// <param name="ClassIndex">Index into <see cref="DetectionDataset.ClassNames"/>: 1..K (0 is background and never used here).</param>
/// <param name="Difficult">PASCAL VOC "difficult": neither a true nor a false positive at evaluation (SPEC §8).</param>
/// <param name="Crowd">COCO <c>iscrowd</c>: an ignore region covering a crowd of objects, not one object.</param>
/// <param name="Truncated">The object extends beyond the image border (VOC <c>truncated</c>); informational.</param>
public sealed record ObjectAnnotation(
    BoundingBox Box,
    int ClassIndex,
    bool Difficult = false,
    bool Crowd = false,
    bool Truncated = false);

/// <summary>
/// One image and its objects.
/// </summary>
/// <param name="Id">Identifier unique within the dataset (VOC: the file stem, COCO: the image id).</param>
/// <param name="ImagePath">Full path of the image file.</param>
/// <param name="Width">Image width W in pixels.</param>
/// <param name="Height">Image height H in pixels.</param>
/// <param name="Objects">The objects; may be empty (images without objects are allowed).</param>
public sealed record ImageRecord(
    string Id,
    string ImagePath,
    int Width,
    int Height,
    IReadOnlyList<ObjectAnnotation> Objects);
