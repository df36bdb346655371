using FastRcnn.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Data.Transforms;

/// <summary>
/// One image at several scales (SPEC §5 multi-scale testing). Shape shorthand: L levels, R RoIs.
/// Level l is <c>Levels[l].Image</c> (C,H_l,W_l) with factor <c>s_l</c>. Disposing the pyramid
/// disposes every level.
/// </summary>
public sealed class ImagePyramid : IDisposable
{
    /// <summary>Wraps <paramref name="levels"/> (taking ownership).</summary>
    public ImagePyramid(IReadOnlyList<ScaledImage> levels)
    {
        ArgumentNullException.ThrowIfNull(levels);
        if (levels.Count == 0)
            throw new ArgumentException("A pyramid needs at least one level.", nameof(levels));
        Levels = levels;
    }

    /// <summary>The levels, in the order of the scales they were built from.</summary>
    public IReadOnlyList<ScaledImage> Levels { get; }

    /// <summary>The side of the ImageNet input (224), the paper's canonical RoI size for choosing a level (SPEC §5).</summary>
    public const double ImageNetInputSize = 224;

    /// <summary>The factor s_l of each level.</summary>
    public IReadOnlyList<double> Factors => Levels.Select(l => l.Scale.Factor).ToArray();

    /// <summary>
    /// For each box (R,4) of the original image, the level (int64, R) where its scaled area
    /// <c>w·h·s_l²</c> is closest to <c>canonicalSize²</c> (224², the ImageNet input; SPEC §5).
    /// Ties go to the first such level. A one-level pyramid assigns level 0 to all.
    /// </summary>
    public Tensor AssignLevels(Tensor boxes, double canonicalSize = ImageNetInputSize) => AssignLevels(boxes, Factors, canonicalSize);

    /// <summary>
    /// Projects boxes (R,4) of the original image onto their levels (as py-faster-rcnn's
    /// <c>_project_im_rois</c>): <c>Rois</c> (R,5) float32 rows <c>(l, x1·s_l, y1·s_l, x2·s_l, y2·s_l)</c>
    /// — the batch index of RoI pooling over <see cref="ToBatch"/> — and <c>Levels</c> (R) int64.
    /// </summary>
    public (Tensor Rois, Tensor Levels) ProjectRois(Tensor boxes, double canonicalSize = ImageNetInputSize) => Project(boxes, Factors, canonicalSize);

    /// <summary><see cref="AssignLevels(Tensor, double)"/> for levels of factors <paramref name="factors"/>.</summary>
    public static Tensor AssignLevels(Tensor boxes, IReadOnlyList<double> factors, double canonicalSize = ImageNetInputSize)
    {
        CheckBoxes(boxes);
        using var scope = NewDisposeScope();
        var b = boxes.to_type(ScalarType.Float64);
        var area = (b[.., 2] - b[.., 0]) * (b[.., 3] - b[.., 1]);                // (R)
        var s2 = tensor(factors.Select(f => f * f).ToArray()).to(boxes.device);  // (L)
        var diff = (area.unsqueeze(1) * s2.unsqueeze(0)).Sub(canonicalSize * canonicalSize).abs_(); // (R,L)
        return diff.argmin(1).MoveToOuterDisposeScope();
    }

    /// <summary><see cref="ProjectRois"/> for levels of factors <paramref name="factors"/>.</summary>
    public static (Tensor Rois, Tensor Levels) Project(Tensor boxes, IReadOnlyList<double> factors, double canonicalSize = ImageNetInputSize)
    {
        CheckBoxes(boxes);
        using var scope = NewDisposeScope();
        var levels = AssignLevels(boxes, factors, canonicalSize);
        var levelFactors = tensor(factors.ToArray()).to(boxes.device).index_select(0, levels); // (R)
        var scaled = boxes.to_type(ScalarType.Float64) * levelFactors.unsqueeze(1);
        var rois = cat(new[] { levels.to_type(ScalarType.Float64).unsqueeze(1), scaled }, 1).to_type(ScalarType.Float32);
        return (rois.MoveToOuterDisposeScope(), levels.MoveToOuterDisposeScope());
    }

    /// <summary>All levels padded into one batch (L,C,Hmax,Wmax) (see <see cref="Batching.Pad"/>).</summary>
    public BatchedImages ToBatch(int sizeDivisor = 1, double padValue = 0) =>
        Batching.Pad(Levels.Select(l => l.Image).ToArray(), sizeDivisor, padValue);

    /// <summary>Disposes every level.</summary>
    public void Dispose()
    {
        foreach (var level in Levels)
            level.Dispose();
    }

    private static void CheckBoxes(Tensor boxes)
    {
        ArgumentNullException.ThrowIfNull(boxes);
        if (boxes.dim() != 2 || boxes.shape[1] != 4)
            throw new ArgumentException($"boxes must have shape (R,4), got ({string.Join(",", boxes.shape)}).", nameof(boxes));
    }
}
