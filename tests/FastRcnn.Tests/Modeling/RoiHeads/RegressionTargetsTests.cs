using FastRcnn.Modeling.RoiHeads;
using FastRcnn.Ops;
using static FastRcnn.Tests.Modeling.ModelingTestData;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Modeling;

public sealed class RegressionTargetsTests
{
    [Fact]
    public void Hand_computed_targets_sit_in_the_columns_of_the_class()
    {
        // P = (0,0,10,10): centre (5,5), size 10×10. G = (1,2,11,14): centre (6,8), size 10×12.
        // Raw: tx = 0.1, ty = 0.3, tw = 0, th = log 1.2; FixedStd multiplies by (10, 10, 5, 5).
        var proposals = Boxes([0, 0, 10, 10], [20, 20, 30, 30]);
        var matched = Boxes([1, 2, 11, 14], [0, 0, 1, 1]);
        var classes = tensor(new long[] { 2, 0 });

        var (targets, weights) = RegressionTargets.Encode(BoxCoder.FixedStd, proposals, matched, classes, numClasses: 3);

        Assert.Equal(new long[] { 2, 16 }, targets.shape);
        var expected = new float[16];
        expected[8] = 1f; expected[9] = 3f; expected[10] = 0f; expected[11] = 5f * MathF.Log(1.2f);
        var row0 = targets[0].data<float>().ToArray();
        for (int i = 0; i < 16; i++) Assert.Equal(expected[i], row0[i], 5);
        Assert.Equal(0f, targets[1].abs().sum().item<float>());                        // background: no target
        Assert.Equal(new float[] { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0 }, weights[0].data<float>().ToArray());
        Assert.Equal(0f, weights[1].sum().item<float>());
    }

    [Fact]
    public void Unit_coder_gives_raw_deltas()
    {
        var (targets, _) = RegressionTargets.Encode(BoxCoder.Unit, Boxes([0, 0, 10, 10]), Boxes([1, 2, 11, 14]), tensor(new long[] { 1 }), 1);
        var row = targets[0].data<float>().ToArray();
        float[] expected = [0, 0, 0, 0, 0.1f, 0.3f, 0f, MathF.Log(1.2f)];
        for (int i = 0; i < 8; i++) Assert.Equal(expected[i], row[i], 5);
    }

    [Fact]
    public void Encode_then_decode_returns_the_ground_truth()
    {
        var rng = new Random(3);
        int r = 50, k = 4;
        var proposals = new float[r][];
        var gt = new float[r][];
        var classes = new long[r];
        for (int i = 0; i < r; i++)
        {
            float x = rng.Next(200), y = rng.Next(200), w = 10 + rng.Next(100), h = 10 + rng.Next(100);
            proposals[i] = [x, y, x + w, y + h];
            float dx = (float)(rng.NextDouble() - 0.5) * w * 0.4f, dy = (float)(rng.NextDouble() - 0.5) * h * 0.4f;
            float sw = 0.7f + (float)rng.NextDouble() * 0.6f, sh = 0.7f + (float)rng.NextDouble() * 0.6f;
            gt[i] = [x + dx, y + dy, x + dx + w * sw, y + dy + h * sh];
            classes[i] = 1 + rng.Next(k);
        }
        var proposalBoxes = Boxes(proposals);
        var gtBoxes = Boxes(gt);
        var labels = tensor(classes);
        var (targets, _) = RegressionTargets.Encode(BoxCoder.FixedStd, proposalBoxes, gtBoxes, labels, k);

        var decoded = BoxCoder.FixedStd.Decode(targets, proposalBoxes).reshape(r, k + 1, 4);
        var own = decoded.gather(1, labels.view(r, 1, 1).expand(r, 1, 4)).squeeze(1);
        Assert.True((own - gtBoxes).abs().max().item<float>() < 1e-3f);
        // Blocks of other classes hold zero deltas, i.e. decode to the proposal itself.
        var other = decoded.gather(1, labels.Remainder(k).Add(1).view(r, 1, 1).expand(r, 1, 4)).squeeze(1);
        Assert.True((other - proposalBoxes).abs().max().item<float>() < 1e-3f);
    }
}
