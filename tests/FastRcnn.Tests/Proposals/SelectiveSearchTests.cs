using System.Diagnostics;
using FastRcnn.Proposals;
using Xunit.Abstractions;

namespace FastRcnn.Tests.Proposals;

public class SelectiveSearchTests(ITestOutputHelper output)
{
    [Fact]
    public void FastModeFindsTheSixShapesOfTheSyntheticScene()
    {
        var scene = SyntheticScene.Standard();
        var ss = new SelectiveSearch();
        ss.Run(scene.Rgb, scene.Width, scene.Height);                       // warm-up (JIT)
        var sw = Stopwatch.StartNew();
        var proposals = ss.Run(scene.Rgb, scene.Width, scene.Height);
        sw.Stop();
        double r5 = SyntheticScene.Recall(proposals, scene.Objects, 0.5), r7 = SyntheticScene.Recall(proposals, scene.Objects, 0.7);
        output.WriteLine($"{proposals.Count} boxes, recall@0.5 {r5:F3}, recall@0.7 {r7:F3}, {sw.Elapsed.TotalMilliseconds:F0} ms");
        Assert.Equal(12, proposals.StrategyCount);
        Assert.Equal(1.0, r5);
        Assert.True(r7 >= 5 / 6.0, $"recall@0.7 = {r7}");
        Assert.InRange(proposals.Count, 100, 10000);
        Assert.Equal(1.0, SyntheticScene.Recall(proposals.Take(1000), scene.Objects, 0.5));   // the ranking puts them early
    }

    [Fact]
    public void BoxesAreInsideTheImageUniqueAndNotTooSmall()
    {
        var scene = SyntheticScene.Standard(seed: 11);
        var p = new SelectiveSearch(new SelectiveSearchOptions { MinBoxSize = 25 }).Run(scene.Rgb, scene.Width, scene.Height);
        var seen = new HashSet<(float, float, float, float)>();
        for (int i = 0; i < p.Count; i++)
        {
            var b = p.Box(i);
            Assert.True(b[0] >= 0 && b[1] >= 0 && b[2] <= scene.Width && b[3] <= scene.Height);
            Assert.True(b[2] - b[0] >= 25 && b[3] - b[1] >= 25);
            Assert.True(seen.Add((b[0], b[1], b[2], b[3])), "duplicate box");
        }
        Assert.Contains((0f, 0f, (float)scene.Width, (float)scene.Height), seen);
    }

    [Fact]
    public void SameSeedGivesTheSameBoxesWithOrWithoutParallelism()
    {
        var scene = SyntheticScene.Standard();
        var a = new SelectiveSearch(new SelectiveSearchOptions { Seed = 5 }).Run(scene.Rgb, scene.Width, scene.Height);
        var b = new SelectiveSearch(new SelectiveSearchOptions { Seed = 5 }).Run(scene.Rgb, scene.Width, scene.Height);
        var c = new SelectiveSearch(new SelectiveSearchOptions { Seed = 5, Parallel = false }).Run(scene.Rgb, scene.Width, scene.Height);
        Assert.Equal(a.Boxes, b.Boxes);
        Assert.Equal(a.Boxes, c.Boxes);
    }

    [Fact]
    public void DifferentSeedsReorderTheSameBoxes()
    {
        // Without near-duplicate removal (which keeps whichever of two close boxes ranks first).
        var scene = SyntheticScene.Standard();
        var a = new SelectiveSearch(new SelectiveSearchOptions { Seed = 1, DuplicateIoU = null }).Run(scene.Rgb, scene.Width, scene.Height);
        var b = new SelectiveSearch(new SelectiveSearchOptions { Seed = 2, DuplicateIoU = null }).Run(scene.Rgb, scene.Width, scene.Height);
        Assert.NotEqual(a.Boxes, b.Boxes);
        Assert.Equal(a.Count, b.Count);
        static IEnumerable<string> Set(ProposalSet p) => Enumerable.Range(0, p.Count).Select(i => string.Join(",", p.Box(i).ToArray())).Order();
        Assert.Equal(Set(a), Set(b));
    }

    [Fact]
    public void MaxBoxesKeepsTheBestRankedPrefix()
    {
        var scene = SyntheticScene.Standard();
        var all = new SelectiveSearch().Run(scene.Rgb, scene.Width, scene.Height);
        var capped = new SelectiveSearch(new SelectiveSearchOptions { MaxBoxes = 100 }).Run(scene.Rgb, scene.Width, scene.Height);
        Assert.Equal(100, capped.Count);
        Assert.Equal(all.Boxes.AsSpan(0, 400).ToArray(), capped.Boxes);
    }

