using FastRcnn.Inference;
using static FastRcnn.Tests.Ops.OpsTestData;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Inference;

public class DetectionPostprocessorTests
{
    // Three RoIs, K = 2. Class-specific boxes: block 0 (background) unused.
    private static readonly float[] Probabilities =
    [
        0.10f, 0.80f, 0.10f,   // RoI 0: class 1
        0.20f, 0.70f, 0.10f,   // RoI 1: class 1, overlaps RoI 0's class-1 box heavily
        0.50f, 0.04f, 0.46f,   // RoI 2: class 2 (class 1 below the 0.05 threshold)
    ];

    private static readonly float[] Boxes =
    [
        0, 0, 0, 0,   10, 10, 50, 50,   10, 10, 50, 50,
        0, 0, 0, 0,   12, 12, 52, 52,   60, 60, 90, 90,
        0, 0, 0, 0,   11, 11, 51, 51,   12, 12, 52, 52,
    ];

    [Fact]
    public void Thresholds_then_per_class_NMS_then_best_first()
    {
        using var scope = NewDisposeScope();
        using var d = DetectionPostprocessor.Run(tensor(Probabilities).reshape(3, 3), tensor(Boxes).reshape(3, 12));
        // Class 1: RoI 0 (0.80) suppresses RoI 1 (0.70, IoU ≈ 0.82); RoI 2 is under 0.05 for class 1.
        // Class 2: RoI 2 (0.46) kept, RoI 0 (0.10) overlaps it (IoU ≈ 0.9) and goes; RoI 1 (0.10) is elsewhere.
        Assert.Equal(new long[] { 1, 2, 2 }, d.Classes.data<long>().ToArray());
        Assert.Equal(new[] { 0.80f, 0.46f, 0.10f }, d.Scores.data<float>().ToArray());
        Assert.Equal(new float[] { 10, 10, 50, 50, 12, 12, 52, 52, 60, 60, 90, 90 }, d.Boxes.data<float>().ToArray());
    }

    [Fact]
    public void Score_threshold_and_maximum_count_are_honoured()
    {
        using var scope = NewDisposeScope();
        var options = new PostprocessOptions(ScoreThreshold: 0.45, MaxDetections: 1);
        using var d = DetectionPostprocessor.Run(tensor(Probabilities).reshape(3, 3), tensor(Boxes).reshape(3, 12), options);
        Assert.Equal(1, d.Count);
        Assert.Equal(0.80f, d.Scores.item<float>());
        using var none = DetectionPostprocessor.Run(tensor(Probabilities).reshape(3, 3), tensor(Boxes).reshape(3, 12), new(ScoreThreshold: 0.9));
        Assert.Equal(0, none.Count);
    }

    [Fact]
    public void Degenerate_boxes_are_dropped()
    {
        using var scope = NewDisposeScope();
        var boxes = tensor(new float[] { 0, 0, 0, 0, 5, 5, 5, 9 }).reshape(1, 8);   // zero width
        using var d = DetectionPostprocessor.Run(tensor(new[] { 0.1f, 0.9f }).reshape(1, 2), boxes);
        Assert.Equal(0, d.Count);
    }

    [Theory]
    [InlineData(1, 0.05, 0.3, 100, 0f)]
    [InlineData(2, 0.05, 0.5, 20, 0f)]
    [InlineData(3, 0.0, 0.3, 1000, 0f)]
    [InlineData(4, -1.0, 0.3, 1000, -0.5f)]   // scores of either sign
    public void Matches_per_class_naive_NMS_on_many_tied_candidates(int seed, double threshold, double iou, int max, float shift)
    {
        using var scope = NewDisposeScope();
        var rng = new Random(seed);
        const int r = 400, k1 = 6;
        // Scores from a few levels (many ties), boxes clustered (much overlap), some degenerate.
        var probabilities = Scores(rng, r * k1, levels: 12).Select(v => v + shift).ToArray();
        var boxes = ClusteredBoxes(rng, r * k1, centres: 15, spread: 20);
        for (int i = 0; i < boxes.Length; i += 4 * 37) boxes[i + 2] = boxes[i];
        var options = new PostprocessOptions(threshold, iou, max);
        using var d = DetectionPostprocessor.Run(tensor(probabilities).reshape(r, k1), tensor(boxes).reshape(r, 4 * k1), options);

        // The reference: candidates (i, k ≥ 1) numbered row-major, filtered, per-class naive NMS, best first, cut.
        var candidates = Enumerable.Range(0, r * k1).Where(c => c % k1 != 0 && probabilities[c] > (float)threshold
            && boxes[4 * c + 2] - boxes[4 * c] >= options.MinBoxSize && boxes[4 * c + 3] - boxes[4 * c + 1] >= options.MinBoxSize).ToArray();
        var candidateBoxes = candidates.SelectMany(c => boxes.Skip(4 * c).Take(4)).ToArray();
        var keep = NaiveBatched(candidateBoxes, candidates.Select(c => probabilities[c]).ToArray(),
            candidates.Select(c => (long)(c % k1)).ToArray(), iou).Take(max).Select(q => candidates[q]).ToArray();

        Assert.True(keep.Length > 10);
        Assert.Equal(keep.Select(c => (long)(c % k1)), Longs(d.Classes));
        Assert.Equal(keep.Select(c => probabilities[c]), Floats(d.Scores));
        Assert.Equal(keep.SelectMany(c => boxes.Skip(4 * c).Take(4)), Floats(d.Boxes));
    }
}
