using FastRcnn.Modeling.Matching;
using FastRcnn.Modeling.Rpn;
using static FastRcnn.Tests.Modeling.ModelingTestData;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Modeling.Rpn;

public sealed class AnchorTargetsTests
{
    private static long[] L(Tensor t) => t.data<long>().ToArray();

    private static AnchorTargets Create(Tensor anchors, long h, long w, Tensor gt, long seed = 0, double border = 0)
    {
        using var sampler = new BalancedSampler(BalancedSamplerOptions.Rpn, seed);
        return AnchorTargets.Create(anchors, h, w, gt, new Matcher(MatcherOptions.Rpn), sampler, border);
    }

    [Fact]
    public void Anchors_crossing_the_border_are_ignored_the_rest_matched()
    {
        // Image 100 (H) × 120 (W). Anchor 1 would be a perfect match but crosses x = 0; anchor 3 ends exactly at W, H (kept);
        // anchor 4 crosses the bottom by half a pixel.
        var anchors = Boxes([0, 0, 50, 50], [-1, 0, 49, 50], [0, 0, 50, 45], [80, 60, 120, 100], [80, 60, 120, 100.5f]);
        var gt = Boxes([-1, 0, 49, 50]);
        var targets = Create(anchors, 100, 120, gt);
        // IoU(gt, anchor 0) = 49·50 / (2·2500 − 2450) = 0.961 → positive; anchor 2: 49·45/(2500+2250−2205) = 0.866 → positive.
        Assert.Equal(new long[] { 1, -1, 1, 0, -1 }, L(targets.Labels));
        Assert.Equal(new long[] { 0, 2 }, L(targets.Positive).Order().ToArray());
        Assert.Equal(new long[] { 3 }, L(targets.Negative));
        Assert.Equal((2, 3), (targets.PositiveCount, targets.SampledCount));
        Assert.Equal(new long[] { 1, 1, 0 }, L(targets.SampledLabels().to_type(int64)));
        Assert.Equal(L(cat([targets.Positive, targets.Negative], 0)), L(targets.SampledIndices()));

        var withBorder = Create(anchors, 100, 120, gt, border: 1);
        Assert.Equal(new long[] { 1, 1, 1, 0, 0 }, L(withBorder.Labels));
    }

    [Fact]
    public void Regression_targets_are_unnormalised_deltas_of_the_matched_gt()
    {
        // The gt's best inside anchor has IoU 18·16 / (400 + 480 − 288) = 0.486 < 0.7: positive as a low-quality match.
        // Anchor 2 overlaps it more (18·24 / 748 = 0.578) but crosses x = 0: ignored, and not the gt's best.
        var anchors = Boxes([0, 0, 20, 20], [40, 40, 60, 60], [-5, 2, 20, 30]);
        var gt = Boxes([2, 4, 22, 28]);
        var targets = Create(anchors, 64, 64, gt);
        Assert.Equal(new long[] { 1, 0, -1 }, L(targets.Labels));
        Assert.Equal(new long[] { 0 }, L(targets.Positive));
        // dx = (12 − 10)/20 = 0.1, dy = (16 − 10)/20 = 0.3, dw = log(20/20) = 0, dh = log(24/20) = 0.18232.
        var t = targets.BoxTargets[0].data<float>().ToArray();
        Assert.Equal([0.1f, 0.3f, 0f, 0.18232f], t.Select(v => MathF.Round(v, 5)).ToArray());
    }

    [Fact]
    public void Images_without_objects_get_only_negatives()
    {
        using var generator = new AnchorGenerator([32, 64], [0.5, 1, 2], stride: 16);
        var anchors = generator.Anchors(20, 20);                               // 2400 anchors over 320×320
        var targets = Create(anchors, 320, 320, Boxes());
        Assert.Equal((0, 256), (targets.PositiveCount, targets.SampledCount));
        Assert.Equal(new long[] { 0, 4 }, targets.BoxTargets.shape);
        Assert.All(L(targets.Negative), i => Assert.Equal(0, targets.Labels[i].item<long>()));
    }

