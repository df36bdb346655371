using FastRcnn.Modeling.Rpn;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Modeling.Rpn;

public sealed class AnchorGeneratorTests
{
    private static float[] Row(Tensor anchors, long i) => anchors[i].data<float>().ToArray();

    private static void Near(double[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 3);
    }

    [Fact]
    public void Cell_anchors_are_ratio_major_with_area_size_squared_and_h_over_w_the_ratio()
    {
        using var generator = new AnchorGenerator([128, 256, 512], [0.5, 1, 2], stride: 16);
        Assert.Equal(9, generator.AnchorsPerCell);
        var cell = generator.CellAnchors();
        Assert.Equal(new long[] { 9, 4 }, cell.shape);
        // Ratio 0.5, size 128: w = 128/√0.5 = 181.019, h = 128·√0.5 = 90.510.
        Near([-90.5097, -45.2548, 90.5097, 45.2548], Row(cell, 0));
        // Ratio 1, size 256: a 256 square.
        Near([-128, -128, 128, 128], Row(cell, 4));
        // Ratio 2, size 512: w = 362.039, h = 724.077.
        Near([-181.0193, -362.0387, 181.0193, 362.0387], Row(cell, 8));
        for (int a = 0; a < 9; a++)
        {
            var b = Row(cell, a);
            double w = b[2] - b[0], h = b[3] - b[1];
            Assert.Equal(Math.Pow(new[] { 128.0, 256, 512 }[a % 3], 2), w * h, 0);
            Assert.Equal(new[] { 0.5, 1, 2 }[a / 3], h / w, 4);
        }
    }

    [Fact]
    public void Grid_is_y_x_anchor_row_major_centred_on_cell_centres()
    {
        using var generator = new AnchorGenerator([32], [0.5, 1, 2], stride: 16);
        var anchors = generator.Anchors(2, 3);                        // h = 2, w = 3
        Assert.Equal(new long[] { 2 * 3 * 3, 4 }, anchors.shape);
        Assert.Equal(ScalarType.Float32, anchors.dtype);
        // Cell (y 0, x 0), ratio 1: centre (8, 8), a 32 square.
        Near([-8, -8, 24, 24], Row(anchors, 1));
        // Cell (y 1, x 2), ratio 2: index (1·3 + 2)·3 + 2 = 17, centre (40, 24), w = 32/√2 = 22.627, h = 45.255.
        Near([40 - 11.3137, 24 - 22.6274, 40 + 11.3137, 24 + 22.6274], Row(anchors, 17));
        // Cell (y 0, x 1), ratio 0.5: index 3, centre (24, 8), w = 45.255, h = 22.627.
        Near([24 - 22.6274, 8 - 11.3137, 24 + 22.6274, 8 + 11.3137], Row(anchors, 3));
        // Every anchor against a naive loop.
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 3; x++)
                for (int a = 0; a < 3; a++)
                {
                    double r = new[] { 0.5, 1, 2 }[a], w = 32 / Math.Sqrt(r), h = 32 * Math.Sqrt(r), cx = 16 * x + 8, cy = 16 * y + 8;
                    Near([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], Row(anchors, (y * 3 + x) * 3 + a));
                }
    }

    [Fact]
    public void Grids_are_cached_per_size_and_survive_dispose_scopes()
    {
        using var generator = new AnchorGenerator([64, 128], [1], stride: 8);
        Tensor first;
        using (NewDisposeScope())
        {
            first = generator.Anchors(4, 5);
            first.Dispose();                                        // the caller's handle only
        }
        var again = generator.Anchors(4, 5);
        Assert.Equal(new long[] { 40, 4 }, again.shape);
        Assert.Equal(new float[] { -28, -28, 36, 36 }, Row(again, 0));
        Assert.Equal(new long[] { 6, 4 }, generator.Anchors(3, 1).shape);
        Assert.Equal(0, generator.Anchors(0, 5).shape[0]);
    }

    [Fact]
    public void Bad_arguments_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => new AnchorGenerator([], [1], 16));
        Assert.Throws<ArgumentException>(() => new AnchorGenerator([32, -1], [1], 16));
        Assert.Throws<ArgumentException>(() => new AnchorGenerator([32], [0], 16));
        Assert.Throws<ArgumentException>(() => new AnchorGenerator([32], [1], 0));
        using var generator = new AnchorGenerator([32], [1], 16);
        Assert.Throws<ArgumentException>(() => generator.Anchors(-1, 2));
    }
}
