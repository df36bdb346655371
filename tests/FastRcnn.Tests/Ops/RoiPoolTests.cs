using FastRcnn.Ops;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Ops;

public class RoiPoolTests
{
    private const float Stride16 = 1f / 16;

    private static float[] RandomFeatures(Random rng, int count) =>
        Enumerable.Range(0, count).Select(_ => (float)Math.Round(rng.NextDouble() * 8 - 4, 2)).ToArray(); // rounded: many ties

    private static float[] RandomRois(Random rng, int count, int images, float imageW, float imageH, bool onGrid)
    {
        var rois = new float[count * 5];
        for (int i = 0; i < count; i++)
        {
            float Coord(float size) => onGrid
                ? 8 * rng.Next(-4, (int)(size / 8) + 4)                   // multiples of 8: half of them hit .5 at 1/16
                : (float)(rng.NextDouble() * (size + 80) - 40);
            float x1 = Coord(imageW), x2 = Coord(imageW), y1 = Coord(imageH), y2 = Coord(imageH);
            if (rng.Next(8) != 0) { (x1, x2) = (Math.Min(x1, x2), Math.Max(x1, x2)); (y1, y2) = (Math.Min(y1, y2), Math.Max(y1, y2)); }
            rois[5 * i] = rng.Next(images);
            rois[5 * i + 1] = x1; rois[5 * i + 2] = y1; rois[5 * i + 3] = x2; rois[5 * i + 4] = y2;
        }
        return rois;
    }

    private static void AssertMatchesReference(float[] x, int n, int c, int h, int w, float[] rois, int ph, int pw, float scale)
    {
        using var scope = NewDisposeScope();
        var features = tensor(x).reshape(n, c, h, w);
        var roiTensor = tensor(rois).reshape(rois.Length / 5, 5);
        var (expected, expectedArgmax) = RoiPoolReference.Forward(x, n, c, h, w, rois, ph, pw, scale);
        var (output, argmax) = RoiPool.Forward(features, roiTensor, ph, pw, scale);
        Assert.Equal(new long[] { rois.Length / 5, c, ph, pw }, output.shape);
        Assert.Equal(expected, output.data<float>().ToArray());
        Assert.Equal(expectedArgmax, argmax.data<int>().ToArray());
    }

    [Theory]
    [InlineData(1, 16, 9, 11, 7, 7, 1)]     // VGG16's 7x7, one image
    [InlineData(2, 13, 12, 10, 6, 6, 2)]    // channels not a multiple of the SIMD width, two images
    [InlineData(3, 37, 5, 17, 3, 5, 3)]     // non-square output, three images
    [InlineData(2, 64, 20, 25, 7, 7, 4)]
    [InlineData(1, 147, 8, 9, 7, 7, 5)]   // AVX-512 groups, a Vector<float> group and a tail
    public void Forward_matches_the_reference_on_random_cases(int n, int c, int h, int w, int ph, int pw, int seed)
    {
        var rng = new Random(seed);
        var x = RandomFeatures(rng, n * c * h * w);
        AssertMatchesReference(x, n, c, h, w, RandomRois(rng, 60, n, w * 16, h * 16, onGrid: true), ph, pw, Stride16);
        AssertMatchesReference(x, n, c, h, w, RandomRois(rng, 60, n, w * 16, h * 16, onGrid: false), ph, pw, Stride16);
        AssertMatchesReference(x, n, c, h, w, RandomRois(rng, 30, n, w * 2, h * 2, onGrid: false), ph, pw, 0.5f);
    }

    [Theory]
    [InlineData(13, 21)]
    [InlineData(64, 22)]    // one AVX-512 group
    [InlineData(147, 23)]   // two AVX-512 groups, a Vector<float> group and a tail
    public void Inference_without_gradients_takes_the_max_only_path_with_the_same_output(int c, int seed)
    {
        var rng = new Random(seed);
        const int n = 2, h = 10, w = 12;
        var x = RandomFeatures(rng, n * c * h * w);
        var rois = RandomRois(rng, 50, n, w * 16, h * 16, onGrid: true);
        var (expected, _) = RoiPoolReference.Forward(x, n, c, h, w, rois, 7, 7, Stride16);
        using var scope = NewDisposeScope();
        var features = tensor(x).reshape(n, c, h, w);
        Assert.False(features.requires_grad);
        var output = RoiPool.Apply(features, tensor(rois).reshape(rois.Length / 5, 5), 7, 7, Stride16);
        Assert.Equal(expected, output.data<float>().ToArray());
    }