    [Fact]
    public void Labels_and_sample_agree_with_a_naive_loop_on_an_anchor_grid()
    {
        using var generator = new AnchorGenerator([32, 64, 128], [0.5, 1, 2], stride: 16);
        long h = 15, w = 20, height = 230, width = 310;                        // the map covers more than the image (padding)
        var anchors = generator.Anchors(h, w);
        float[][] gtRows = [[20, 30, 90, 100], [150, 40, 290, 200], [100, 150, 118, 170]];
        var targets = Create(anchors, height, width, Boxes(gtRows), seed: 3);

        var a = anchors.data<float>().ToArray();
        int r = (int)anchors.shape[0];
        var inside = Enumerable.Range(0, r).Where(i => a[4 * i] >= 0 && a[4 * i + 1] >= 0 && a[4 * i + 2] <= width && a[4 * i + 3] <= height).ToArray();
        // IoU in float32, in PairwiseIoU's order of operations.
        float Iou(float[] g, int i)
        {
            float iw = MathF.Max(MathF.Min(g[2], a[4 * i + 2]) - MathF.Max(g[0], a[4 * i]), 0f);
            float ih = MathF.Max(MathF.Min(g[3], a[4 * i + 3]) - MathF.Max(g[1], a[4 * i + 1]), 0f);
            float inter = iw * ih;
            float areaG = (g[2] - g[0]) * (g[3] - g[1]), areaA = (a[4 * i + 2] - a[4 * i]) * (a[4 * i + 3] - a[4 * i + 1]);
            return inter / (areaG + areaA - inter);
        }
        var expected = Enumerable.Repeat(-1L, r).ToArray();
        var best = new int[r];
        foreach (int i in inside)
        {
            float u = 0;
            for (int g = 0; g < gtRows.Length; g++)
                if (Iou(gtRows[g], i) > u) { u = Iou(gtRows[g], i); best[i] = g; }
            expected[i] = u >= 0.7f ? 1 : u < 0.3f ? 0 : -1;
        }
        foreach (var g in gtRows)
        {
            float v = inside.Max(i => Iou(g, i));
            foreach (int i in inside) if (v > 0 && Iou(g, i) == v) expected[i] = 1;
        }
        Assert.Equal(expected, L(targets.Labels));

        int positives = expected.Count(l => l == 1);
        Assert.InRange(positives, 3, 128);                                      // every object has one; under the quota
        Assert.Equal(positives, targets.PositiveCount);
        Assert.Equal(256, targets.SampledCount);
        Assert.All(L(targets.Negative), i => Assert.Equal(0, expected[i]));
        var sampled = L(targets.SampledIndices());
        Assert.Equal(sampled.Length, sampled.Distinct().Count());
        // Targets of the positives: deltas of their best gt, from a naive encode.
        var positive = L(targets.Positive);
        var t = targets.BoxTargets.data<float>().ToArray();
        for (int k = 0; k < positive.Length; k++)
        {
            int i = (int)positive[k];
            var g = gtRows[best[i]];
            double aw = a[4 * i + 2] - a[4 * i], ah = a[4 * i + 3] - a[4 * i + 1], gw = g[2] - g[0], gh = g[3] - g[1];
            double[] d = [((g[0] + 0.5 * gw) - (a[4 * i] + 0.5 * aw)) / aw, ((g[1] + 0.5 * gh) - (a[4 * i + 1] + 0.5 * ah)) / ah, Math.Log(gw / aw), Math.Log(gh / ah)];
            for (int c = 0; c < 4; c++) Assert.Equal(d[c], t[4 * k + c], 4);
        }
    }

    [Fact]
    public void An_image_smaller_than_every_anchor_samples_nothing()
    {
        using var generator = new AnchorGenerator([32], [1], stride: 16);
        var targets = Create(generator.Anchors(2, 2), 20, 20, Boxes([2, 2, 18, 18]));
        Assert.Equal(new long[] { -1, -1, -1, -1 }, L(targets.Labels));
        Assert.Equal((0, 0), (targets.PositiveCount, targets.SampledCount));
        Assert.Equal(new long[] { 0, 4 }, targets.BoxTargets.shape);
    }

    [Fact]
    public void Many_positives_are_capped_at_half_the_batch()
    {
        // 300 anchors identical to the gt (IoU 1) and 300 far away: 128 positives, 128 negatives.
        var rows = Enumerable.Repeat(new float[] { 10, 10, 60, 60 }, 300).Concat(Enumerable.Repeat(new float[] { 100, 100, 150, 150 }, 300)).ToArray();
        var targets = Create(Boxes(rows), 200, 200, Boxes([10, 10, 60, 60]), seed: 1);
        Assert.Equal((128, 256), (targets.PositiveCount, targets.SampledCount));
        Assert.All(L(targets.Positive), i => Assert.True(i < 300));
        Assert.All(L(targets.Negative), i => Assert.True(i >= 300));
        Assert.Equal(0, targets.BoxTargets.abs().max().item<float>());
    }
}
