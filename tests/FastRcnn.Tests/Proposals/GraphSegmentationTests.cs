using FastRcnn.Proposals;

namespace FastRcnn.Tests.Proposals;

public class GraphSegmentationTests
{
    /// <summary>An 80×60 RGB image of four flat 40×30 blocks (raster order TL, TR, BL, BR).</summary>
    private static byte[] FourBlocks(out int width, out int height)
    {
        width = 80;
        height = 60;
        (byte, byte, byte)[] colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (220, 220, 40)];
        var rgb = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                var (r, g, b) = colours[(y / 30) * 2 + x / 40];
                int o = (y * width + x) * 3;
                rgb[o] = r;
                rgb[o + 1] = g;
                rgb[o + 2] = b;
            }
        }
        return rgb;
    }

    private static int Block(int p, int width) => (p / width / 30) * 2 + (p % width) / 40;

    [Fact]
    public void FlatBlocksWithoutSmoothingGiveExactlyThoseComponents()
    {
        var rgb = FourBlocks(out int w, out int h);
        var seg = GraphSegmentation.Segment(rgb, w, h, k: 100, minSize: 1, sigma: 0);
        Assert.Equal(4, seg.RegionCount);
        for (int p = 0; p < w * h; p++) Assert.Equal(Block(p, w), seg.Labels[p]);  // raster order: TL, TR, BL, BR
    }

    [Fact]
    public void FlatBlocksWithSmoothingKeepTheBlockInteriorsApart()
    {
        // σ = 0.8 smears each colour step over ±2 pixels; those boundary pixels may form strip
        // components of their own (Int(C) = 0 in a flat block refuses every non-zero edge — the original
        // behaves the same), but every pixel farther from a boundary belongs to its block's component.
        var rgb = FourBlocks(out int w, out int h);
        var seg = GraphSegmentation.Segment(rgb, w, h, k: 100, minSize: 100, sigma: 0.8f);
        var blockLabel = new int[4];
        Array.Fill(blockLabel, -1);
        for (int p = 0; p < w * h; p++)
        {
            int x = p % w, y = p / w;
            bool interior = Math.Abs(x - 39.5) > 3 && Math.Abs(y - 29.5) > 3;
            if (!interior) continue;
            int b = Block(p, w);
            if (blockLabel[b] < 0) blockLabel[b] = seg.Labels[p];
            Assert.Equal(blockLabel[b], seg.Labels[p]);
        }
        Assert.Equal(4, blockLabel.Distinct().Count());
        Assert.InRange(seg.RegionCount, 4, 8);
    }

    [Fact]
    public void BlurredBoundariesFormThinStripsWhenMinSizeIsSmall()
    {
        // σ = 0.8 smears each colour step over ±2 pixels; with Int(C) = 0 inside a flat block the
        // criterion refuses every non-zero edge, so the strips stay separate (the original behaves so).
        var rgb = FourBlocks(out int w, out int h);
        var seg = GraphSegmentation.Segment(rgb, w, h, k: 100, minSize: 1, sigma: 0.8f);
        Assert.True(seg.RegionCount > 4);
    }

    [Fact]
    public void UniformImageIsOneRegion()
    {
        var rgb = Enumerable.Repeat((byte)77, 31 * 17 * 3).ToArray();
        var seg = GraphSegmentation.Segment(rgb, 31, 17, k: 50, minSize: 20);
        Assert.Equal(1, seg.RegionCount);
        Assert.All(seg.Labels, l => Assert.Equal(0, l));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 9)]
    [InlineData(9, 1)]
    [InlineData(2, 2)]
    public void TinyImagesWork(int width, int height)
    {
        var rng = new Random(3);
        var rgb = new byte[width * height * 3];
        rng.NextBytes(rgb);
        var seg = GraphSegmentation.Segment(rgb, width, height, k: 50, minSize: 50);
        Assert.Equal(width * height, seg.Labels.Length);
        Assert.Equal(1, seg.RegionCount);                     // min_size exceeds the image: everything joins
        var free = GraphSegmentation.Segment(rgb, width, height, k: 0.001f, minSize: 1, sigma: 0);
        Assert.InRange(free.RegionCount, 1, width * height);
    }

    [Fact]
    public void ComponentsRespectMinSizeAndLabelsAreInRasterOrder()
    {
        var scene = SyntheticScene.Standard();
        var seg = GraphSegmentation.Segment(scene.Rgb, scene.Width, scene.Height, k: 100, minSize: 100);
        var sizes = new int[seg.RegionCount];
        int next = 0;
        foreach (int l in seg.Labels)
        {
            Assert.InRange(l, 0, next);                       // a new label is always the next unused one
            if (l == next) next++;
            sizes[l]++;
        }
        Assert.Equal(seg.RegionCount, next);
        Assert.All(sizes, s => Assert.True(s >= 100, $"component of {s} pixels"));
        Assert.InRange(seg.RegionCount, 7, 2000);
    }

    [Fact]
    public void LargerKGivesFewerRegions()
    {
        var scene = SyntheticScene.Standard();
        var image = ColorSpaces.Convert(scene.Rgb, scene.Width, scene.Height, ColorSpace.Lab);
        int fine = GraphSegmentation.Segment(image, k: 50, minSize: 50).RegionCount;
        int coarse = GraphSegmentation.Segment(image, k: 500, minSize: 50).RegionCount;
        Assert.True(coarse < fine, $"k=500: {coarse}, k=50: {fine}");
    }
}
