using FastRcnn.Proposals;

namespace FastRcnn.Tests.Proposals;

public class SimilarityTests
{
    [Fact]
    public void HistogramIntersectionIsTheSumOfMinima()
    {
        Assert.Equal(0.5f, Similarity.HistogramIntersection([0.5f, 0.5f, 0f], [0.2f, 0.3f, 0.5f]), 6);
        var rng = new Random(1);
        var a = Enumerable.Range(0, 75).Select(_ => (float)rng.NextDouble()).ToArray();   // SIMD body + tail
        var b = Enumerable.Range(0, 75).Select(_ => (float)rng.NextDouble()).ToArray();
        float expected = a.Zip(b, MathF.Min).Sum();
        Assert.Equal(expected, Similarity.HistogramIntersection(a, b), 4);
        Assert.Equal(a.Sum(), Similarity.HistogramIntersection(a, a), 4);
    }

    [Fact]
    public void SizeAndFillFollowTheFormulas()
    {
        Assert.Equal(0.6f, Similarity.Size(10, 30, 100), 6);                 // 1 − 40/100
        var a = new PixelBox(0, 0, 2, 2);
        var b = new PixelBox(3, 3, 5, 5);
        Assert.Equal(1f - (25f - 8f) / 100f, Similarity.Fill(a, b, 4, 4, 100), 6);
        Assert.Equal(1f, Similarity.Fill(new PixelBox(0, 0, 2, 2), new PixelBox(2, 0, 4, 2), 4, 4, 100), 6);  // tiles its box
    }

    /// <summary>A 4×2 one-channel image: left half 0 (region 0), right half 255 / 128 (region 1), region 2 below.</summary>
    private static (Segmentation Seg, PlanarImage Image) TinyCase()
    {
        byte[] values = [0, 0, 255, 128, 0, 0, 128, 255, 50, 50, 50, 50];
        int[] labels = [0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 2, 2];
        return (new Segmentation(labels, 3, 4, 3), new PlanarImage(values, 1, 4, 3));
    }

    [Fact]
    public void RegionFeaturesHoldSizesBoxesAndNormalisedHistograms()
    {
        var (seg, image) = TinyCase();
        var f = RegionFeatures.Compute(seg, image);
        Assert.Equal(new[] { 4, 4, 4 }, f.Sizes);
        Assert.Equal(new PixelBox(0, 0, 2, 2), f.Boxes[0]);
        Assert.Equal(new PixelBox(2, 0, 4, 2), f.Boxes[1]);
        Assert.Equal(new PixelBox(0, 2, 4, 3), f.Boxes[2]);
        Assert.Equal(25, f.ColorLength);
        Assert.Equal(80, f.TextureLength);
        Assert.Equal(1f, f.ColorHistogram(0)[0]);                             // value 0 → bin 0
        Assert.Equal(0.5f, f.ColorHistogram(1)[24]);                          // 255·25/256 → 24
        Assert.Equal(0.5f, f.ColorHistogram(1)[12]);                          // 128·25/256 → 12
        Assert.Equal(1f, f.ColorHistogram(2)[4]);                             // 50·25/256 → 4
        for (int r = 0; r < 3; r++)
        {
            Assert.Equal(1f, f.TextureHistogram(r).ToArray().Sum(), 5);
            Assert.All(f.TextureHistogram(r).ToArray(), v => Assert.True(v >= 0));
        }

        // s(0, 1) with all terms: colour 0 (disjoint bins) + texture + size 1 − 8/12 + fill 1 − (8 − 8)/12.
        float texture = Similarity.HistogramIntersection(f.TextureHistogram(0), f.TextureHistogram(1));
        float expected = 0f + texture + (1f - 8f / 12f) + 1f;
        Assert.Equal(expected, Similarity.Compute(f, 0, 1, SimilarityTerms.All), 5);
        Assert.Equal(1f - 8f / 12f, Similarity.Compute(f, 0, 1, SimilarityTerms.Size), 6);
        Assert.Equal(0f, Similarity.Compute(f, 0, 1, SimilarityTerms.Color), 6);
    }

    [Fact]
    public void MergedRegionHistogramIsTheSizeWeightedAverage()
    {
        var scene = SyntheticScene.Standard();
        var image = ColorSpaces.Convert(scene.Rgb, scene.Width, scene.Height, ColorSpace.Hsv);
        var seg = GraphSegmentation.Segment(image, 100, 100);
        var f = RegionFeatures.Compute(seg, image);
        // Merge regions 0 and 1 in the label image (label 1 → 0, labels above 1 shift down).
        var merged = seg.Labels.Select(l => l == 1 ? 0 : l > 1 ? l - 1 : l).ToArray();
        var g = RegionFeatures.Compute(seg with { Labels = merged, RegionCount = seg.RegionCount - 1 }, image);
        float wa = f.Sizes[0] / (float)(f.Sizes[0] + f.Sizes[1]), wb = 1 - wa;
        for (int i = 0; i < f.ColorLength; i++)
            Assert.Equal(wa * f.ColorHistogram(0)[i] + wb * f.ColorHistogram(1)[i], g.ColorHistogram(0)[i], 5);
        for (int i = 0; i < f.TextureLength; i++)
            Assert.Equal(wa * f.TextureHistogram(0)[i] + wb * f.TextureHistogram(1)[i], g.TextureHistogram(0)[i], 5);
        Assert.Equal(PixelBox.Union(f.Boxes[0], f.Boxes[1]), g.Boxes[0]);
    }
}
