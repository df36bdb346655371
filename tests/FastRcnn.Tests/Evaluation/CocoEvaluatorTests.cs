using FastRcnn.Evaluation;
using static FastRcnn.Tests.Evaluation.EvaluationTestData;

namespace FastRcnn.Tests.Evaluation;

public class CocoEvaluatorTests
{
    private static readonly FastRcnn.Data.BoundingBox A = Box(0, 0, 10, 10), B = Box(50, 50, 70, 80);

    [Fact]
    public void One_detection_at_IoU_0_64_counts_at_thresholds_0_50_0_55_and_0_60_only()
    {
        var images = new[] { Image("a", Object(1, A)) };
        var result = CocoEvaluator.Evaluate(images, [Det("a", 1, 0.9f, Box(0, 0, 10, 6.4f))], 1);
        Assert.Equal(0.3, result.Ap, 9);     // 3 of 10 thresholds with precision 1 at every recall point
        Assert.Equal(1.0, result.Ap50, 9);
        Assert.Equal(0.0, result.Ap75, 9);
        Assert.Equal(0.3, result.Ar100, 9);
    }

    [Fact]
    public void Precision_is_read_at_101_recall_points_of_the_envelope()
    {
        // Two objects; detections TP, FP, TP: recall 0.5, 0.5, 1; envelope precision 1, 2/3, 2/3.
        // Recall points 0 … 0.50 (51 of them) read 1; 0.51 … 1 (50) read 2/3.
        var images = new[] { Image("a", Object(1, A), Object(1, B)) };
        var dets = new[] { Det("a", 1, 0.9f, A), Det("a", 1, 0.8f, Box(80, 0, 90, 10)), Det("a", 1, 0.7f, B) };
        var result = CocoEvaluator.Evaluate(images, dets, 1);
        Assert.Equal((51 + 50 * 2.0 / 3) / 101, result.Ap, 9);
        Assert.Equal(result.Ap, result.Ap50, 9);
        Assert.Equal(1.0, result.Ar100, 9);
    }

    [Fact]
    public void A_detection_inside_a_crowd_region_is_ignored_not_a_false_positive()
    {
        var crowd = Box(40, 40, 100, 100);
        var images = new[] { Image("a", Object(1, A), Object(1, crowd, crowd: true)) };
        var dets = new[] { Det("a", 1, 0.95f, Box(60, 60, 70, 70)), Det("a", 1, 0.9f, A) };
        Assert.Equal(1.0, CocoEvaluator.Evaluate(images, dets, 1).Ap, 9);

        var noCrowd = new[] { Image("a", Object(1, A)) };   // the same first detection is now a false positive
        Assert.True(CocoEvaluator.Evaluate(noCrowd, dets, 1).Ap < 0.6);
    }

    [Fact]
    public void At_most_maxDetections_per_image_and_class_are_scored()
    {
        var images = new[] { Image("a", Object(1, A)) };
        var dets = Enumerable.Range(0, 3).Select(i => Det("a", 1, 0.9f - i * 0.1f, Box(80, 80, 90, 90)))
            .Append(Det("a", 1, 0.1f, A)).ToArray();
        Assert.Equal(0.0, CocoEvaluator.Evaluate(images, dets, 1, maxDetections: 3).Ap, 9);
        Assert.True(CocoEvaluator.Evaluate(images, dets, 1, maxDetections: 4).Ap > 0.2);
    }

    [Fact]
    public void Classes_without_ground_truth_are_left_out()
    {
        var images = new[] { Image("a", Object(1, A)) };
        var result = CocoEvaluator.Evaluate(images, [Det("a", 1, 0.9f, A), Det("a", 2, 0.9f, B)], 2);
        Assert.Equal(1.0, result.Ap, 9);
        Assert.True(double.IsNaN(result.PerClassAp[1]));
    }
}
