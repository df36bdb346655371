using FastRcnn.Ops;
using static TorchSharp.torch;

namespace FastRcnn.Inference;

/// <summary>Test-time settings of SPEC §6, with the paper's code defaults.</summary>
/// <param name="ScoreThreshold">Keep a class's box only when its probability exceeds this (0.05).</param>
/// <param name="NmsThreshold">Per-class greedy NMS: suppress IoU &gt; this (0.3).</param>
/// <param name="MaxDetections">At most this many detections per image, best first (100).</param>
/// <param name="MinBoxSize">Drop boxes narrower or shorter than this many pixels after clipping (0.01).</param>
public sealed record PostprocessOptions(
    double ScoreThreshold = 0.05,
    double NmsThreshold = 0.3,
    int MaxDetections = 100,
    float MinBoxSize = 0.01f);

/// <summary>Detections of one image: boxes (D,4), scores (D), classes (D) int64 in 1..K, best first.</summary>
public sealed record DetectionTensors(Tensor Boxes, Tensor Scores, Tensor Classes) : IDisposable
{
    public long Count => Scores.shape[0];

    public void Dispose()
    {
        Boxes.Dispose();
        Scores.Dispose();
        Classes.Dispose();
    }
}

/// <summary>
/// From per-RoI class probabilities (R, K+1) and class-specific boxes (R, 4(K+1)) to an image's
/// detections: for every object class k ≥ 1, the RoIs whose p_k exceeds the score threshold keep their
/// class-k box; small boxes are dropped; per-class NMS (<see cref="Nms.Batched"/>) removes duplicates;
/// the best <see cref="PostprocessOptions.MaxDetections"/> remain. Shape shorthand: R RoIs, K classes.
/// </summary>
public static class DetectionPostprocessor
{
    public static DetectionTensors Run(Tensor probabilities, Tensor boxes, PostprocessOptions? options = null)
    {
        options ??= new PostprocessOptions();
        long r = probabilities.shape[0], k1 = probabilities.shape[1];
        if (boxes.dim() != 2 || boxes.shape[0] != r || boxes.shape[1] != 4 * k1)
            throw new ArgumentException($"boxes must be (R, 4(K+1)) = ({r}, {4 * k1}), got [{string.Join(", ", boxes.shape)}]", nameof(boxes));
        using var scope = NewDisposeScope();
        var objectScores = probabilities[.., 1..];                                   // (R,K)
        var candidates = objectScores.gt(options.ScoreThreshold).nonzero();          // (M,2) rows (r, k-1)
        var rowIndex = candidates[.., 0];
        var classes = candidates[.., 1] + 1;                                         // 1..K
        var scores = objectScores[rowIndex, candidates[.., 1]];
        var perClass = boxes.reshape(r, k1, 4);
        var candidateBoxes = perClass[rowIndex, classes];                            // (M,4)
        var width = candidateBoxes[.., 2] - candidateBoxes[.., 0];
        var height = candidateBoxes[.., 3] - candidateBoxes[.., 1];
        var large = (width.ge(options.MinBoxSize) & height.ge(options.MinBoxSize)).nonzero().squeeze(1);
        candidateBoxes = candidateBoxes.index_select(0, large);
        scores = scores.index_select(0, large);
        classes = classes.index_select(0, large);
        var keep = Nms.Batched(candidateBoxes, scores, classes, options.NmsThreshold);
        if (keep.shape[0] > options.MaxDetections) keep = keep[..options.MaxDetections];
        return new DetectionTensors(
            candidateBoxes.index_select(0, keep).MoveToOuterDisposeScope(),
            scores.index_select(0, keep).MoveToOuterDisposeScope(),
            classes.index_select(0, keep).MoveToOuterDisposeScope());
    }
}
