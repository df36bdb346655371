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

    [Fact]
    public void Recall_of_exactly_0_3_does_not_reach_voc_evals_threshold_0_30000000000000004()
    {
        // Ten objects; by score: TP, TP, TP, FP, FP, FP, TP. Recall 0.1, 0.2, 0.3, 0.3, 0.3, 0.3, 0.4;
        // precision 1, 1, 1, 3/4, 3/5, 3/6, 4/7. voc_eval.py's thresholds are np.arange(0., 1.1, 0.1):
        // 0, 0.1, 0.2 see precision 1; 0.30000000000000004 > 3/10 = 0.3, so it and 0.4 see only 4/7;
        // 0.5 … 1 see nothing. ap = ap + p / 11 in that order: 3 · (1/11) + 2 · ((4/7)/11) = 29/77.
        // (Exact tenths would let t = 0.3 see precision 1: 32/77.)
        var objects = Enumerable.Range(0, 10).Select(i => Object(1, Box(i * 10, 0, i * 10 + 8, 8))).ToArray();
        var images = new[] { Image("a", objects) };
        var miss = Box(0, 50, 8, 58);
        var dets = new[]
        {
            Det("a", 1, 0.9f, objects[0].Box), Det("a", 1, 0.8f, objects[1].Box), Det("a", 1, 0.7f, objects[2].Box),
            Det("a", 1, 0.6f, miss), Det("a", 1, 0.5f, miss), Det("a", 1, 0.4f, miss), Det("a", 1, 0.3f, objects[3].Box),
        };
        var c = VocEvaluator.Evaluate(images, dets, 1).Classes[0];
        Assert.Equal(0.3, c.Recall[2]);
        double expected = 0;
        foreach (double p in new[] { 1.0, 1, 1, 4.0 / 7, 4.0 / 7, 0, 0, 0, 0, 0, 0 }) expected += p / 11;
        Assert.Equal(expected, c.Ap);                      // bit for bit: 0.37662337662337664, as voc_eval.py prints
        Assert.Equal(29.0 / 77, c.Ap, 15);
    }

    [Fact]
    public void The_area_adds_its_terms_as_numpys_sum_does()
    {
        // 50 objects, 40 detections, every third a false positive. voc_eval.py's voc_ap (np.sum, pairwise)
        // gives 0.39479922580656895 under numpy 1.24; adding left to right gives 0.3947992258065689.
        int tp = 0, fp = 0;
        var recall = new double[40];
        var precision = new double[40];
        for (int i = 0; i < 40; i++)
        {
            if (i % 3 != 2) tp++; else fp++;
            recall[i] = tp / 50.0;
            precision[i] = (double)tp / (tp + fp);
        }
        Assert.Equal(0.39479922580656895, VocEvaluator.Area(recall, precision));
        Assert.Equal(0.4121639624480309, VocEvaluator.ElevenPoint(recall, precision));   // voc_ap(..., True)
    }
}