    [Fact]
    public void Coordinates_at_8_mod_16_round_half_away_from_zero()
    {
        // One row of 8 cells whose value is its column: the pooled maximum names the last column of the RoI.
        var x = Enumerable.Range(0, 8).Select(i => (float)i).ToArray();
        // x2 = 40 → 40/16 = 2.5 → 3 (banker's rounding would give 2); x2 = 56 → 3.5 → 4 either way.
        AssertMatchesReference(x, 1, 1, 1, 8, new float[] { 0, 0, 0, 40, 0 }, 1, 1, Stride16);
        var (output, _) = RoiPool.Forward(tensor(x).reshape(1, 1, 1, 8), tensor(new float[] { 0, 0, 0, 40, 0 }).reshape(1, 5), 1, 1, Stride16);
        Assert.Equal(3f, output.item<float>());
        // x1 = x2 = 8 → 0.5 → 1 at both ends: the RoI is exactly column 1, even where column 0 is larger.
        var falling = x.Reverse().ToArray();
        var (single, argmax) = RoiPool.Forward(tensor(falling).reshape(1, 1, 1, 8), tensor(new float[] { 0, 8, 0, 8, 0 }).reshape(1, 5), 1, 1, Stride16);
        Assert.Equal(falling[1], single.item<float>());
        Assert.Equal(1, argmax.item<int>());
    }

    [Fact]
    public void RoIs_partly_or_wholly_outside_the_map_are_clamped_or_empty()
    {
        var rng = new Random(7);
        var x = RandomFeatures(rng, 2 * 8 * 6 * 7);
        var rois = new float[]
        {
            0, -300, -200, 40, 50,        // partly left/above
            1, 60, 40, 5000, 4000,        // partly right/below
            0, -900, -900, -500, -600,    // wholly above-left: every bin empty
            1, 2000, 1500, 2600, 1900,    // wholly below-right: every bin empty
        };
        AssertMatchesReference(x, 2, 8, 6, 7, rois, 7, 7, Stride16);
        var (output, argmax) = RoiPool.Forward(tensor(x).reshape(2, 8, 6, 7), tensor(rois).reshape(4, 5), 7, 7, Stride16);
        Assert.True(output[2].Eq(0).all().item<bool>() && argmax[2].Eq(-1).all().item<bool>());
        Assert.True(output[3].Eq(0).all().item<bool>() && argmax[3].Eq(-1).all().item<bool>());
    }

    [Fact]
    public void Degenerate_and_tiny_RoIs_give_bins_narrower_than_a_cell()
    {
        var rng = new Random(11);
        var x = RandomFeatures(rng, 1 * 9 * 10 * 10);
        var rois = new float[]
        {
            0, 100, 100, 60, 40,      // x2 < x1 and y2 < y1: width and height become 1 cell
            0, 30, 30, 50, 45,        // about 2x2 cells pooled into 7x7: bins overlap
            0, 64, 64, 64, 64,        // a point
        };
        AssertMatchesReference(x, 1, 9, 10, 10, rois, 7, 7, Stride16);
    }

    [Fact]
    public void The_first_maximum_in_row_major_order_wins_ties()
    {
        var x = Enumerable.Repeat(1f, 2 * 4 * 4).ToArray();
        var (_, argmax) = RoiPool.Forward(tensor(x).reshape(1, 2, 4, 4), tensor(new float[] { 0, 0, 0, 63, 63 }).reshape(1, 5), 2, 2, Stride16);
        // 4x4 cells into 2x2 bins of 2x2 cells: each bin picks its top-left cell.
        Assert.Equal(new[] { 0, 2, 8, 10, 0, 2, 8, 10 }, argmax.data<int>().ToArray());
    }

    [Theory]
    [InlineData(19, 3)]   // fewer channels than one SIMD group
    [InlineData(69, 4)]   // two full groups and a tail
    public void Backward_matches_the_reference_on_random_cases(int c, int seed)
    {
        var rng = new Random(seed);
        const int n = 2, h = 11, w = 13, ph = 7, pw = 7;
        var x = RandomFeatures(rng, n * c * h * w);
        var rois = RandomRois(rng, 80, n, w * 16, h * 16, onGrid: true);
        int r = rois.Length / 5;
        var gradOut = Enumerable.Range(0, r * c * ph * pw).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var (_, argmax) = RoiPoolReference.Forward(x, n, c, h, w, rois, ph, pw, Stride16);
        var expected = RoiPoolReference.Backward(gradOut, argmax, rois, n, c, h, w, ph * pw);

        using var scope = NewDisposeScope();
        var features = tensor(x).reshape(n, c, h, w).requires_grad_();
        var output = RoiPool.Apply(features, tensor(rois).reshape(r, 5), ph, pw, Stride16);
        output.backward([tensor(gradOut).reshape(output.shape)]);
        Assert.Equal(expected, features.grad!.data<float>().ToArray());

        // The same sums in the same order whatever the thread count.
        int threads = Parallelism.Threads;
        try
        {
            Parallelism.Threads = 1;
            var (_, argmaxTensor) = RoiPool.Forward(features, tensor(rois).reshape(r, 5), ph, pw, Stride16);
            var single = RoiPool.Backward(tensor(gradOut).reshape(output.shape), argmaxTensor, tensor(rois).reshape(r, 5), features.shape);
            Assert.Equal(expected, single.data<float>().ToArray());
        }
        finally { Parallelism.Threads = threads; }
    }

