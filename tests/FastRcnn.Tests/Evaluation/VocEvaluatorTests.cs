using FastRcnn.Evaluation;
using static FastRcnn.Tests.Evaluation.EvaluationTestData;

namespace FastRcnn.Tests.Evaluation;

public class VocEvaluatorTests
{
    private static readonly FastRcnn.Data.BoundingBox A = Box(0, 0, 10, 10), B = Box(50, 50, 70, 80), C = Box(20, 60, 40, 90);

    [Theory]
    [InlineData(VocApMetric.ElevenPoint)]
    [InlineData(VocApMetric.Area)]
    public void Perfect_detections_give_AP_1(VocApMetric metric)
    {
        var images = new[] { Image("a", Object(1, A), Object(2, B)), Image("b", Object(1, C)) };
        var dets = new[] { Det("a", 1, 0.9f, A), Det("a", 2, 0.8f, B), Det("b", 1, 0.7f, C) };
        var result = VocEvaluator.Evaluate(images, dets, numClasses: 2, metric);
        Assert.All(result.Classes, c => Assert.Equal(1.0, c.Ap, 12));
        Assert.Equal(1.0, result.MeanAp, 12);
    }

    [Fact]
    public void A_duplicate_is_a_false_positive_and_the_two_metrics_differ_as_computed_by_hand()
    {
        // Two objects; detections by score: A (TP), A again (duplicate: FP), B (TP).
        // recall 0.5, 0.5, 1; precision 1, 1/2, 2/3.
        var images = new[] { Image("a", Object(1, A), Object(1, B)) };
        var dets = new[] { Det("a", 1, 0.9f, A), Det("a", 1, 0.8f, A), Det("a", 1, 0.7f, B) };
        var eleven = VocEvaluator.Evaluate(images, dets, 1, VocApMetric.ElevenPoint).Classes[0];
        var area = VocEvaluator.Evaluate(images, dets, 1, VocApMetric.Area).Classes[0];
        Assert.Equal(new[] { 0.5, 0.5, 1.0 }, eleven.Recall);
        Assert.Equal(new[] { 1.0, 0.5, 2.0 / 3 }, eleven.Precision);
        // 11-point: t = 0 … 0.5 see precision 1 (6 points), t = 0.6 … 1 see 2/3 (5 points).
        Assert.Equal((6 * 1.0 + 5 * 2.0 / 3) / 11, eleven.Ap, 12);
        // Area: recall 0 → 0.5 at precision 1, then 0.5 → 1 at the envelope's 2/3.
        Assert.Equal(0.5 * 1 + 0.5 * 2.0 / 3, area.Ap, 12);
        Assert.NotEqual(eleven.Ap, area.Ap, 6);
    }

    [Fact]
    public void Difficult_objects_are_neither_true_nor_false_positives_nor_positives()
    {
        var images = new[] { Image("a", Object(1, A), Object(1, B, difficult: true)) };
        var dets = new[] { Det("a", 1, 0.95f, B), Det("a", 1, 0.9f, A) };
        var c = VocEvaluator.Evaluate(images, dets, 1).Classes[0];
        Assert.Equal(1, c.Positives);
        Assert.Equal(1, c.Detections);       // the detection of the difficult object is not scored
        Assert.Equal(1.0, c.Ap, 12);
    }

    [Fact]
    public void A_class_without_detections_scores_0_and_a_class_without_objects_is_left_out_of_the_mean()
    {
        var images = new[] { Image("a", Object(1, A), Object(2, B)) };
        var dets = new[] { Det("a", 1, 0.9f, A), Det("a", 3, 0.9f, C) };  // nothing for class 2; class 3 has no objects
        var result = VocEvaluator.Evaluate(images, dets, numClasses: 3);
        Assert.Equal(1.0, result.Classes[0].Ap, 12);
        Assert.Equal(0.0, result.Classes[1].Ap, 12);
        Assert.True(double.IsNaN(result.Classes[2].Ap));
        Assert.Equal(0.5, result.MeanAp, 12);
    }

    [Fact]
    public void IoU_of_exactly_the_threshold_is_a_match()
    {
        var images = new[] { Image("a", Object(1, A)) };
        var half = Box(0, 0, 10, 5);  // IoU 50 / 100 = 0.5 exactly
        Assert.Equal(1.0, VocEvaluator.Evaluate(images, [Det("a", 1, 0.9f, half)], 1).Classes[0].Ap, 12);
        var less = Box(0, 0, 10, 4.99f);
        Assert.Equal(0.0, VocEvaluator.Evaluate(images, [Det("a", 1, 0.9f, less)], 1).Classes[0].Ap, 12);
    }

    [Fact]
    public void Detections_of_another_class_or_image_do_not_match()
    {
        var images = new[] { Image("a", Object(1, A)), Image("b", Object(1, B)) };
        var dets = new[] { Det("b", 1, 0.9f, A), Det("a", 2, 0.8f, A) };
        var result = VocEvaluator.Evaluate(images, dets, 2);
        Assert.Equal(0.0, result.Classes[0].Ap, 12);
        Assert.Throws<ArgumentException>(() => VocEvaluator.Evaluate(images, [Det("zz", 1, 0.5f, A)], 2));
    }
}