    [Fact]
    public void DuplicateIoUIsAGreedyNmsInRankOrder()
    {
        var scene = SyntheticScene.Standard(seed: 4);
        var all = new SelectiveSearch(new SelectiveSearchOptions { DuplicateIoU = null }).Run(scene.Rgb, scene.Width, scene.Height);
        const float t = 0.8f;
        var kept = new SelectiveSearch(new SelectiveSearchOptions { DuplicateIoU = t }).Run(scene.Rgb, scene.Width, scene.Height);
        static double IoU(ReadOnlySpan<float> a, ReadOnlySpan<float> b) =>
            ProposalRecall.IoU(new FastRcnn.Data.BoundingBox(a[0], a[1], a[2], a[3]), b);
        // Walk the full ranked list: a box is kept exactly when no kept box before it overlaps it with IoU ≥ t.
        var expected = new List<int>();
        for (int i = 0; i < all.Count; i++)
        {
            bool near = false;
            foreach (int j in expected)
                if (IoU(all.Box(j), all.Box(i)) >= (double)t) { near = true; break; }
            if (!near) expected.Add(i);
        }
        Assert.True(kept.Count < all.Count, $"{kept.Count} of {all.Count} kept");
        Assert.Equal(expected.Count, kept.Count);
        for (int i = 0; i < kept.Count; i++) Assert.Equal(all.Box(expected[i]).ToArray(), kept.Box(i).ToArray());
    }

