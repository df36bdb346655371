using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Ops;

/// <summary>
/// Batched box operations on TorchSharp tensors. Boxes are <c>(x1, y1, x2, y2)</c> float32 pixel
/// coordinates with width <c>x2 - x1</c> and height <c>y2 - y1</c> (no "+1"; SPEC §2).
/// Shape shorthand: R boxes (RoIs), A and B boxes of two sets, k boxes per row (class-specific).
/// All methods are vectorised tensor code (no per-box managed loops) and leave their inputs untouched.
/// </summary>
public static class BoxOps
{
    /// <summary>Areas <c>(x2 - x1) * (y2 - y1)</c> of boxes (R,4) → (R).</summary>
    public static Tensor Area(Tensor boxes)
    {
        CheckBoxes(boxes, nameof(boxes));
        using var scope = NewDisposeScope();
        var c = boxes.unbind(1);
        return ((c[2] - c[0]) * (c[3] - c[1])).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Intersection over union of every box of <paramref name="a"/> (A,4) with every box of
    /// <paramref name="b"/> (B,4) → (A,B). Entries whose union is 0 are 0.
    /// </summary>
    public static Tensor PairwiseIoU(Tensor a, Tensor b)
    {
        CheckBoxes(a, nameof(a));
        CheckBoxes(b, nameof(b));
        using var scope = NewDisposeScope();
        var areaA = Area(a).unsqueeze(1);                                   // (A,1)
        var areaB = Area(b).unsqueeze(0);                                   // (1,B)
        var lt = maximum(a.narrow(1, 0, 2).unsqueeze(1), b.narrow(1, 0, 2).unsqueeze(0)); // (A,B,2)
        var rb = minimum(a.narrow(1, 2, 2).unsqueeze(1), b.narrow(1, 2, 2).unsqueeze(0)); // (A,B,2)
        using var zero = 0.0.ToScalar();                                     // explicit: see MomentumSgd.Step
        var wh = (rb - lt).clamp_(min: zero);
        var inter = wh.select(2, 0) * wh.select(2, 1);                      // (A,B)
        var union = areaA.Add(areaB) - inter;
        var iou = where(union.eq(zero), zeros_like(inter), inter / union);
        return iou.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Clips boxes (R,4k) to the image: every x (even columns) to [0, <paramref name="width"/>],
    /// every y (odd columns) to [0, <paramref name="height"/>]. Works for class-specific boxes
    /// (R,4k), k ≥ 1. Returns a new tensor.
    /// </summary>
    public static Tensor Clip(Tensor boxes, long height, long width)
    {
        if (boxes.dim() != 2 || boxes.shape[1] == 0 || boxes.shape[1] % 4 != 0)
            throw new ArgumentException($"boxes must have shape (R,4k), got {ShapeText(boxes)}.", nameof(boxes));
        if (height < 0 || width < 0)
            throw new ArgumentException($"Image size must be non-negative, got {height}x{width} (HxW).");
        using var scope = NewDisposeScope();
        long r = boxes.shape[0], cols = boxes.shape[1];
        var pairs = boxes.reshape(r, cols / 2, 2);                          // (R,2k,[x,y])
        using Scalar zero = 0.ToScalar(), w = width.ToScalar(), h = height.ToScalar();
        var x = pairs.select(2, 0).clamp(zero, w);
        var y = pairs.select(2, 1).clamp(zero, h);
        return stack(new[] { x, y }, 2).reshape(r, cols).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Indices (int64, ascending) of the boxes (R,4) whose width and height are both ≥
    /// <paramref name="minSize"/>. Boxes with NaN coordinates are dropped.
    /// </summary>
    public static Tensor RemoveSmall(Tensor boxes, float minSize)
    {
        CheckBoxes(boxes, nameof(boxes));
        using var scope = NewDisposeScope();
        var c = boxes.unbind(1);
        using var min = minSize.ToScalar();
        var keep = (c[2] - c[0]).ge(min).logical_and_((c[3] - c[1]).ge(min));
        return keep.nonzero().reshape(-1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Validity mask (R) of boxes (R,4): true where all four coordinates are finite,
    /// <c>x2 &gt; x1</c> and <c>y2 &gt; y1</c>.
    /// </summary>
    public static Tensor IsValid(Tensor boxes)
    {
        CheckBoxes(boxes, nameof(boxes));
        using var scope = NewDisposeScope();
        var c = boxes.unbind(1);
        var ok = boxes.isfinite().all(1).logical_and_(c[2].gt(c[0])).logical_and_(c[3].gt(c[1]));
        return ok.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> when <paramref name="boxes"/> is not (R,4) or when a
    /// box is invalid (see <see cref="IsValid"/>). The message names <paramref name="what"/>,
    /// the first bad row index and its coordinates.
    /// </summary>
    public static void EnsureValid(Tensor boxes, string what)
    {
        if (boxes.dim() != 2 || boxes.shape[1] != 4)
            throw new ArgumentException($"{what}: boxes must have shape (R,4), got {ShapeText(boxes)}.", nameof(boxes));
        using var scope = NewDisposeScope();
        var bad = IsValid(boxes).logical_not_().nonzero().reshape(-1);
        if (bad.shape[0] == 0)
            return;
        long row = bad[0].item<long>();
        var values = boxes[row].to_type(ScalarType.Float64).data<double>().ToArray();
        var text = string.Join(", ", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
        throw new ArgumentException(
            $"{what}: box {row} is invalid ({text}); boxes need finite coordinates with x2 > x1 and y2 > y1 " +
            $"({bad.shape[0]} invalid of {boxes.shape[0]}).", nameof(boxes));
    }

    internal static void CheckBoxes(Tensor boxes, string paramName)
    {
        if (boxes.dim() != 2 || boxes.shape[1] != 4)
            throw new ArgumentException($"Boxes must have shape (R,4), got {ShapeText(boxes)}.", paramName);
    }

    internal static string ShapeText(Tensor t) => "(" + string.Join(",", t.shape) + ")";
}
