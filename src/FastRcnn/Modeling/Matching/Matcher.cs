using FastRcnn.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Modeling.Matching;

/// <summary>
/// Thresholds of a <see cref="Matcher"/>. A box whose max IoU u with the ground truth is ≥
/// <paramref name="ForegroundIoU"/> is foreground; one with u in [<paramref name="BackgroundIoULow"/>,
/// <paramref name="BackgroundIoUHigh"/>) is background; any other is ignored.
/// </summary>
/// <param name="ForegroundIoU">Foreground when u ≥ this (RoI heads 0.5, RPN 0.7).</param>
/// <param name="BackgroundIoULow">Background when u ≥ this … (RoI heads 0.1, RPN 0).</param>
/// <param name="BackgroundIoUHigh">… and u &lt; this (RoI heads 0.5, RPN 0.3).</param>
/// <param name="AllowLowQualityMatches">
/// Also make each ground-truth box's best-overlapping boxes foreground (all ties of its max IoU), whatever
/// their IoU (RPN: true, so every object has at least one positive anchor; RoI heads: false).
/// </param>
public sealed record MatcherOptions(
    double ForegroundIoU,
    double BackgroundIoULow,
    double BackgroundIoUHigh,
    bool AllowLowQualityMatches)
{
    /// <summary>Fast R-CNN's RoI heads (SPEC §5): fg ≥ 0.5, bg [0.1, 0.5), no low-quality matches.</summary>
    public static MatcherOptions RoiHeads { get; } = new(0.5, 0.1, 0.5, false);

    /// <summary>Faster R-CNN's RPN (py-faster-rcnn's anchor_target_layer): fg ≥ 0.7, bg [0, 0.3), low-quality matches on.</summary>
    public static MatcherOptions Rpn { get; } = new(0.7, 0.0, 0.3, true);

    /// <summary>Throws <see cref="ArgumentException"/> unless 0 ≤ bg low ≤ bg high ≤ fg ≤ 1.</summary>
    public void Validate()
    {
        if (!(BackgroundIoULow >= 0 && BackgroundIoULow <= BackgroundIoUHigh && BackgroundIoUHigh <= ForegroundIoU && ForegroundIoU <= 1))
            throw new ArgumentException(
                $"Matcher IoU thresholds need 0 ≤ background low ≤ background high ≤ foreground ≤ 1, got {BackgroundIoULow}, {BackgroundIoUHigh}, {ForegroundIoU}.");
    }
}

/// <summary>Labels of a <see cref="MatchResult"/>: foreground, background, ignored (neither).</summary>
public static class MatchLabel
{
    /// <summary>Foreground (positive).</summary>
    public const long Foreground = 1;

    /// <summary>Background (negative).</summary>
    public const long Background = 0;

    /// <summary>Ignored: neither foreground nor background, never sampled.</summary>
    public const long Ignored = -1;
}

/// <summary>
/// The match of R boxes against G ground-truth boxes (all (R)).
/// </summary>
/// <param name="MatchedGt">
/// int64 index of the ground-truth box of highest IoU with each box (the first one on ties), whatever the
/// label; −1 everywhere when G = 0. Meaningful as a regression target for foreground boxes only.
/// </param>
/// <param name="Labels">int64 <see cref="MatchLabel"/>: 1 foreground, 0 background, −1 ignored.</param>
/// <param name="MaxIoU">float32 IoU with that ground-truth box (0 when G = 0).</param>
public sealed record MatchResult(Tensor MatchedGt, Tensor Labels, Tensor MaxIoU);

