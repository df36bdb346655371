using TorchSharp;
using FastRcnn.Ops;
using static TorchSharp.torch;

namespace FastRcnn.Modeling.RoiHeads;

/// <summary>
/// Class-specific box-regression targets of sampled RoIs (SPEC §5), laid out like the predictor's
/// <c>bbox_pred</c> output (R, 4(K+1)): for a foreground RoI of class u, columns 4u..4u+3 hold the
/// <see cref="BoxCoder"/> encoding of its matched ground truth relative to the RoI,
/// <c>(tx, ty, tw, th)</c> multiplied by the coder's weights (the normalisation; <see cref="BoxCoder.FixedStd"/>
/// divides by the stds 0.1, 0.1, 0.2, 0.2). Every other entry, and every background row, is 0.
/// The weights (the original's <c>bbox_inside_weights</c>) are 1 exactly where a target is set.
/// Shape shorthand: R RoIs, K object classes.
/// </summary>
public static class RegressionTargets
{
    /// <summary>
    /// Targets and weights, both (R, 4(K+1)) float32, for RoIs <paramref name="proposalBoxes"/> (R,4) with
    /// matched ground truth <paramref name="matchedGtBoxes"/> (R,4) and classes <paramref name="gtClasses"/>
    /// (R) int64 in 0..K (0 = background: no target).
    /// </summary>
    public static (Tensor Targets, Tensor Weights) Encode(
        BoxCoder coder, Tensor proposalBoxes, Tensor matchedGtBoxes, Tensor gtClasses, int numClasses)
    {
        ArgumentNullException.ThrowIfNull(coder);
        long r = proposalBoxes.shape[0];
        if (matchedGtBoxes.shape[0] != r || gtClasses.dim() != 1 || gtClasses.shape[0] != r)
            throw new ArgumentException(
                $"Need one matched box and class per RoI: {r} RoIs, {matchedGtBoxes.shape[0]} boxes, classes {BoxOps.ShapeText(gtClasses)}.");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var targets = zeros(r, 4 * (numClasses + 1), float32);
        var weights = zeros(r, 4 * (numClasses + 1), float32);
        using var zero = 0.ToScalar();
        var fg = gtClasses.gt(zero).nonzero().reshape(-1);                    // (F)
        if (fg.shape[0] > 0)
        {
            var deltas = coder.Encode(proposalBoxes.index_select(0, fg).to_type(float32),
                matchedGtBoxes.index_select(0, fg).to_type(float32));          // (F,4)
            var columns = gtClasses.index_select(0, fg).to_type(int64).Mul(4).unsqueeze(1).Add(SafeScalars.Arange(4, dtype: int64)); // (F,4)
            var rowsTargets = zeros(fg.shape[0], 4 * (numClasses + 1), float32).scatter_(1, columns, deltas);
            var rowsWeights = zeros(fg.shape[0], 4 * (numClasses + 1), float32).scatter_(1, columns, ones_like(deltas));
            targets.index_copy_(0, fg, rowsTargets);
            weights.index_copy_(0, fg, rowsWeights);
        }
        return (targets.MoveToOuterDisposeScope(), weights.MoveToOuterDisposeScope());
    }
}
