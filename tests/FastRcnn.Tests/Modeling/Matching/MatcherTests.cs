using FastRcnn.Modeling.Matching;
using static FastRcnn.Tests.Modeling.ModelingTestData;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Modeling.Matching;

public sealed class MatcherTests
{
    private static Tensor Iou(float[,] values)
    {
        int g = values.GetLength(0), r = values.GetLength(1);
        var flat = new float[g * r];
        for (int i = 0; i < g; i++) for (int j = 0; j < r; j++) flat[i * r + j] = values[i, j];
        return tensor(flat, [g, r], float32);
    }

    private static long[] L(Tensor t) => t.data<long>().ToArray();

    private static float[] F(Tensor t) => t.data<float>().ToArray();

    [Fact]
    public void Roi_heads_thresholds_foreground_from_half_background_from_a_tenth()
    {
        // Columns: max IoU 0.5 (g1), 0.49 (g0), 0.1 (g0), 0.09 (g1), 0.9 (g0), 0 (nothing).
        var iou = Iou(new float[,]
        {
            { 0.2f, 0.49f, 0.1f, 0.05f, 0.9f, 0f },
            { 0.5f, 0.3f, 0.0f, 0.09f, 0.7f, 0f },
        });
        var match = new Matcher(MatcherOptions.RoiHeads).Match(iou);
        Assert.Equal(new long[] { 1, 0, 0, -1, 1, -1 }, L(match.Labels));
        Assert.Equal(new long[] { 1, 0, 0, 1, 0, 0 }, L(match.MatchedGt));          // ties (last column): the first gt
        Assert.Equal(new[] { 0.5f, 0.49f, 0.1f, 0.09f, 0.9f, 0f }, F(match.MaxIoU));
    }

    [Fact]
    public void Rpn_thresholds_with_low_quality_matches()
    {
        // g0's best overlap is 0.4, shared by boxes 1 and 2 (ties): both become foreground. Box 2 overlaps g1
        // more (0.6), so it stays matched to g1. g1's best is box 3 (0.75 ≥ 0.7, foreground anyway).
        // Box 0: 0.29 → background; box 4: 0.3 → ignored; box 5: 0.69 → ignored.
        var iou = Iou(new float[,]
        {
            { 0.29f, 0.4f, 0.4f, 0.1f, 0.3f, 0.0f },
            { 0.0f, 0.1f, 0.6f, 0.75f, 0.0f, 0.69f },
        });
        var match = new Matcher(MatcherOptions.Rpn).Match(iou);
        Assert.Equal(new long[] { 0, 1, 1, 1, -1, -1 }, L(match.Labels));
        Assert.Equal(new long[] { 0, 0, 1, 1, 0, 1 }, L(match.MatchedGt));

        var without = new Matcher(MatcherOptions.Rpn with { AllowLowQualityMatches = false }).Match(iou);
        Assert.Equal(new long[] { 0, -1, -1, 1, -1, -1 }, L(without.Labels));
    }

    [Fact]
    public void A_gt_that_overlaps_nothing_makes_nothing_foreground()
    {
        // g1 overlaps no box: py-faster-rcnn's tie rule would make every box of IoU 0 with it foreground.
        var iou = Iou(new float[,]
        {
            { 0.5f, 0.0f, 0.1f },
            { 0.0f, 0.0f, 0.0f },
        });
        var match = new Matcher(MatcherOptions.Rpn).Match(iou);
        Assert.Equal(new long[] { 1, 0, 0 }, L(match.Labels));
    }

    [Fact]
    public void Without_gt_everything_is_background_when_the_low_bound_is_zero_else_ignored()
    {
        var rpn = new Matcher(MatcherOptions.Rpn).Match(Boxes([0, 0, 10, 10], [5, 5, 20, 20]), Boxes());
        Assert.Equal(new long[] { 0, 0 }, L(rpn.Labels));
        Assert.Equal(new long[] { -1, -1 }, L(rpn.MatchedGt));
        Assert.Equal(new[] { 0f, 0f }, F(rpn.MaxIoU));

        var roi = new Matcher(MatcherOptions.RoiHeads).Match(zeros(0, 3, float32));
        Assert.Equal(new long[] { -1, -1, -1 }, L(roi.Labels));

        var noBoxes = new Matcher(MatcherOptions.Rpn).Match(Boxes(), Boxes([0, 0, 10, 10]));
        Assert.Equal(0, noBoxes.Labels.shape[0]);
        Assert.Equal(ScalarType.Int64, noBoxes.MatchedGt.dtype);
    }

