using FastRcnn.Ops;
using static TorchSharp.torch;

namespace FastRcnn.Modeling.Rpn;

/// <summary>
/// The RPN's two losses (Faster R-CNN eq. 1, as py-faster-rcnn trains it) over the S anchors sampled from a batch
/// (F positives among them):
/// <list type="bullet">
/// <item><c>loss_rpn_cls = (1/S) Σ_s BCE(σ(o_s), p*_s)</c>: binary cross-entropy of the objectness logits against
/// 1 (positive) / 0 (negative), the mean over the sampled anchors;</item>
/// <item><c>loss_rpn_box_reg = (1/S) Σ_{positives} Σ_{i∈x,y,w,h} smoothL1_σ(t_i − t*_i)</c> with σ = 3:
/// <c>0.5·σ²·x²</c> if |x| &lt; 1/σ², else <c>|x| − 0.5/σ²</c> (torch's <c>smooth_l1_loss</c> with β = 1/σ² = 1/9),
/// summed over the positives' four coordinates and divided by S, all sampled anchors (py-faster-rcnn's
/// <c>bbox_outside_weights</c> = 1/S), not by F.</item>
/// </list>
/// With S = 0 (no anchor could be sampled) both are 0, still connected to the graph.
/// </summary>
public static class RpnLoss
{
    /// <summary>Name of the objectness loss.</summary>
    public const string ClassificationName = "loss_rpn_cls";

    /// <summary>Name of the box-regression loss.</summary>
    public const string BoxRegressionName = "loss_rpn_box_reg";

    /// <summary>The default σ of the box loss (py-faster-rcnn's <c>rpn_loss_bbox</c>: sigma 3).</summary>
    public const double DefaultSigma = 3;

    /// <summary>
    /// The two losses (scalars) of the sampled anchors' objectness logits <paramref name="objectness"/> (S) against
    /// <paramref name="labels"/> (S) 1/0, and of the positives' deltas <paramref name="positiveDeltas"/> (F,4) against
    /// <paramref name="boxTargets"/> (F,4).
    /// </summary>
    public static IReadOnlyDictionary<string, Tensor> Compute(Tensor objectness, Tensor labels, Tensor positiveDeltas, Tensor boxTargets,
        double sigma = DefaultSigma)
    {
        if (objectness.dim() != 1 || labels.dim() != 1 || labels.shape[0] != objectness.shape[0])
            throw new ArgumentException($"Objectness and labels must both be (S), got ({string.Join(",", objectness.shape)}) and ({string.Join(",", labels.shape)}).");
        if (positiveDeltas.dim() != 2 || positiveDeltas.shape[1] != 4 || !positiveDeltas.shape.SequenceEqual(boxTargets.shape))
            throw new ArgumentException($"Positive deltas and box targets must both be (F,4), got ({string.Join(",", positiveDeltas.shape)}) and ({string.Join(",", boxTargets.shape)}).");
        if (positiveDeltas.shape[0] > objectness.shape[0])
            throw new ArgumentException($"More positives ({positiveDeltas.shape[0]}) than sampled anchors ({objectness.shape[0]}).");
        if (!(sigma > 0)) throw new ArgumentException($"Sigma must be positive, got {sigma}.", nameof(sigma));
        using var scope = NewDisposeScope();
        long s = objectness.shape[0];
        Tensor cls, box;
        if (s == 0)
        {
            cls = objectness.sum();
            box = positiveDeltas.sum();
        }
        else
        {
            cls = nn.functional.binary_cross_entropy_with_logits(objectness, labels.to_type(objectness.dtype), reduction: nn.Reduction.Mean);
            box = nn.functional.smooth_l1_loss(positiveDeltas, boxTargets.to_type(positiveDeltas.dtype), reduction: nn.Reduction.Sum,
                beta: 1.0 / (sigma * sigma)).Div(s);
        }
        return new Dictionary<string, Tensor>
        {
            [ClassificationName] = cls.MoveToOuterDisposeScope(),
            [BoxRegressionName] = box.MoveToOuterDisposeScope(),
        };
    }
}
