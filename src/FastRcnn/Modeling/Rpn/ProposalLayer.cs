using FastRcnn.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Modeling.Rpn;

/// <summary>
/// Settings of the <see cref="ProposalLayer"/> for one mode (training or test).
/// </summary>
/// <param name="PreNmsTopN">Boxes kept by objectness before NMS (py-faster-rcnn: 12000 training, 6000 test).</param>
/// <param name="PostNmsTopN">Proposals kept after NMS (2000 training, 300 test).</param>
/// <param name="NmsThreshold">NMS IoU threshold (0.7).</param>
/// <param name="MinSize">Minimum proposal width and height in pixels of the original image (16); multiplied by the image's scale factor.</param>
public sealed record ProposalLayerOptions(int PreNmsTopN = 12000, int PostNmsTopN = 2000, double NmsThreshold = 0.7, double MinSize = 16)
{
    /// <summary>py-faster-rcnn's training settings: 12000 → NMS 0.7 → 2000, min size 16.</summary>
    public static ProposalLayerOptions Training { get; } = new();

    /// <summary>py-faster-rcnn's test settings: 6000 → NMS 0.7 → 300, min size 16.</summary>
    public static ProposalLayerOptions Test { get; } = new(6000, 300);

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad setting.</summary>
    public void Validate()
    {
        if (PreNmsTopN < 1) throw new ArgumentException($"The pre-NMS top N must be positive, got {PreNmsTopN}.");
        if (PostNmsTopN < 1) throw new ArgumentException($"The post-NMS top N must be positive, got {PostNmsTopN}.");
        if (!(NmsThreshold is >= 0 and <= 1)) throw new ArgumentException($"The NMS threshold must lie in [0, 1], got {NmsThreshold}.");
        if (!(MinSize >= 0) || double.IsInfinity(MinSize)) throw new ArgumentException($"The minimum proposal size must be non-negative and finite, got {MinSize}.");
    }
}

/// <summary>
/// The proposal creator (py-faster-rcnn's <c>proposal_layer</c>): turns one image's anchors, objectness logits
/// and box deltas into region proposals:
/// <list type="number">
/// <item>decode every anchor's deltas (<see cref="BoxCoder.Unit"/>: weights 1, dw and dh clamped at log(1000/16));</item>
/// <item>clip the boxes to the image's own H×W (not the padded batch);</item>
/// <item>drop boxes whose width or height is below <c>MinSize · scale</c> (or is NaN);</item>
/// <item>keep the <c>PreNmsTopN</c> of highest objectness (a stable sort of the logits: equal scores keep anchor order);</item>
/// <item>greedy NMS at <c>NmsThreshold</c> (<see cref="Nms.Greedy"/>);</item>
/// <item>keep the first <c>PostNmsTopN</c>.</item>
/// </list>
/// No gradient flows through the proposals (approximate joint training treats them as constants).
/// Shape shorthand: R anchors, P proposals.
/// </summary>
public static class ProposalLayer
{
    /// <summary>
    /// Proposals (P,4) float32 in decreasing objectness and their objectness probabilities σ(logit) (P), for anchors
    /// (R,4), objectness logits (R) and deltas (R,4) of an image of <paramref name="image"/>'s size and scale.
    /// </summary>
    public static (Tensor Boxes, Tensor Scores) Propose(Tensor anchors, Tensor objectness, Tensor deltas, RpnImage image, ProposalLayerOptions options)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(options);
        BoxOps.CheckBoxes(anchors, nameof(anchors));
        long r = anchors.shape[0];
        if (objectness.dim() != 1 || objectness.shape[0] != r)
            throw new ArgumentException($"Objectness must be ({r}), one logit per anchor, got {BoxOps.ShapeText(objectness)}.", nameof(objectness));
        if (deltas.dim() != 2 || deltas.shape[0] != r || deltas.shape[1] != 4)
            throw new ArgumentException($"Deltas must be ({r},4), one per anchor, got {BoxOps.ShapeText(deltas)}.", nameof(deltas));
        image.Validate("proposal layer");
        options.Validate();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var device = anchors.device;
        var a = anchors.detach().to_type(ScalarType.Float32).cpu();
        var d = deltas.detach().to_type(ScalarType.Float32).cpu();
        var logits = objectness.detach().to_type(ScalarType.Float32).cpu();

        var boxes = BoxCoder.Unit.DecodeClipped(d, a, image.Height, image.Width);      // (R,4)
        var keep = BoxOps.RemoveSmall(boxes, (float)(options.MinSize * image.ScaleFactor));
        boxes = boxes.index_select(0, keep);
        logits = logits.index_select(0, keep);
        var order = logits.sort(0, descending: true, stable: true).Indices;
        if (order.shape[0] > options.PreNmsTopN) order = order.narrow(0, 0, options.PreNmsTopN);
        boxes = boxes.index_select(0, order);
        logits = logits.index_select(0, order);
        var kept = Nms.Greedy(boxes, logits, options.NmsThreshold);
        if (kept.shape[0] > options.PostNmsTopN) kept = kept.narrow(0, 0, options.PostNmsTopN);
        var proposals = boxes.index_select(0, kept).to(device);
        var scores = logits.index_select(0, kept).sigmoid().to(device);
        return (proposals.MoveToOuterDisposeScope(), scores.MoveToOuterDisposeScope());
    }
}
