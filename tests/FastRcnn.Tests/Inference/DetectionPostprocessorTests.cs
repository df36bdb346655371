using FastRcnn.Inference;
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
}
