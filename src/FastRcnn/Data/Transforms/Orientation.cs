using static TorchSharp.torch;

namespace FastRcnn.Data.Transforms;

/// <summary>
/// One of the eight orientations of an image (the symmetries of a rectangle's grid): an optional transpose
/// (a mirror about the main diagonal, pixel (x, y) → (y, x), so H×W becomes W×H), then an optional
/// left–right flip and an optional top–bottom flip, both in the transposed image. Drawing each with
/// probability ½ makes every rotation by a multiple of 90° and every mirror image equally likely.
/// </summary>
/// <remarks>
/// The paper flips left–right only (SPEC §5): VOC's people, cars and animals stand upright. The other
/// orientations suit data whose objects appear at any angle — aerial and microscope images, the built-in
/// Shapes benchmark (its shapes are drawn at uniform angles). Boxes follow in the continuous convention of
/// SPEC §2 with no "+1": transpose (x1, y1, x2, y2) → (y1, x1, y2, x2); left–right flip in an image of width W
/// → (W − x2, y1, W − x1, y2) (<see cref="Flip"/>); top–bottom flip in an image of height H → (x1, H − y2, x2, H − y1).
/// </remarks>
/// <param name="Transpose">Swap x and y first.</param>
/// <param name="FlipX">Then flip left–right.</param>
/// <param name="FlipY">Then flip top–bottom.</param>
public sealed record Orientation(bool Transpose, bool FlipX, bool FlipY)
{
    /// <summary>The image as it is.</summary>
    public static Orientation Identity { get; } = new(false, false, false);

    /// <summary>The paper's augmentation: a left–right flip.</summary>
    public static Orientation HorizontalFlip { get; } = new(false, true, false);

    /// <summary>True for <see cref="Identity"/>.</summary>
    public bool IsIdentity => !Transpose && !FlipX && !FlipY;

    /// <summary>(H', W'): the size of an H×W image after the transform.</summary>
    public (int Height, int Width) Size(int height, int width) => Transpose ? (width, height) : (height, width);

    /// <summary>The image (C,H,W) or (N,C,H,W) in this orientation: a new contiguous tensor, same dtype.</summary>
    public Tensor Image(Tensor image)
    {
        Flip.CheckImage(image);
        if (IsIdentity) return image.clone();
        using var scope = NewDisposeScope();
        var result = Transpose ? image.transpose(-1, -2) : image;
        if (FlipX && FlipY) result = result.flip(-1, -2);
        else if (FlipX) result = result.flip(-1);
        else if (FlipY) result = result.flip(-2);
        return result.contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Boxes (R,4k) of an image of <paramref name="width"/> × <paramref name="height"/> (before the transform)
    /// in this orientation; class-specific boxes (k &gt; 1) transform each group of four. A new tensor.
    /// </summary>
    /// <remarks>A top–bottom flip is a left–right flip between two transposes, so every coordinate is at most one IEEE subtraction, as in <see cref="Flip"/>.</remarks>
    public Tensor Boxes(Tensor boxes, double width, double height)
    {
        Flip.CheckBoxes(boxes);
        if (!(width > 0) || !(height > 0) || double.IsInfinity(width) || double.IsInfinity(height))
            throw new ArgumentOutOfRangeException(nameof(width), $"The image size must be positive, got {width}×{height}.");
        if (IsIdentity) return boxes.clone();
        using var scope = NewDisposeScope();
        var result = boxes;
        if (Transpose) (result, width, height) = (SwapXY(result), height, width);
        if (FlipX) result = Flip.Boxes(result, width);
        if (FlipY) result = SwapXY(Flip.Boxes(SwapXY(result), height));
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>(x1, y1, x2, y2) → (y1, x1, y2, x2) in each group of four.</summary>
    private static Tensor SwapXY(Tensor boxes)
    {
        long r = boxes.shape[0], cols = boxes.shape[1];
        using var order = tensor(new long[] { 1, 0, 3, 2 });
        return boxes.reshape(r, cols / 4, 4).index_select(2, order).reshape(r, cols);
    }

    public override string ToString() =>
        IsIdentity ? "identity" : string.Join("+", new[] { Transpose ? "transpose" : null, FlipX ? "flip-x" : null, FlipY ? "flip-y" : null }.OfType<string>());
}
