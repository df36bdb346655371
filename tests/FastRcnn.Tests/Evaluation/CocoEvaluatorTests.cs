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

    // The cases below pin pycocotools' COCOeval (evaluate + accumulate + summarize, bbox, area "all",
    // maxDets 100) on tiny sets; each expected value is worked out from its rules:
    //  - per image, detections sorted stably by -score; at IoU threshold t a detection takes the unmatched
    //    ground truth of highest IoU, skipping any with iou < t (so iou == t matches);
    //  - per class, images concatenated in sorted imgId order, then a stable mergesort by -score;
    //  - rc = tp / npig, pr = tp / (fp + tp + np.spacing(1)), pr made monotone from the right,
    //    q[r] = pr[searchsorted(rc, recThrs[r], 'left')] (0 past the end);
    //  - AP = np.mean of every (t, r, k) cell of classes with ground truth.

    [Fact]
    public void A_single_perfect_detection_scores_like_pycocotools_1_over_1_plus_spacing()
    {
        // pr[0] = 1 / (0 + 1 + np.spacing(1)) = 0.9999999999999998 at all 101 recall points; np.mean of
        // 101 such values is 0.9999999999999999 (AP50), of 1010 (AP) 0.9999999999999998 (numpy 1.24).
        var images = new[] { Image("a", Object(1, A)) };
        var result = CocoEvaluator.Evaluate(images, [Det("a", 1, 0.9f, A)], 1);
        Assert.Equal(0.9999999999999999, result.Ap50);
        Assert.Equal(0.9999999999999998, result.Ap);
        Assert.Equal(1.0, result.Ar100);
    }

    [Fact]
    public void Recall_of_exactly_0_35_does_not_reach_the_recall_threshold_0_35000000000000003()
    {
        // 20 objects; exact detections by score: 7 TP, 3 FP, 1 TP. rc = 0.05 … 0.35 (7/20 = 0.35), 0.35 ×3, 0.4;
        // envelope pr: 1 up to the seventh detection, then 8/11 (tp 8 of 11; + np.spacing(1) vanishes at 11).
        // recThrs 0 … 0.34 (35 points) find rc ≥ r within the first seven: 1. recThrs[35] = 0.35000000000000003
        // > 0.35, so it, like 0.36 … 0.40 (6 points), first reaches rc = 0.4: 8/11. 0.41000000000000003 … 1: 0.
        // Every IoU threshold alike: AP = (35 + 6 · 8/11) / 101 = 0.38973… (reading 0.35 as 0.35 would give
        // (36 + 5 · 8/11) / 101 = 0.39244…).
        var objects = Enumerable.Range(0, 20).Select(i => Object(1, Box(i % 10 * 10, i / 10 * 10, i % 10 * 10 + 8, i / 10 * 10 + 8))).ToArray();
        var images = new[] { Image("a", objects) };
        var miss = Box(0, 50, 8, 58);
        var dets = Enumerable.Range(0, 7).Select(i => Det("a", 1, 0.9f - i * 0.01f, objects[i].Box))
            .Concat(Enumerable.Range(0, 3).Select(i => Det("a", 1, 0.5f - i * 0.01f, miss)))
            .Append(Det("a", 1, 0.3f, objects[7].Box)).ToArray();
        var result = CocoEvaluator.Evaluate(images, dets, 1);
        Assert.Equal((35 + 6 * 8.0 / 11) / 101, result.Ap, 14);
        Assert.Equal(result.Ap, result.Ap50, 15);
        Assert.Equal(0.4, result.Ar100, 15);
    }

    [Fact]
    public void An_IoU_of_exactly_0_85_matches_at_numpys_threshold_0_85()
    {
        // IoU = 1700 / 2000 = 0.85, the double np.linspace(.5, .95, 10)[7] is; 0.5 + 0.05 · 7 would be
        // 0.8500000000000001. Matched (iou < t is false) at 0.5 … 0.85: 8 of 10 thresholds, each with
        // precision 1 / (1 + np.spacing(1)) at every recall point: AP = 0.8 (0.7 with the other grid).
        var images = new[] { Image("a", Object(1, Box(0, 0, 100, 20))) };
        var det = Box(0, 0, 85, 20);
        Assert.Equal(0.85, FastRcnn.Evaluation.EvaluationMath.IoU(det, images[0].Objects[0].Box));
        var result = CocoEvaluator.Evaluate(images, [Det("a", 1, 0.9f, det)], 1);
        Assert.Equal(0.8, result.Ap, 14);
        Assert.Equal(0.8, result.Ar100);             // np.mean of eight 1s and two 0s
        Assert.Equal(0.9999999999999999, result.Ap75);
    }

    [Fact]
    public void Equal_scores_are_taken_in_sorted_image_id_order_not_dataset_order()
    {
        // Images "10" (listed first) and "9", one object each; both detections score 0.9: a false positive
        // in image 10, a true positive in image 9. COCOeval sorts imgIds (numerically: 9 < 10) and mergesorts
        // stably, so the TP comes first: pr = 1/(1 + spacing), 1/2 and rc = 0.5, 0.5 → recThrs 0 … 0.5
        // (51 points) read 0.9999999999999998, the other 50 read 0: AP ≈ 51/101. Dataset order (or the
        // string order "10" < "9") would put the FP first: pr = 0, 1/2 → 51 points of 0.5: AP ≈ 25.5/101.
        var images = new[] { Image("10", Object(1, B)), Image("9", Object(1, A)) };
        var dets = new[] { Det("10", 1, 0.9f, Box(0, 80, 10, 90)), Det("9", 1, 0.9f, A) };
        var result = CocoEvaluator.Evaluate(images, dets, 1);
        Assert.Equal(51.0 / 101, result.Ap, 14);
        Assert.Equal(0.5, result.Ar100);
    }

    [Fact]
    public void Image_ids_that_are_not_all_integers_sort_as_strings()
    {
        var images = new[] { Image("b", Object(1, A)), Image("10", Object(1, A)), Image("a", Object(1, A)), Image("9", Object(1, A)) };
        Assert.Equal(["10", "9", "a", "b"], CocoEvaluator.InIdOrder(images).Select(i => i.Id));
        var numeric = new[] { Image("10"), Image("9"), Image("100") };
        Assert.Equal(["9", "10", "100"], CocoEvaluator.InIdOrder(numeric).Select(i => i.Id));
    }
}
