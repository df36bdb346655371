using FastRcnn.Modeling;
using FastRcnn.Modeling.RoiHeads;
using FastRcnn.Ops;
using TorchSharp;
using static FastRcnn.Tests.Modeling.ModelingTestData;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Modeling.RoiHeads;

/// <summary>
/// <see cref="RoiSampler"/> on the shared Matcher and BalancedSampler draws exactly the RoIs of its
/// original stand-alone algorithm (copied below) for the same seed, reseeds included.
/// </summary>
public sealed class RoiSamplerLegacyParityTests
{
    /// <summary>The RoiSampler of commit 06906df, verbatim but for names: matching by max IoU, randperm(n_fg) then randperm(n_bg).</summary>
    private sealed class LegacyRoiSampler(RoiSamplerOptions options, long seed) : IDisposable
    {
        private readonly Generator _generator = new((ulong)seed);

        public SampledRois Sample(ImageTargets image)
        {
            var keepGt = image.GtIgnore is null
                ? SafeScalars.Arange(image.GtBoxes.shape[0], dtype: int64)
                : image.GtIgnore.logical_not().nonzero().reshape(-1);
            var gtBoxes = image.GtBoxes.to_type(float32).index_select(0, keepGt);
            var gtClasses = image.GtClasses.to_type(int64).index_select(0, keepGt);
            if (gtBoxes.shape[0] == 0) return SampledRois.Empty();

            var boxes = image.ProposalBoxes.to_type(float32);
            if (options.AddGroundTruth) boxes = cat([boxes, gtBoxes], 0);
            var (maxIoU, matched) = BoxOps.PairwiseIoU(boxes, gtBoxes).max(1);

            using Scalar fgIoU = options.ForegroundIoU.ToScalar(), bgHigh = options.BackgroundIoUHigh.ToScalar(), bgLow = options.BackgroundIoULow.ToScalar();
            var isFg = maxIoU.ge(fgIoU);
            var isBg = maxIoU.lt(bgHigh).logical_and_(maxIoU.ge(bgLow)).logical_and_(isFg.logical_not());
            var fg = Draw(isFg.nonzero().reshape(-1), options.ForegroundPerImage);
            var bg = Draw(isBg.nonzero().reshape(-1), options.RoisPerImage - (int)fg.shape[0]);
            int fgCount = (int)fg.shape[0], bgCount = (int)bg.shape[0];
            if (fgCount + bgCount == 0) return SampledRois.Empty();

            var keep = cat([fg, bg], 0);
            var matchedKeep = matched.index_select(0, keep);
            var classes = gtClasses.index_select(0, matchedKeep);
            classes.narrow(0, fgCount, bgCount).zero_();
            return new SampledRois(boxes.index_select(0, keep), classes, gtBoxes.index_select(0, matchedKeep), fgCount, bgCount);
        }

        public void Reseed(long seed) => _generator.manual_seed(seed);

        public void Dispose() => _generator.Dispose();

        private Tensor Draw(Tensor candidates, int count)
        {
            long n = candidates.shape[0];
            if (n <= count) return candidates;
            return candidates.index_select(0, randperm(n, generator: _generator).narrow(0, 0, count));
        }
    }

    /// <summary>A random image: 2–4 GT boxes (one sometimes ignored), many jittered and random proposals (so fg and bg both overflow sometimes).</summary>
    private static ImageTargets RandomImage(Random rng, int proposalsPerGt)
    {
        int g = 2 + rng.Next(3);
        var gt = new List<float[]>();
        for (int i = 0; i < g; i++)
        {
            float x = rng.Next(200), y = rng.Next(200), w = 20 + rng.Next(100), h = 20 + rng.Next(100);
            gt.Add([x, y, x + w, y + h]);
        }
        var proposals = ModelingTestData.Proposals(rng, gt.ToArray(), 320, 320, jitteredPerGt: proposalsPerGt, random: 100 + rng.Next(300));
        var ignore = Enumerable.Range(0, g).Select(i => i == 0 && rng.Next(3) == 0).ToArray();
        return new ImageTargets(proposals, Boxes(gt.ToArray()), tensor(Enumerable.Range(0, g).Select(i => (long)(1 + i % 3)).ToArray()), tensor(ignore));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Same_seed_gives_the_same_sample_as_the_original_algorithm(int optionsCase)
    {
        var options = optionsCase == 0 ? new RoiSamplerOptions() : new RoiSamplerOptions(RoisPerImage: 32, ForegroundFraction: 0.5, BackgroundIoULow: 0.0, AddGroundTruth: false);
        using var sampler = new RoiSampler(options, seed: 21);
        using var legacy = new LegacyRoiSampler(options, seed: 21);
        var rng = new Random(5);
        bool fgDrawn = false, bgDrawn = false;
        for (int i = 0; i < 12; i++)
        {
            using var scope = NewDisposeScope();
            if (i % 4 == 3)
            {
                sampler.Reseed(1000 + i);
                legacy.Reseed(1000 + i);
            }
            var image = RandomImage(rng, proposalsPerGt: i % 2 == 0 ? 1 : 6 + rng.Next(8));
            var got = sampler.Sample(image);
            var expected = legacy.Sample(image);
            Assert.Equal((expected.ForegroundCount, expected.BackgroundCount), (got.ForegroundCount, got.BackgroundCount));
            Assert.True(Same(expected.ProposalBoxes, got.ProposalBoxes), $"image {i}: boxes differ");
            Assert.Equal(expected.GtClasses.data<long>().ToArray(), got.GtClasses.data<long>().ToArray());
            Assert.True(Same(expected.MatchedGtBoxes, got.MatchedGtBoxes), $"image {i}: matched boxes differ");
            fgDrawn |= got.ForegroundCount == options.ForegroundPerImage;
            bgDrawn |= got.Count == options.RoisPerImage && got.ForegroundCount < options.ForegroundPerImage;
        }
        Assert.True(fgDrawn && bgDrawn, "the images must make both draws (foreground and background over quota)");
    }
}
