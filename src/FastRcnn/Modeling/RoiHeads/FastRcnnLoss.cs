using FastRcnn.Ops;
using static TorchSharp.torch;

namespace FastRcnn.Modeling.RoiHeads;

/// <summary>The multi-task loss of a mini-batch (scalars): <c>Total = Classification + λ·BoxRegression</c>.</summary>
public sealed record FastRcnnLosses(Tensor Classification, Tensor BoxRegression, Tensor Total);

/// <summary>
/// Fast R-CNN's multi-task loss (SPEC §5) over the R sampled RoIs of a mini-batch:
/// <c>L = (1/R) Σ_r [ −log p_{u_r} + λ·[u_r ≥ 1]·Σ_{i∈x,y,w,h} smoothL1(t^{u_r}_i − v_i) ]</c>, with
/// <c>smoothL1(x) = 0.5x²</c> for |x| &lt; 1 (β = 1), else <c>|x| − 0.5</c>. Only the true class's four
/// deltas of foreground RoIs enter the box term, and it is divided by R, all RoIs of the batch, not by
/// the foreground count (the original's normalisation), so a batch without foreground has box loss 0.
/// Shape shorthand: R RoIs, K object classes.
/// </summary>
public static class FastRcnnLoss
{
    /// <summary>
    /// Losses of class logits (R, K+1) and box deltas (R, 4(K+1)) against classes (R) int64 and the
    /// regression targets and weights (R, 4(K+1)) of <see cref="RegressionTargets.Encode"/>; λ =
    /// <paramref name="boxLossWeight"/> (1). R must be positive.
    /// </summary>
    public static FastRcnnLosses Compute(
        Tensor classLogits, Tensor boxDeltas, Tensor gtClasses, Tensor regressionTargets, Tensor regressionWeights,
        double boxLossWeight = 1)
    {
        long r = classLogits.shape[0];
        if (r == 0) throw new ArgumentException("The loss needs at least one RoI; skip batches whose images gave none.");
        if (classLogits.dim() != 2 || boxDeltas.dim() != 2 || boxDeltas.shape[0] != r || boxDeltas.shape[1] != 4 * classLogits.shape[1])
            throw new ArgumentException(
                $"Class logits (R,K+1) and box deltas (R,4(K+1)) disagree: {BoxOps.ShapeText(classLogits)} and {BoxOps.ShapeText(boxDeltas)}.");
        if (!regressionTargets.shape.SequenceEqual(boxDeltas.shape) || !regressionWeights.shape.SequenceEqual(boxDeltas.shape))
            throw new ArgumentException(
                $"Regression targets {BoxOps.ShapeText(regressionTargets)} and weights {BoxOps.ShapeText(regressionWeights)} must match the deltas {BoxOps.ShapeText(boxDeltas)}.");
        using var scope = NewDisposeScope();
        var classification = nn.functional.cross_entropy(classLogits, gtClasses.to_type(int64), reduction: nn.Reduction.Mean);
        var boxSum = nn.functional.smooth_l1_loss(boxDeltas * regressionWeights, regressionTargets * regressionWeights,
            reduction: nn.Reduction.Sum, beta: 1.0);
        var box = boxSum.Div(r);
        var total = classification.Add(box.Mul(boxLossWeight));
        return new FastRcnnLosses(classification.MoveToOuterDisposeScope(), box.MoveToOuterDisposeScope(), total.MoveToOuterDisposeScope());
    }
}
