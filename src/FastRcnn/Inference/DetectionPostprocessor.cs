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
/// class-k box; small boxes are dropped; per-class greedy NMS (<see cref="Nms.Batched"/>'s semantics)
/// removes duplicates; the best <see cref="PostprocessOptions.MaxDetections"/> remain. Shape shorthand: R RoIs, K classes.
/// </summary>
/// <remarks>
/// Works on the values directly (one pass to collect the candidates, a sort per class, the NMS kernel), not
/// with a dozen tensor operations on the candidates. Candidates are numbered in row-major (RoI, class) order; ties
/// in score go to the lower number, in the NMS visit order and in the output alike.
/// </remarks>
public static class DetectionPostprocessor
{
    public static DetectionTensors Run(Tensor probabilities, Tensor boxes, PostprocessOptions? options = null)
    {
        options ??= new PostprocessOptions();
        long r = probabilities.shape[0], k1 = probabilities.shape[1];
        if (boxes.dim() != 2 || boxes.shape[0] != r || boxes.shape[1] != 4 * k1)
            throw new ArgumentException($"boxes must be (R, 4(K+1)) = ({r}, {4 * k1}), got [{string.Join(", ", boxes.shape)}]", nameof(boxes));
        using var scope = NewDisposeScope();
        var p = TensorMemory.Span<float>(probabilities.detach().cpu().to_type(ScalarType.Float32).contiguous());
        var b = TensorMemory.Span<float>(boxes.detach().cpu().to_type(ScalarType.Float32).contiguous());

        // Candidates (RoI i, class k ≥ 1) with p > threshold (compared in float32, as torch compares a float tensor
        // with a scalar) and a box at least MinBoxSize wide and tall, in row-major order.
        float threshold = (float)options.ScoreThreshold, minSize = options.MinBoxSize;
        var index = new List<int>();
        for (int i = 0, at = 0; i < r; i++, at += (int)k1)
            for (int k = 1; k < k1; k++)
            {
                int c = at + k;
                if (!(p[c] > threshold)) continue;
                if (b[4 * c + 2] - b[4 * c] >= minSize && b[4 * c + 3] - b[4 * c + 1] >= minSize) index.Add(c);
            }

        // Visit order: by class, then score descending, then candidate number: each class's segment sorted by
        // 64-bit keys (descending score above, candidate number below).
        int m = index.Count;
        var start = new int[k1 + 1];
        foreach (int c in index) start[c % k1 + 1]++;
        for (int k = 1; k <= k1; k++) start[k] += start[k - 1];
        var visit = new ulong[m];
        var fill = start[..^1];
        foreach (int c in index) visit[fill[c % k1]++] = ScoreFirstKey(p[c], c);
        for (int k = 1; k < k1; k++) Array.Sort(visit, start[k], start[k + 1] - start[k]);
        var soa = new float[4 * m];
        var classes = new long[m];
        for (int q = 0; q < m; q++)
        {
            int c = (int)(uint)visit[q];
            for (int j = 0; j < 4; j++) soa[j * m + q] = b[4 * c + j];
            classes[q] = c % k1;
        }
        var suppressed = Nms.SuppressInOrder(soa, m, classes, options.NmsThreshold);
        // The output: the kept ones by score descending, then candidate number.
        var kept = visit.Where((_, q) => suppressed[q] == 0).ToArray();
        Array.Sort(kept);
        int count = Math.Min(kept.Length, Math.Max(options.MaxDetections, 0));

        var outBoxes = new float[4 * count];
        var outScores = new float[count];
        var outClasses = new long[count];
        for (int q = 0; q < count; q++)
        {
            int c = (int)(uint)kept[q];
            for (int j = 0; j < 4; j++) outBoxes[4 * q + j] = b[4 * c + j];
            outScores[q] = p[c];
            outClasses[q] = c % k1;
        }
        return new DetectionTensors(tensor(outBoxes).reshape(count, 4).MoveToOuterDisposeScope(),
            tensor(outScores).MoveToOuterDisposeScope(), tensor(outClasses).MoveToOuterDisposeScope());
    }

    /// <summary>A key that sorts by <paramref name="score"/> descending (−0 = +0), then by <paramref name="candidate"/> ascending.</summary>
    private static ulong ScoreFirstKey(float score, int candidate)
    {
        uint bits = BitConverter.SingleToUInt32Bits(score == 0 ? 0f : score);
        uint ascending = (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;   // increases with the score
        return (ulong)~ascending << 32 | (uint)candidate;
    }
}