    [Fact]
    public void Boxes_overload_matches_hand_computed_iou()
    {
        // GT (0,0,10,10). (0,0,10,7): IoU 0.7; (0,0,10,6.9): 0.69; (0,0,10,3): 0.3; (0,0,10,2.9): 0.29.
        var match = new Matcher(MatcherOptions.Rpn with { AllowLowQualityMatches = false })
            .Match(Boxes([0, 0, 10, 7], [0, 0, 10, 6.9f], [0, 0, 10, 3], [0, 0, 10, 2.9f]), Boxes([0, 0, 10, 10]));
        Assert.Equal(new long[] { 1, -1, -1, 0 }, L(match.Labels));
        Assert.Equal(0.7f, match.MaxIoU[0].item<float>(), 6);
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, true)]
    [InlineData(2, true)]
    public void Agrees_with_a_naive_loop_on_random_matrices_with_ties(int seed, bool lowQuality)
    {
        var rng = new Random(seed);
        int g = 4, r = 60;
        var values = new float[g, r];
        for (int i = 0; i < g; i++)
            for (int j = 0; j < r; j++)
                values[i, j] = rng.Next(8) / 10f;       // 0, 0.1, …, 0.7: many ties
        for (int j = 0; j < r; j++) values[3, j] = 0;   // a gt overlapping nothing
        var options = MatcherOptions.Rpn with { AllowLowQualityMatches = lowQuality, ForegroundIoU = 0.6 };
        var match = new Matcher(options).Match(Iou(values));

        var expectedLabels = new long[r];
        var expectedMatched = new long[r];
        for (int j = 0; j < r; j++)
        {
            int best = 0;
            for (int i = 1; i < g; i++) if (values[i, j] > values[best, j]) best = i;
            float u = values[best, j];
            expectedMatched[j] = best;
            expectedLabels[j] = u >= (float)options.ForegroundIoU ? 1 : u >= options.BackgroundIoULow && u < (float)options.BackgroundIoUHigh ? 0 : -1;
        }
        if (lowQuality)
        {
            for (int i = 0; i < g; i++)
            {
                float v = 0;
                for (int j = 0; j < r; j++) v = Math.Max(v, values[i, j]);
                if (v <= 0) continue;
                for (int j = 0; j < r; j++) if (values[i, j] == v) expectedLabels[j] = 1;
            }
        }
        Assert.Equal(expectedLabels, L(match.Labels));
        Assert.Equal(expectedMatched, L(match.MatchedGt));
    }

    [Fact]
    public void Validate_names_the_thresholds()
    {
        var error = Assert.Throws<ArgumentException>(() => new Matcher(new MatcherOptions(0.5, 0.3, 0.6, false)));
        Assert.Contains("0 ≤ background low ≤ background high ≤ foreground ≤ 1", error.Message);
        Assert.Throws<ArgumentException>(() => new Matcher(new MatcherOptions(1.1, 0, 0.3, true)));
        Assert.Throws<ArgumentException>(() => new Matcher(new MatcherOptions(0.7, -0.1, 0.3, true)));
        Assert.Throws<ArgumentException>(() => new Matcher(MatcherOptions.Rpn).Match(zeros(3)));
    }

    [Fact]
    public void Presets_are_the_papers()
    {
        Assert.Equal(new MatcherOptions(0.5, 0.1, 0.5, false), MatcherOptions.RoiHeads);
        Assert.Equal(new MatcherOptions(0.7, 0.0, 0.3, true), MatcherOptions.Rpn);
    }
}