    [Fact]
    public void A_cell_that_is_the_argmax_of_many_bins_and_RoIs_receives_all_their_gradients()
    {
        // One dominant cell at (row 3, col 4) of a 1x1x8x10 map; overlapping RoIs around it, with
        // 7x7 bins over few cells so that several bins of each RoI contain it (paper eq. 4).
        const int h = 8, w = 10;
        var x = Enumerable.Range(0, h * w).Select(i => (float)(i % 7) * 0.1f).ToArray();
        x[3 * w + 4] = 100;
        var rois = new float[] { 0, 48, 32, 80, 64, 0, 32, 16, 96, 80, 0, 64, 48, 64, 48, 0, 0, 0, 159, 127 };
        int r = rois.Length / 5;
        var gradOut = Enumerable.Range(0, r * 49).Select(i => 1f + i % 5).ToArray();

        var (_, argmax) = RoiPoolReference.Forward(x, 1, 1, h, w, rois, 7, 7, Stride16);
        float expected = 0;
        int hits = 0;
        for (int o = 0; o < argmax.Length; o++)
            if (argmax[o] == 3 * w + 4) { expected += gradOut[o]; hits++; }
        Assert.True(hits > 10, $"the test needs the cell to win many bins, it won {hits}");

        using var scope = NewDisposeScope();
        var features = tensor(x).reshape(1, 1, h, w).requires_grad_();
        RoiPool.Apply(features, tensor(rois).reshape(r, 5), 7, 7, Stride16).backward([tensor(gradOut).reshape(r, 1, 7, 7)]);
        var grad = features.grad!.data<float>().ToArray();
        Assert.Equal(expected, grad[3 * w + 4]);
        Assert.Equal(RoiPoolReference.Backward(gradOut, argmax, rois, 1, 1, h, w, 49), grad);
    }

    [Fact]
    public void Gradients_flow_through_the_layer_and_further_ops()
    {
        using var scope = NewDisposeScope();
        var features = randn(2, 8, 6, 6, generator: manual_seed(5)).requires_grad_();
        var layer = new RoiPoolLayer(3, 3, Stride16);
        var rois = tensor(new float[] { 0, 0, 0, 95, 95, 1, 16, 16, 80, 64 }).reshape(2, 5);
        var loss = layer.forward(features, rois).Square().sum();
        loss.backward();
        var (output, argmax) = RoiPool.Forward(features, rois, 3, 3, Stride16);
        var expected = RoiPool.Backward(output.Mul(2), argmax, rois, features.shape);
        Assert.True(features.grad!.allclose(expected));
        Assert.True(features.grad!.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void No_RoIs_give_an_empty_output_and_a_zero_gradient()
    {
        using var scope = NewDisposeScope();
        var features = randn(1, 4, 5, 5).requires_grad_();
        var output = RoiPool.Apply(features, zeros(0, 5), 7, 7, Stride16);
        Assert.Equal(new long[] { 0, 4, 7, 7 }, output.shape);
        output.sum().backward();
        Assert.Equal(0f, features.grad!.abs().sum().item<float>());
    }

    [Fact]
    public void Bad_arguments_are_rejected_with_a_clear_message()
    {
        using var scope = NewDisposeScope();
        var features = zeros(2, 3, 4, 4);
        var e = Assert.Throws<ArgumentException>(() => RoiPool.Forward(features, tensor(new float[] { 2, 0, 0, 8, 8 }).reshape(1, 5), 2, 2, Stride16));
        Assert.Contains("batch indices", e.Message);
        Assert.Throws<ArgumentException>(() => RoiPool.Forward(features, zeros(3, 4), 2, 2, Stride16));
        Assert.Throws<ArgumentException>(() => RoiPool.Forward(zeros(3, 4, 4), zeros(1, 5), 2, 2, Stride16));
        Assert.Throws<ArgumentException>(() => RoiPool.Forward(features, zeros(1, 5), 0, 2, Stride16));
    }
}
