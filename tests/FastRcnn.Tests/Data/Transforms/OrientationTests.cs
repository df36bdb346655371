using FastRcnn.Data.Transforms;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Data.Transforms;

public class OrientationTests
{
    public static TheoryData<bool, bool, bool> All()
    {
        var data = new TheoryData<bool, bool, bool>();
        foreach (bool t in new[] { false, true })
            foreach (bool x in new[] { false, true })
                foreach (bool y in new[] { false, true })
                    data.Add(t, x, y);
        return data;
    }

    [Fact]
    public void Boxes_against_hand_values()
    {
        using var scope = NewDisposeScope();
        // (x1, y1, x2, y2) = (10, 20, 30, 40) in a 100 (W) × 50 (H) image
        var box = tensor(new float[] { 10, 20, 30, 40 }, new long[] { 1, 4 });
        float[] Of(bool t, bool x, bool y) => new Orientation(t, x, y).Boxes(box, 100, 50).data<float>().ToArray();
        Assert.Equal(new float[] { 20, 10, 40, 30 }, Of(true, false, false));    // transpose: (y1, x1, y2, x2), image 50×100
        Assert.Equal(new float[] { 70, 20, 90, 40 }, Of(false, true, false));    // left–right: (W − x2, y1, W − x1, y2)
        Assert.Equal(new float[] { 10, 10, 30, 30 }, Of(false, false, true));    // top–bottom: (x1, H − y2, x2, H − y1)
        Assert.Equal(new float[] { 10, 10, 30, 30 }, Of(true, true, false));     // transpose then left–right in the 100-high, 50-wide image
        Assert.Equal(new float[] { 20, 70, 40, 90 }, Of(true, false, true));
        Assert.Equal(new float[] { 70, 10, 90, 30 }, Of(false, true, true));     // both flips: 180°
        Assert.Equal(new float[] { 10, 20, 30, 40 }, Of(false, false, false));
        // class-specific boxes: each group of four
        var two = tensor(new float[] { 1, 2, 3, 4, 5, 6, 7, 8 }, new long[] { 1, 8 });
        Assert.Equal(new float[] { 2, 1, 4, 3, 6, 5, 8, 7 }, new Orientation(true, false, false).Boxes(two, 10, 10).data<float>().ToArray());
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Image_and_boxes_move_together(bool transpose, bool flipX, bool flipY)
    {
        using var scope = NewDisposeScope();
        // A 1×7×11 (H×W) image with a filled box over columns [2, 5) and rows [1, 3), and a marker pixel inside it.
        var img = zeros(1, 7, 11);
        img[.., 1..3, 2..5] = tensor(1f);
        img[0, 1, 2] = tensor(2f);
        var o = new Orientation(transpose, flipX, flipY);
        var turned = o.Image(img);
        var (h, w) = o.Size(7, 11);
        Assert.Equal([1L, h, w], turned.shape);
        var b = o.Boxes(tensor(new float[] { 2, 1, 5, 3 }, new long[] { 1, 4 }), 11, 7).data<float>().ToArray();
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                Assert.Equal(x >= b[0] && x < b[2] && y >= b[1] && y < b[3], turned[0, y, x].item<float>() > 0);
        // The marker, at the box's top-left pixel, is at the corner the flips moved it to (a transpose keeps it top-left).
        int mx = (int)(flipX ? b[2] - 1 : b[0]), my = (int)(flipY ? b[3] - 1 : b[1]);
        Assert.Equal(2f, turned[0, my, mx].item<float>());
        Assert.Equal(img.flatten().sort().Values.data<float>().ToArray(), turned.flatten().sort().Values.data<float>().ToArray());
        TensorAssert.Equal(turned.unsqueeze(0), o.Image(img.unsqueeze(0)));                 // batches (N,C,H,W) too
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Each_orientation_has_an_inverse_and_boxes_come_back_bit_for_bit(bool transpose, bool flipX, bool flipY)
    {
        using var scope = NewDisposeScope();
        var o = new Orientation(transpose, flipX, flipY);
        // The inverse of "transpose, then flips" is "un-flip in the transposed image, then transpose back": with a transpose
        // the flips trade axes.
        var inverse = transpose ? new Orientation(true, flipY, flipX) : o;
        var rng = new Random(11);
        const int W = 637, H = 421;
        var b = new float[4 * 300];
        for (int i = 0; i < 300; i++)
        {
            float x1 = rng.Next(0, W * 64) / 64f, y1 = rng.Next(0, H * 64) / 64f;   // a 1/64 grid: W − x is exact
            b[4 * i] = x1; b[4 * i + 1] = y1;
            b[4 * i + 2] = Math.Min(W, x1 + rng.Next(1, 200 * 64) / 64f); b[4 * i + 3] = Math.Min(H, y1 + rng.Next(1, 200 * 64) / 64f);
        }
        var boxes = tensor(b, new long[] { 300, 4 });
        var (h, w) = o.Size(H, W);
        var turned = o.Boxes(boxes, W, H);
        Assert.Equal(b, inverse.Boxes(turned, w, h).data<float>().ToArray());
        Assert.True((turned[.., 2] >= turned[.., 0]).all().item<bool>() && (turned[.., 3] >= turned[.., 1]).all().item<bool>());
        var img = randint(0, 256, new long[] { 3, 5, 8 }).to_type(ScalarType.Byte);
        TensorAssert.Equal(img, inverse.Image(o.Image(img)));
    }

    [Fact]
    public void Bad_inputs_are_rejected_and_the_identity_copies()
    {
        using var scope = NewDisposeScope();
        var o = new Orientation(true, true, true);
        Assert.Throws<ArgumentException>(() => o.Boxes(ones(2, 5), 10, 10));
        Assert.Throws<ArgumentException>(() => o.Boxes(ones(new long[] { 2, 4 }, ScalarType.Int64), 10, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => o.Boxes(ones(2, 4), 10, 0));
        Assert.Throws<ArgumentException>(() => o.Image(ones(4, 4)));
        Assert.Equal(new long[] { 0, 4 }, o.Boxes(zeros(0, 4), 10, 10).shape);
        var img = ones(1, 2, 3);
        var copy = Orientation.Identity.Image(img);
        copy.zero_();
        Assert.Equal(6f, img.sum().item<float>());
        Assert.Equal("transpose+flip-y", new Orientation(true, false, true).ToString());
    }
}
