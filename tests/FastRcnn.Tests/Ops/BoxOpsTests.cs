using FastRcnn.Ops;
using TorchSharp;
using static FastRcnn.Tests.Ops.OpsTestData;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Ops;

public class BoxOpsTests
{
    [Fact]
    public void Area_matches_naive_loop()
    {
        using var scope = NewDisposeScope();
        var b = UniformBoxes(new Random(1), 97);
        b[8] = b[10]; // a zero-width box
        var area = Floats(BoxOps.Area(Boxes(b)));
        for (int i = 0; i < 97; i++)
            Assert.Equal((b[4 * i + 2] - b[4 * i]) * (b[4 * i + 3] - b[4 * i + 1]), area[i]);
        Assert.Equal(0f, area[2]);
    }

    [Fact]
    public void Empty_inputs_give_empty_outputs()
    {
        using var scope = NewDisposeScope();
        var none = zeros(0, 4);
        Assert.Equal(new long[] { 0 }, BoxOps.Area(none).shape);
        Assert.Equal(new long[] { 0, 3 }, BoxOps.PairwiseIoU(none, ones(3, 4)).shape);
        Assert.Equal(new long[] { 3, 0 }, BoxOps.PairwiseIoU(ones(3, 4), none).shape);
        Assert.Equal(new long[] { 0, 8 }, BoxOps.Clip(zeros(0, 8), 10, 10).shape);
        Assert.Equal(0, BoxOps.RemoveSmall(none, 1).shape[0]);
        Assert.Equal(0, BoxOps.IsValid(none).shape[0]);
        BoxOps.EnsureValid(none, "proposals");
    }

    [Fact]
    public void PairwiseIoU_matches_naive_loop_including_zero_area_boxes()
    {
        using var scope = NewDisposeScope();
        var rng = new Random(2);
        var a = ClusteredBoxes(rng, 40, 3, 30);
        var b = ClusteredBoxes(rng, 33, 3, 30).Concat(new float[] { 5, 5, 5, 9, 7, 7, 7, 7 }).ToArray();
        a = a.Concat(new float[] { 7, 7, 7, 7 }).ToArray();    // zero-area box equal to one in b: union 0
        var iou = Floats(BoxOps.PairwiseIoU(Boxes(a), Boxes(b)));
        int na = a.Length / 4, nb = b.Length / 4;
        for (int i = 0; i < na; i++)
            for (int j = 0; j < nb; j++)
            {
                double w = Math.Max(0, Math.Min(a[4 * i + 2], b[4 * j + 2]) - Math.Max(a[4 * i], b[4 * j]));
                double h = Math.Max(0, Math.Min(a[4 * i + 3], b[4 * j + 3]) - Math.Max(a[4 * i + 1], b[4 * j + 1]));
                double areaA = (a[4 * i + 2] - a[4 * i]) * (double)(a[4 * i + 3] - a[4 * i + 1]);
                double areaB = (b[4 * j + 2] - b[4 * j]) * (double)(b[4 * j + 3] - b[4 * j + 1]);
                double union = areaA + areaB - w * h;
                double expected = union == 0 ? 0 : w * h / union;
                Assert.Equal(expected, iou[i * nb + j], 5);
            }
        Assert.Equal(0f, iou[na * nb - 1]);
        Assert.Equal(1f, Floats(BoxOps.PairwiseIoU(Boxes(a), Boxes(a)))[0], 6);
    }

    [Fact]
    public void Clip_clamps_x_to_width_and_y_to_height_for_class_specific_boxes()
    {
        using var scope = NewDisposeScope();
        var rng = new Random(3);
        var raw = Enumerable.Range(0, 10 * 12).Select(_ => (float)(rng.NextDouble() * 1400 - 200)).ToArray();
        var clipped = Floats(BoxOps.Clip(tensor(raw, new long[] { 10, 12 }), height: 480, width: 640));
        for (int i = 0; i < raw.Length; i++)
        {
            float max = (i % 2 == 0) ? 640 : 480;
            Assert.Equal(Math.Clamp(raw[i], 0, max), clipped[i]);
        }
        var single = Floats(BoxOps.Clip(Boxes(new float[] { -5, -3, 700, 500 }), 480, 640));
        Assert.Equal(new float[] { 0, 0, 640, 480 }, single);
        Assert.Throws<ArgumentException>(() => BoxOps.Clip(zeros(3, 5), 10, 10));
    }

    [Fact]
    public void RemoveSmall_keeps_boxes_with_both_sides_at_least_min_size()
    {
        using var scope = NewDisposeScope();
        var b = UniformBoxes(new Random(4), 200, minSize: 0, maxSize: 30);
        var expected = Enumerable.Range(0, 200)
            .Where(i => b[4 * i + 2] - b[4 * i] >= 16f && b[4 * i + 3] - b[4 * i + 1] >= 16f).Select(i => (long)i);
        var kept = BoxOps.RemoveSmall(Boxes(b), 16f);
        Assert.Equal(ScalarType.Int64, kept.dtype);
        Assert.Equal(expected, Longs(kept));
        Assert.Equal(new long[] { 0 }, Longs(BoxOps.RemoveSmall(Boxes(new float[] { 0, 0, 16, 16, 0, 0, 15.9f, 20 }), 16)));
    }

    [Fact]
    public void IsValid_flags_non_finite_and_degenerate_boxes()
    {
        using var scope = NewDisposeScope();
        var b = new float[]
        {
            0, 0, 10, 10,                // ok
            float.NaN, 0, 10, 10,
            0, 0, float.PositiveInfinity, 10,
            5, 0, 5, 10,                 // zero width
            0, 6, 10, 2,                 // negative height
            -3, -3, -1, -2,              // ok (outside the image is not invalid)
        };
        var valid = BoxOps.IsValid(Boxes(b)).data<bool>().ToArray();
        Assert.Equal(new[] { true, false, false, false, false, true }, valid);
    }

    [Fact]
    public void EnsureValid_names_the_input_the_first_bad_row_and_its_values()
    {
        using var scope = NewDisposeScope();
        BoxOps.EnsureValid(Boxes(UniformBoxes(new Random(5), 20)), "gt");
        var b = new float[] { 0, 0, 10, 10, 1, 1, 2, 2, 4, 8, 3, 9.5f, 5, 5, 5, 5 };
        var ex = Assert.Throws<ArgumentException>(() => BoxOps.EnsureValid(Boxes(b), "ground-truth boxes"));
        Assert.Contains("ground-truth boxes", ex.Message);
        Assert.Contains("box 2", ex.Message);
        Assert.Contains("4, 8, 3, 9.5", ex.Message);
        var shape = Assert.Throws<ArgumentException>(() => BoxOps.EnsureValid(zeros(2, 5), "rois"));
        Assert.Contains("rois", shape.Message);
    }
}