    [Fact]
    public void DiverseIoUMovesOverlappingBoxesBehindTheOthers()
    {
        var scene = SyntheticScene.Standard(seed: 6);
        var plain = new SelectiveSearch(new SelectiveSearchOptions { DuplicateIoU = null }).Run(scene.Rgb, scene.Width, scene.Height);
        var diverse = new SelectiveSearch(new SelectiveSearchOptions { DuplicateIoU = null, DiverseIoU = 0.6f }).Run(scene.Rgb, scene.Width, scene.Height);
        static string Key(ReadOnlySpan<float> b) => string.Join(",", b.ToArray());
        Assert.Equal(Enumerable.Range(0, plain.Count).Select(i => Key(plain.Box(i))).Order(), Enumerable.Range(0, diverse.Count).Select(i => Key(diverse.Box(i))).Order());
        // The leading run is pairwise below the threshold; the first box after it overlaps one of them.
        int lead = 0;
        bool Overlaps(int i, int upTo)
        {
            for (int j = 0; j < upTo; j++)
                if (ProposalRecall.IoU(new FastRcnn.Data.BoundingBox(diverse.Box(j)[0], diverse.Box(j)[1], diverse.Box(j)[2], diverse.Box(j)[3]), diverse.Box(i)) >= 0.6f)
                    return true;
            return false;
        }
        while (lead < diverse.Count && !Overlaps(lead, lead)) lead++;
        Assert.InRange(lead, 10, diverse.Count - 1);
        Assert.Equal(Key(plain.Box(0)), Key(diverse.Box(0)));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 2)]
    [InlineData(1, 40)]
    [InlineData(17, 9)]
    public void TinyImagesGiveAtLeastTheWholeImage(int width, int height)
    {
        var rgb = new byte[width * height * 3];
        new Random(width * 31 + height).NextBytes(rgb);
        var p = new SelectiveSearch(new SelectiveSearchOptions { Mode = SelectiveSearchMode.Quality }).Run(rgb, width, height);
        Assert.InRange(p.Count, 1, 2 * width * height);
        Assert.Contains(Enumerable.Range(0, p.Count), i => p.Box(i).SequenceEqual(new float[] { 0, 0, width, height }));
    }

    [Fact]
    public void ResizeRunsSmallerAndMapsBoxesBack()
    {
        var scene = SyntheticScene.Standard();
        var p = new SelectiveSearch(new SelectiveSearchOptions { ResizeTo = 250 }).Run(scene.Rgb, scene.Width, scene.Height);
        Assert.Equal(scene.Width, p.ImageWidth);
        for (int i = 0; i < p.Count; i++)
        {
            var b = p.Box(i);
            Assert.True(b[0] >= 0 && b[1] >= 0 && b[2] <= scene.Width + 1e-3 && b[3] <= scene.Height + 1e-3 && b[2] > b[0] && b[3] > b[1]);
        }
        double r5 = SyntheticScene.Recall(p, scene.Objects, 0.5);
        output.WriteLine($"resized to 250: {p.Count} boxes, recall@0.5 {r5:F3}");
        Assert.True(r5 >= 5 / 6.0, $"recall@0.5 = {r5}");
        // A small image is not enlarged unless asked.
        var same = new SelectiveSearch(new SelectiveSearchOptions { ResizeTo = 1000 }).Run(scene.Rgb, scene.Width, scene.Height);
        Assert.Equal(new SelectiveSearch().Run(scene.Rgb, scene.Width, scene.Height).Boxes, same.Boxes);
    }

    [Fact]
    public void LargeImagesAreSearchedOnADownscaledCopyWithBoxesInFullResolution()
    {
        // By default: a 48-megapixel photo is searched at no more than 2.5 megapixels, aspect kept.
        Assert.Equal(SelectiveSearchOptions.DefaultMaxPixels, new SelectiveSearchOptions().MaxPixels);
        var (w, h) = ImageResize.TargetSize(8000, 6000, new SelectiveSearchOptions());
        Assert.Equal((1825, 1369), (w, h));
        Assert.True((long)w * h <= SelectiveSearchOptions.DefaultMaxPixels);
        Assert.Equal((640, 480), ImageResize.TargetSize(640, 480, new SelectiveSearchOptions()));   // VOC/COCO sizes: as they are

        // A 400×300 image with a cap of 30 000 pixels is searched at 200×150: the same boxes as searching that copy, ×2.
        var scene = SyntheticScene.Standard();
        var big = ImageResize.Rgb(scene.Rgb, scene.Width, scene.Height, 400, 300);
        var capped = new SelectiveSearch(new SelectiveSearchOptions { MaxPixels = 30_000 }).Run(big, 400, 300);
        var small = ImageResize.Rgb(big, 400, 300, 200, 150);
        var reference = new SelectiveSearch(new SelectiveSearchOptions { MaxPixels = null }).Run(small, 200, 150);
        Assert.Equal((400, 300), (capped.ImageWidth, capped.ImageHeight));
        Assert.Equal(reference.Count, capped.Count);
        Assert.Equal(reference.Boxes[..(4 * reference.Count)].Select(v => 2 * v), capped.Boxes[..(4 * capped.Count)]);
        Assert.Contains(Enumerable.Range(0, capped.Count), i => capped.Box(i).SequenceEqual(new float[] { 0, 0, 400, 300 }));
    }

    [Fact]
    public void ModesDefineTheirStrategies()
    {
        Assert.Single(new SelectiveSearch(new SelectiveSearchOptions { Mode = SelectiveSearchMode.Single }).Strategies);
        var fast = new SelectiveSearch().Strategies;
        Assert.Equal(12, fast.Count);
        Assert.Equal(new SelectiveSearchStrategy(ColorSpace.Hsv, 75, SimilarityTerms.All), fast[0]);
        Assert.Equal(new SelectiveSearchStrategy(ColorSpace.Lab, 300, SimilarityTerms.Texture | SimilarityTerms.Size | SimilarityTerms.Fill), fast[^1]);
        var rcnn = new SelectiveSearch(SelectiveSearchOptions.RcnnFast).Strategies;
        Assert.Equal(8, rcnn.Count);
        Assert.Equal(new SelectiveSearchStrategy(ColorSpace.Lab, 100, SimilarityTerms.Texture | SimilarityTerms.Size | SimilarityTerms.Fill), rcnn[^1]);
        Assert.Equal(80, new SelectiveSearchOptions { Mode = SelectiveSearchMode.Quality }.Strategies().Count);
        var custom = new SelectiveSearchOptions { ColorSpaces = [ColorSpace.Rgb], Ks = [200], SimilaritySets = [SimilarityTerms.Fill] };
        Assert.Equal([new SelectiveSearchStrategy(ColorSpace.Rgb, 200, SimilarityTerms.Fill)], custom.Strategies());
        Assert.Throws<ArgumentException>(() => new SelectiveSearch(new SelectiveSearchOptions { Ks = [] }));
        Assert.Throws<ArgumentException>(() => new SelectiveSearch(new SelectiveSearchOptions { SimilaritySets = [SimilarityTerms.None] }));
        Assert.Throws<ArgumentException>(() => new SelectiveSearch(new SelectiveSearchOptions { Sigma = -1 }));
        Assert.Throws<ArgumentException>(() => new SelectiveSearch().Run(new byte[10], 2, 2));
    }

    [Fact]
    public void ToTensorIsRByFour()
    {
        var p = new ProposalSet([0, 0, 4, 3, 1, 1, 2, 2], 2, 4, 3);
        using var t = p.ToTensor();
        Assert.Equal(new long[] { 2, 4 }, t.shape);
        Assert.Equal(2f, t[1, 3].item<float>());
    }
}
