using FastRcnn.Proposals;

namespace FastRcnn.Tests.Proposals;

public class HierarchicalGroupingTests
{
    [Theory]
    [InlineData(50f)]
    [InlineData(300f)]
    public void NRegionsGiveExactlyNMinusOneMergesEndingInTheWholeImage(float k)
    {
        var scene = SyntheticScene.Standard();
        var image = ColorSpaces.Convert(scene.Rgb, scene.Width, scene.Height, ColorSpace.Lab);
        var seg = GraphSegmentation.Segment(image, k, (int)k);
        var features = RegionFeatures.Compute(seg, image);
        foreach (var terms in new[] { SimilarityTerms.All, SimilarityTerms.Texture | SimilarityTerms.Size | SimilarityTerms.Fill, SimilarityTerms.Fill, SimilarityTerms.Size })
        {
            var h = HierarchicalGrouping.Run(seg, features, terms);
            int n = seg.RegionCount;
            Assert.Equal(n, h.InitialCount);
            Assert.Equal(n - 1, h.MergeCount);
            Assert.Equal(2 * n - 1, h.Count);
            Assert.Equal(new PixelBox(0, 0, scene.Width, scene.Height), h.Boxes[^1]);
            var used = new bool[h.Count];
            for (int i = 0; i < h.MergeCount; i++)
            {
                int a = h.Children[2 * i], b = h.Children[2 * i + 1], t = n + i;
                Assert.True(a < t && b < t && !used[a] && !used[b], "each region is merged once, after it exists");
                used[a] = used[b] = true;
                Assert.Equal(PixelBox.Union(h.Boxes[a], h.Boxes[b]), h.Boxes[t]);
                Assert.Equal(1 + Math.Max(h.Levels[a], h.Levels[b]), h.Levels[t]);
            }
            Assert.All(h.Levels.Take(n), l => Assert.Equal(1, l));
        }
    }

    [Fact]
    public void SizeSimilarityMergesTheSmallestAdjacentPairFirst()
    {
        // One row: regions of widths 5, 1, 1, 20 → pairs (0,1) = 6 px, (1,2) = 2 px, (2,3) = 21 px.
        int[] labels = [.. Enumerable.Repeat(0, 5), 1, 2, .. Enumerable.Repeat(3, 20)];
        var seg = new Segmentation(labels, 4, labels.Length, 1);
        var image = new PlanarImage(new byte[labels.Length], 1, labels.Length, 1);
        var h = HierarchicalGrouping.Run(seg, RegionFeatures.Compute(seg, image), SimilarityTerms.Size);
        Assert.Equal(new[] { 1, 2, 4, 0, 5, 3 }, h.Children);     // {1,2} → 4; {4,0} → 5; {5,3} → 6
        Assert.Equal(new PixelBox(5, 0, 7, 1), h.Boxes[4]);
        Assert.Equal(new PixelBox(0, 0, 7, 1), h.Boxes[5]);
        Assert.Equal(new[] { 1, 1, 1, 1, 2, 3, 4 }, h.Levels);
    }

    [Fact]
    public void ColourSimilarityMergesTheSameColouredNeighboursFirst()
    {
        // Three columns: grey 3, grey 6 (the same 25-bin colour bin), white 250.
        int w = 30, hgt = 10;
        var values = new byte[w * hgt];
        var labels = new int[w * hgt];
        for (int p = 0; p < values.Length; p++)
        {
            int col = p % w / 10;
            labels[p] = col;
            values[p] = col switch { 0 => 3, 1 => 6, _ => 250 };
        }
        var seg = new Segmentation(labels, 3, w, hgt);
        var h = HierarchicalGrouping.Run(seg, RegionFeatures.Compute(seg, new PlanarImage(values, 1, w, hgt)), SimilarityTerms.Color);
        Assert.Equal(new[] { 0, 1 }, h.Children[..2]);
    }

    [Fact]
    public void OneRegionNeedsNoMerge()
    {
        var seg = new Segmentation(new int[12], 1, 4, 3);
        var h = HierarchicalGrouping.Run(seg, RegionFeatures.Compute(seg, new PlanarImage(new byte[12], 1, 4, 3)), SimilarityTerms.All);
        Assert.Equal(0, h.MergeCount);
        Assert.Equal(new PixelBox(0, 0, 4, 3), Assert.Single(h.Boxes));
    }
}
