using FastRcnn.Modeling.Matching;
using FastRcnn.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Modeling.Rpn;

/// <summary>
/// One image's RPN training targets (the anchor target creator; py-faster-rcnn's <c>anchor_target_layer</c>):
/// the sampled anchors, positives first, and the regression targets of the positives.
/// Shape shorthand: R anchors, F positives and B negatives sampled, S = F + B.
/// </summary>
/// <param name="Positive">(F) int64 indices of the positive anchors sampled.</param>
/// <param name="Negative">(B) int64 indices of the negative anchors sampled.</param>
/// <param name="BoxTargets">(F,4) float32 deltas (tx, ty, tw, th) of each positive's matched ground truth, unnormalised (<see cref="BoxCoder.Unit"/>).</param>
/// <param name="Labels">(R) int64 label of every anchor before sampling: 1 positive, 0 negative, −1 ignored (crossing the border or between the thresholds).</param>
public sealed record AnchorTargets(Tensor Positive, Tensor Negative, Tensor BoxTargets, Tensor Labels)
{
    /// <summary>F, the positives sampled.</summary>
    public int PositiveCount => (int)Positive.shape[0];

    /// <summary>S = F + B, the anchors sampled.</summary>
    public int SampledCount => (int)(Positive.shape[0] + Negative.shape[0]);

    /// <summary>(S) int64: the positives' indices, then the negatives'.</summary>
    public Tensor SampledIndices() => cat([Positive, Negative], 0);

    /// <summary>(S) float32 objectness targets of <see cref="SampledIndices"/>: F ones, then B zeros.</summary>
    public Tensor SampledLabels() =>
        cat([ones(Positive.shape[0], ScalarType.Float32, Positive.device), zeros(Negative.shape[0], ScalarType.Float32, Negative.device)], 0);

    /// <summary>
    /// The targets of one image (Faster R-CNN §3.1.2): anchors that cross the image's border by more than
    /// <paramref name="allowedBorder"/> pixels are ignored (border 0: kept only when x1 ≥ 0, y1 ≥ 0, x2 ≤ W, y2 ≤ H,
    /// as py-faster-rcnn's <c>_allowed_border</c> = 0 with its inclusive x2 &lt; W); <paramref name="matcher"/> labels the
    /// rest against the ground truth (RPN: positive at IoU ≥ 0.7 or the best anchor of a ground-truth box, negative
    /// below 0.3; the best anchors are those inside the border); <paramref name="sampler"/> draws the mini-batch
    /// (256 anchors, up to half positive). An image without objects (G = 0) gets only negatives.
    /// </summary>
    /// <param name="anchors">(R,4) the image's anchors (<see cref="AnchorGenerator.Anchors"/>), scaled-image pixels.</param>
    /// <param name="height">H of the scaled image (unpadded).</param>
    /// <param name="width">W of the scaled image (unpadded).</param>
    /// <param name="gtBoxes">(G,4) the non-ignored ground-truth boxes in scaled-image pixels; G may be 0.</param>
    /// <param name="matcher">Labels anchors (<see cref="MatcherOptions.Rpn"/>).</param>
    /// <param name="sampler">Draws the mini-batch (<see cref="BalancedSamplerOptions.Rpn"/>).</param>
    /// <param name="allowedBorder">Pixels an anchor may cross the border by (0).</param>
    public static AnchorTargets Create(Tensor anchors, long height, long width, Tensor gtBoxes, Matcher matcher, BalancedSampler sampler,
        double allowedBorder = 0)
    {
        ArgumentNullException.ThrowIfNull(matcher);
        ArgumentNullException.ThrowIfNull(sampler);
        BoxOps.CheckBoxes(anchors, nameof(anchors));
        BoxOps.CheckBoxes(gtBoxes, nameof(gtBoxes));
        if (height < 1 || width < 1) throw new ArgumentException($"Image size must be positive, got {height}x{width} (HxW).");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var a = anchors.to_type(ScalarType.Float32);
        var gt = gtBoxes.to_type(ScalarType.Float32).to(a.device);
        var c = a.unbind(1);
        using Scalar low = (-allowedBorder).ToScalar(), right = (width + allowedBorder).ToScalar(), bottom = (height + allowedBorder).ToScalar();
        var inside = c[0].ge(low).logical_and_(c[1].ge(low)).logical_and_(c[2].le(right)).logical_and_(c[3].le(bottom))
            .nonzero().reshape(-1);                                                    // (R_in)

        var match = matcher.Match(a.index_select(0, inside), gt);
        var labels = SafeScalars.Full([a.shape[0]], MatchLabel.Ignored, ScalarType.Int64).to(a.device);
        labels.index_copy_(0, inside, match.Labels);
        var drawn = sampler.Sample(match.Labels);
        var positive = inside.index_select(0, drawn.Positive);
        var negative = inside.index_select(0, drawn.Negative);
        var targets = drawn.PositiveCount == 0
            ? zeros(0, 4, ScalarType.Float32, a.device)
            : BoxCoder.Unit.Encode(a.index_select(0, positive), gt.index_select(0, match.MatchedGt.index_select(0, drawn.Positive)));
        return new AnchorTargets(positive.MoveToOuterDisposeScope(), negative.MoveToOuterDisposeScope(),
            targets.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope());
    }
}
