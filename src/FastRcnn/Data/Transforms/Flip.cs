using FastRcnn.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Data.Transforms;

/// <summary>
/// Horizontal flip (SPEC §5 augmentation) of an image and of its boxes and proposals, in the
/// continuous box convention of SPEC §2: pixel column x moves to column W−1−x, and a box
/// (x1, y1, x2, y2) of an image of width W becomes (W − x2, y1, W − x1, y2).
/// </summary>
/// <remarks>
/// py-faster-rcnn flips with the legacy inclusive convention (<c>x1' = W − x2 − 1</c>); with
/// width = x2 − x1 there is no −1. Each coordinate is one IEEE subtraction <c>W − x</c>, exact
/// whenever the result is representable (e.g. coordinates that are multiples of 1/64 in images
/// narrower than 2^17 pixels), so flipping twice is then the identity bit for bit; otherwise it
/// is within one rounding (half an ulp of W) of the input.
/// </remarks>
public static class Flip
{
    /// <summary>Image (C,H,W) or (N,C,H,W) flipped left–right (new tensor, same dtype).</summary>
    public static Tensor Image(Tensor image)
    {
        CheckImage(image);
        return image.flip(-1);
    }

    /// <summary>
    /// Boxes (R,4k) of an image of width <paramref name="imageWidth"/> flipped left–right:
    /// every (x1, y1, x2, y2) → (W − x2, y1, W − x1, y2). Class-specific boxes (k &gt; 1) flip
    /// each group of four. Same dtype as the input (float32 by convention); a new tensor.
    /// </summary>
    public static Tensor Boxes(Tensor boxes, double imageWidth)
    {
        CheckBoxes(boxes);
        if (!(imageWidth > 0) || double.IsInfinity(imageWidth))
            throw new ArgumentOutOfRangeException(nameof(imageWidth), imageWidth, "The image width must be positive.");
        using var scope = NewDisposeScope();
        long r = boxes.shape[0], cols = boxes.shape[1];
        var groups = boxes.reshape(r, cols / 4, 4);                     // (R,k,4)
        var c = groups.unbind(2);
        using var width = imageWidth.ToScalar();
        var x1 = c[2].neg().add_(width, SafeScalars.One);               // W − x2
        var x2 = c[0].neg().add_(width, SafeScalars.One);               // W − x1
        var flipped = stack(new[] { x1, c[1], x2, c[3] }, 2).reshape(r, cols);
        return flipped.MoveToOuterDisposeScope();
    }

    /// <summary>Throws unless <paramref name="image"/> is (C,H,W) or (N,C,H,W).</summary>
    internal static void CheckImage(Tensor image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.dim() != 3 && image.dim() != 4)
            throw new ArgumentException(
                $"Expected an image tensor (C,H,W) or (N,C,H,W), got ({string.Join(",", image.shape)}).", nameof(image));
    }

    /// <summary>Throws unless <paramref name="boxes"/> is a floating-point (R,4k) tensor.</summary>
    internal static void CheckBoxes(Tensor boxes)
    {
        ArgumentNullException.ThrowIfNull(boxes);
        if (boxes.dim() != 2 || boxes.shape[1] == 0 || boxes.shape[1] % 4 != 0)
            throw new ArgumentException($"boxes must have shape (R,4k), got ({string.Join(",", boxes.shape)}).", nameof(boxes));
        if (!boxes.is_floating_point())
            throw new ArgumentException($"boxes must be floating point, got {boxes.dtype}.", nameof(boxes));
    }

    /// <summary>Proposals (R,4) flipped like <see cref="Boxes"/>; the same arithmetic, named for readability.</summary>
    public static Tensor Proposals(Tensor proposals, double imageWidth) => Boxes(proposals, imageWidth);
}
