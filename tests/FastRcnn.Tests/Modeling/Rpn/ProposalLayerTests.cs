using FastRcnn.Modeling.Rpn;
using FastRcnn.Ops;
using static FastRcnn.Tests.Modeling.ModelingTestData;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Modeling.Rpn;

public sealed class ProposalLayerTests
{
    private static float[] Row(Tensor t, long i) => t[i].data<float>().ToArray();

    [Fact]
    public void Decodes_clips_to_the_image_and_drops_small_boxes_by_the_scale()
    {
        var anchors = Boxes([0, 0, 32, 32], [50, 50, 82, 82], [10, 10, 25.9f, 40], [90, 5, 130, 45]);
        // Anchor 0 moved right by half its width (dx 0.5) and doubled in height (dh log 2); anchor 3 is clipped at
        // x = 100 to width 10 (< 16); anchor 2 is 15.9 wide.
        var deltas = tensor(new float[] { 0.5f, 0, 0, MathF.Log(2), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, [4, 4]);
        var logits = tensor(new float[] { 1, 3, 2, 4 });
        var image = new RpnImage(Height: 70, Width: 100, ScaleFactor: 1);
        var (boxes, scores) = ProposalLayer.Propose(anchors, logits, deltas, image, ProposalLayerOptions.Test);
        Assert.Equal(2, boxes.shape[0]);
        Assert.Equal(new float[] { 50, 50, 82, 70 }, Row(boxes, 0));                 // clipped at H = 70, score σ(3)
        Assert.Equal(new float[] { 16, 0, 48, 48 }, Row(boxes, 1));                  // (16, −16, 48, 48) clipped
        Assert.Equal(1 / (1 + MathF.Exp(-3)), scores[0].item<float>(), 6);
        Assert.Equal(1 / (1 + MathF.Exp(-1)), scores[1].item<float>(), 6);

        // Scale 0.5: min size 8, so the 15.9-wide box and the clipped 10-wide one are kept.
        var (half, _) = ProposalLayer.Propose(anchors, logits, deltas, image with { ScaleFactor = 0.5 }, ProposalLayerOptions.Test);
        Assert.Equal(4, half.shape[0]);
        Assert.Equal(new float[] { 90, 5, 100, 45 }, Row(half, 0));
    }

    [Fact]
    public void No_box_large_enough_gives_no_proposals()
    {
        var (boxes, scores) = ProposalLayer.Propose(Boxes([0, 0, 10, 10], [5, 5, 20, 12]), zeros(2), zeros(2, 4), new RpnImage(50, 50), ProposalLayerOptions.Test);
        Assert.Equal(new long[] { 0, 4 }, boxes.shape);
        Assert.Equal(new long[] { 0 }, scores.shape);
    }

    [Fact]
    public void Nms_and_top_n()
    {
        // Three near-identical boxes (IoU > 0.7) and a separate one: NMS keeps the best of the three.
        var anchors = Boxes([0, 0, 40, 40], [1, 0, 41, 40], [0, 1, 40, 41], [60, 0, 100, 40]);
        var deltas = zeros(4, 4);
        var logits = tensor(new float[] { 0.5f, 0.9f, 0.1f, 0.3f });
        var image = new RpnImage(100, 100);
        var (boxes, _) = ProposalLayer.Propose(anchors, logits, deltas, image, new ProposalLayerOptions(MinSize: 0));
        Assert.Equal(new float[] { 1, 0, 41, 40, 60, 0, 100, 40 }, boxes.flatten().data<float>().ToArray());

        // Pre-NMS top 1: only the best box is considered; post-NMS top 1 after NMS.
        var (pre, _) = ProposalLayer.Propose(anchors, logits, deltas, image, new ProposalLayerOptions(PreNmsTopN: 1, MinSize: 0));
        Assert.Equal(1, pre.shape[0]);
        var (post, _) = ProposalLayer.Propose(anchors, logits, deltas, image, new ProposalLayerOptions(PreNmsTopN: 2, PostNmsTopN: 1, MinSize: 0));
        Assert.Equal(new float[] { 1, 0, 41, 40 }, Row(post, 0));
        var (noNmsEffect, _) = ProposalLayer.Propose(anchors, logits, deltas, image, new ProposalLayerOptions(NmsThreshold: 1, MinSize: 0));
        Assert.Equal(4, noNmsEffect.shape[0]);
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(1, false)]
    public void Agrees_with_a_naive_decode_and_nms(int seed, bool training)
    {
        using var generator = new AnchorGenerator([32, 64, 128], [0.5, 1, 2], stride: 16);
        long h = 24, w = 30;
        var anchors = generator.Anchors(h, w);                                     // 6480 anchors
        using var g = new Generator((ulong)seed);
        int r = (int)anchors.shape[0];
        var logits = randn(r, generator: g);
        var deltas = randn(r, 4, generator: g).Mul_(0.3);
        var image = new RpnImage(Height: 370, Width: 460, ScaleFactor: 0.9);
        var options = training ? new ProposalLayerOptions(PreNmsTopN: 3000, PostNmsTopN: 500) : new ProposalLayerOptions(1000, 120);
        var (boxes, scores) = ProposalLayer.Propose(anchors, logits, deltas, image, options);

        // Naive: decode in double, clip, filter, stable sort, top N, greedy NMS (IoU > threshold suppresses), top N.
        var a = anchors.data<float>().ToArray();
        var d = deltas.data<float>().ToArray();
        var s = logits.data<float>().ToArray();
        double clampLog = Math.Log(1000.0 / 16), minSize = 16 * 0.9;
        var candidates = new List<(double[] Box, float Score, int Index)>();
        for (int i = 0; i < r; i++)
        {
            double aw = a[4 * i + 2] - a[4 * i], ah = a[4 * i + 3] - a[4 * i + 1];
            double cx = a[4 * i] + 0.5 * aw + d[4 * i] * aw, cy = a[4 * i + 1] + 0.5 * ah + d[4 * i + 1] * ah;
            double bw = Math.Exp(Math.Min(d[4 * i + 2], clampLog)) * aw, bh = Math.Exp(Math.Min(d[4 * i + 3], clampLog)) * ah;
            double[] box =
            [
                Math.Clamp(cx - 0.5 * bw, 0, 460), Math.Clamp(cy - 0.5 * bh, 0, 370),
                Math.Clamp(cx + 0.5 * bw, 0, 460), Math.Clamp(cy + 0.5 * bh, 0, 370),
            ];
            if (box[2] - box[0] >= minSize && box[3] - box[1] >= minSize) candidates.Add((box, s[i], i));
        }
        var ordered = candidates.OrderByDescending(c => c.Score).ThenBy(c => c.Index).Take(options.PreNmsTopN).ToList();
        var kept = new List<(double[] Box, float Score, int Index)>();
        foreach (var c in ordered)
        {
            if (kept.Any(k => IoU(k.Box, c.Box) > options.NmsThreshold)) continue;
            kept.Add(c);
            if (kept.Count == options.PostNmsTopN) break;
        }

        Assert.Equal(kept.Count, boxes.shape[0]);
        Assert.True(kept.Count > 50, $"only {kept.Count} proposals");
        var got = boxes.data<float>().ToArray();
        var gotScores = scores.data<float>().ToArray();
        for (int p = 0; p < kept.Count; p++)
        {
            for (int c = 0; c < 4; c++) Assert.True(Math.Abs(kept[p].Box[c] - got[4 * p + c]) < 1e-3, $"proposal {p}: {kept[p].Box[c]} vs {got[4 * p + c]}");
            Assert.Equal(1 / (1 + Math.Exp(-kept[p].Score)), gotScores[p], 5);
        }
    }

    private static double IoU(double[] a, double[] b)
    {
        double iw = Math.Max(Math.Min(a[2], b[2]) - Math.Max(a[0], b[0]), 0), ih = Math.Max(Math.Min(a[3], b[3]) - Math.Max(a[1], b[1]), 0);
        double inter = iw * ih;
        return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
    }

    [Fact]
    public void Options_defaults_and_validation()
    {
        Assert.Equal((12000, 2000, 0.7, 16.0), (ProposalLayerOptions.Training.PreNmsTopN, ProposalLayerOptions.Training.PostNmsTopN,
            ProposalLayerOptions.Training.NmsThreshold, ProposalLayerOptions.Training.MinSize));
        Assert.Equal((6000, 300), (ProposalLayerOptions.Test.PreNmsTopN, ProposalLayerOptions.Test.PostNmsTopN));
        var anchors = Boxes([0, 0, 32, 32]);
        Assert.Throws<ArgumentException>(() => ProposalLayer.Propose(anchors, zeros(1), zeros(1, 4), new RpnImage(10, 10), new ProposalLayerOptions(PostNmsTopN: 0)));
        Assert.Throws<ArgumentException>(() => ProposalLayer.Propose(anchors, zeros(2), zeros(1, 4), new RpnImage(10, 10), ProposalLayerOptions.Test));
        Assert.Throws<ArgumentException>(() => ProposalLayer.Propose(anchors, zeros(1), zeros(1, 4), new RpnImage(0, 10), ProposalLayerOptions.Test));
    }
}