/// <summary>
/// Assigns each box (anchor or proposal) to the ground truth, one matcher for the RPN and the RoI heads
/// (py-faster-rcnn's <c>anchor_target_layer</c> / <c>proposal_target_layer</c>, torchvision's <c>Matcher</c>).
/// With u_r = max_g IoU(g, r) and m_r = argmax_g IoU(g, r):
/// <list type="bullet">
/// <item>label 1 (foreground) when u_r ≥ fg;</item>
/// <item>label 0 (background) when bg_low ≤ u_r &lt; bg_high (and not foreground);</item>
/// <item>label −1 (ignored) otherwise;</item>
/// <item>with low-quality matches allowed, for every ground-truth box g with v_g = max_r IoU(g, r) &gt; 0, every
/// box r with IoU(g, r) = v_g (all ties) becomes foreground too. Its matched index stays m_r, its own best
/// ground truth, as in py-faster-rcnn (targets from <c>argmax_overlaps</c>) and torchvision.</item>
/// </list>
/// </summary>
/// <remarks>
/// <para>
/// A ground-truth box that overlaps no box at all (v_g = 0) makes nothing foreground. py-faster-rcnn's
/// <c>np.where(overlaps == gt_max_overlaps)</c> and torchvision's <c>set_low_quality_matches_</c> would then
/// mark every box with IoU 0 with it — possibly all boxes — as foreground, an accident of the tie rule rather than
/// a match: such an object (say, one lying wholly in the ignored border) gets no positive here.
/// </para>
/// <para>
/// G = 0 (an image without objects): every u_r = 0, so boxes are background when bg_low = 0 (the RPN) and
/// ignored otherwise (the RoI heads' 0.1 floor); <see cref="MatchResult.MatchedGt"/> is −1.
/// </para>
/// </remarks>
public sealed class Matcher
{
    /// <summary>A matcher with these thresholds (validated).</summary>
    public Matcher(MatcherOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    public MatcherOptions Options { get; }

    /// <summary>Matches <paramref name="boxes"/> (R,4) against <paramref name="gtBoxes"/> (G,4); G and R may be 0.</summary>
    public MatchResult Match(Tensor boxes, Tensor gtBoxes)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var iou = BoxOps.PairwiseIoU(gtBoxes.to_type(ScalarType.Float32), boxes.to_type(ScalarType.Float32));
        var match = Match(iou);
        return new MatchResult(match.MatchedGt.MoveToOuterDisposeScope(), match.Labels.MoveToOuterDisposeScope(), match.MaxIoU.MoveToOuterDisposeScope());
    }

    /// <summary>Matches from an IoU matrix (G,R): ground truth × boxes; G and R may be 0.</summary>
    public MatchResult Match(Tensor iou)
    {
        if (iou.dim() != 2)
            throw new ArgumentException($"The IoU matrix must be (G,R), got {BoxOps.ShapeText(iou)}.", nameof(iou));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        long g = iou.shape[0], r = iou.shape[1];
        var q = iou.to_type(ScalarType.Float32);
        Tensor maxIoU, matched;
        if (g == 0)
        {
            maxIoU = zeros(r, ScalarType.Float32);
            matched = SafeScalars.Full([r], -1L, ScalarType.Int64);
        }
        else
        {
            (maxIoU, matched) = q.max(0);                                           // (R) each; first index on ties
        }

        using Scalar fg = Options.ForegroundIoU.ToScalar(), bgHigh = Options.BackgroundIoUHigh.ToScalar(), bgLow = Options.BackgroundIoULow.ToScalar();
        var isFg = maxIoU.ge(fg);
        var isBg = maxIoU.lt(bgHigh).logical_and_(maxIoU.ge(bgLow)).logical_and_(isFg.logical_not());
        if (Options.AllowLowQualityMatches && g > 0 && r > 0)
        {
            var (best, _) = q.max(1, keepdim: true);                                // (G,1): v_g
            var lowQuality = q.eq(best).logical_and_(best.gt(SafeScalars.Zero)).any(0);  // (R)
            isFg = isFg.logical_or_(lowQuality);
            isBg = isBg.logical_and_(lowQuality.logical_not());
        }
        var labels = SafeScalars.Full([r], MatchLabel.Ignored, ScalarType.Int64);
        using Scalar one = MatchLabel.Foreground.ToScalar(), zero = MatchLabel.Background.ToScalar();
        labels.masked_fill_(isBg, zero).masked_fill_(isFg, one);
        return new MatchResult(matched.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope(), maxIoU.MoveToOuterDisposeScope());
    }
}
