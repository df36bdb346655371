using System.Reflection;
using FastRcnn.Proposals;

namespace FastRcnn.Tests.Proposals;

/// <summary>The content-keyed proposal cache: hits, misses on changed images or settings, damaged entries.</summary>
public sealed class ProposalCacheTests(SmallShapesFixture shapes) : IClassFixture<SmallShapesFixture>
{
    private static readonly SelectiveSearchOptions Fast = new() { MaxBoxes = 300 };

    [Fact]
    public void A_second_run_is_served_from_the_cache_with_the_same_boxes()
    {
        var ds = shapes.Split.Load();
        string cache = shapes.Split.NewDir("cache");
        var run = new ProposalRunOptions { Search = Fast, CacheDirectory = cache };
        var (first, s1) = DatasetProposals.Compute(ds, run);
        var (second, s2) = DatasetProposals.Compute(ds, run);
        Assert.Equal((ds.Images.Count, 0), (s1.Computed, s1.FromCache));
        Assert.Equal((0, ds.Images.Count), (s2.Computed, s2.FromCache));
        foreach (var image in ds.Images)
            Assert.Equal(first.BoxesOf(image.Id), second.BoxesOf(image.Id));
        // The boxes are exactly what selective search gives for the decoded image.
        var img = FastRcnn.Imaging.ImageIO.Read(ds.Images[0].ImagePath);
        var direct = new SelectiveSearch(Fast).Run(img.Data, img.Width, img.Height);
        Assert.Equal(direct.Boxes[..(4 * direct.Count)], second.BoxesOf(ds.Images[0].Id));
    }

    [Fact]
    public void Changed_image_bytes_or_a_changed_setting_are_recomputed()
    {
        var ds = shapes.Split.Load();
        string cache = shapes.Split.NewDir("cache");
        var run = new ProposalRunOptions { Search = Fast, CacheDirectory = cache };
        DatasetProposals.Compute(ds, run);

        // Re-encode one image at another JPEG quality: same id, same path, different bytes.
        var victim = ds.Images[2];
        var pixels = FastRcnn.Imaging.ImageIO.Read(victim.ImagePath);
        var before = File.ReadAllBytes(victim.ImagePath);
        try
        {
            FastRcnn.Imaging.ImageIO.WriteJpeg(pixels, victim.ImagePath, quality: 60);
            var (_, s) = DatasetProposals.Compute(ds, run);
            Assert.Equal((1, ds.Images.Count - 1), (s.Computed, s.FromCache));
        }
        finally
        {
            File.WriteAllBytes(victim.ImagePath, before);
        }

        var (_, other) = DatasetProposals.Compute(ds, run with { Search = Fast with { Seed = 7 } });
        Assert.Equal(ds.Images.Count, other.Computed);
        var (_, again) = DatasetProposals.Compute(ds, run with { Search = Fast with { Parallel = false } });   // not an output setting
        Assert.Equal(ds.Images.Count, again.FromCache);
    }

    [Fact]
    public void A_damaged_entry_is_detected_and_recomputed()
    {
        var ds = shapes.Split.Load();
        string dir = shapes.Split.NewDir("cache");
        var run = new ProposalRunOptions { Search = Fast, CacheDirectory = dir };
        var (good, _) = DatasetProposals.Compute(ds, run);
        var cache = new ProposalCache(dir, Fast);
        string Entry(int i) => cache.EntryPath(ProposalRecord.Hash(File.ReadAllBytes(ds.Images[i].ImagePath)));

        var flipped = File.ReadAllBytes(Entry(0));
        flipped[flipped.Length / 2] ^= 0x40;                   // one bit inside the boxes
        File.WriteAllBytes(Entry(0), flipped);
        var truncated = File.ReadAllBytes(Entry(1));
        File.WriteAllBytes(Entry(1), truncated[..^9]);         // a torn write
        File.WriteAllBytes(Entry(3), []);                      // an empty file

        var (again, s) = DatasetProposals.Compute(ds, run);
        Assert.Equal((3, 3, ds.Images.Count - 3), (s.CorruptCacheEntries, s.Computed, s.FromCache));
        foreach (var image in ds.Images)
            Assert.Equal(good.BoxesOf(image.Id), again.BoxesOf(image.Id));
        Assert.NotNull(cache.TryGet(ProposalRecord.Hash(File.ReadAllBytes(ds.Images[0].ImagePath))));   // rewritten intact
    }

    [Fact]
    public void Every_output_setting_is_part_of_the_fingerprint()
    {
        var baseline = new SelectiveSearchOptions();
        var variants = new Dictionary<string, SelectiveSearchOptions>
        {
            [nameof(SelectiveSearchOptions.Mode)] = baseline with { Mode = SelectiveSearchMode.Quality },
            [nameof(SelectiveSearchOptions.ColorSpaces)] = baseline with { ColorSpaces = [ColorSpace.Rgb] },
            [nameof(SelectiveSearchOptions.Ks)] = baseline with { Ks = [77] },
            [nameof(SelectiveSearchOptions.SimilaritySets)] = baseline with { SimilaritySets = [SimilarityTerms.Fill] },
            [nameof(SelectiveSearchOptions.Sigma)] = baseline with { Sigma = 0.81f },
            [nameof(SelectiveSearchOptions.MinSegmentSize)] = baseline with { MinSegmentSize = 3 },
            [nameof(SelectiveSearchOptions.MinBoxSize)] = baseline with { MinBoxSize = baseline.MinBoxSize + 1 },
            [nameof(SelectiveSearchOptions.DuplicateIoU)] = baseline with { DuplicateIoU = baseline.DuplicateIoU is null ? 0.5f : null },
            [nameof(SelectiveSearchOptions.DiverseIoU)] = baseline with { DiverseIoU = 0.7f },
            [nameof(SelectiveSearchOptions.MaxBoxes)] = baseline with { MaxBoxes = 5 },
            [nameof(SelectiveSearchOptions.ResizeTo)] = baseline with { ResizeTo = 100 },
            [nameof(SelectiveSearchOptions.ResizeSide)] = baseline with { ResizeSide = ResizeSide.Shortest },
            [nameof(SelectiveSearchOptions.AllowUpscale)] = baseline with { AllowUpscale = true },
            [nameof(SelectiveSearchOptions.MaxPixels)] = baseline with { MaxPixels = null },
            [nameof(SelectiveSearchOptions.Ranking)] = baseline with { Ranking = SelectiveSearchRanking.Level },
            [nameof(SelectiveSearchOptions.Seed)] = baseline with { Seed = 1 },
        };
        var settable = typeof(SelectiveSearchOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod is not null && p.Name != nameof(SelectiveSearchOptions.Parallel)).Select(p => p.Name).Order();
        Assert.Equal(settable, variants.Keys.Order());          // a new option must be added here and to Fingerprint()
        foreach (var (name, options) in variants)
            Assert.True(options.Fingerprint() != baseline.Fingerprint(), $"{name} does not change the fingerprint");
        Assert.Equal(baseline.Fingerprint(), (baseline with { Parallel = false }).Fingerprint());
        Assert.Contains($"v{SelectiveSearch.AlgorithmVersion}", baseline.Fingerprint());
    }
}
