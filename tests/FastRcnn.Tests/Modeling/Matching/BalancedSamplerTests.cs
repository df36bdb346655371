using FastRcnn.Modeling.Matching;
using FastRcnn.Ops;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Modeling.Matching;

public sealed class BalancedSamplerTests
{
    /// <summary>Labels: <paramref name="pos"/> positives, <paramref name="neg"/> negatives and <paramref name="ignored"/> ignored, interleaved by a fixed shuffle.</summary>
    private static Tensor Labels(int pos, int neg, int ignored, int seed = 0)
    {
        var values = Enumerable.Repeat(1L, pos).Concat(Enumerable.Repeat(0L, neg)).Concat(Enumerable.Repeat(-1L, ignored)).ToArray();
        new Random(seed).Shuffle(values);
        return tensor(values);
    }

    private static long[] L(Tensor t) => t.data<long>().ToArray();

    [Theory]
    [InlineData(200, 300, 50, 128, 128)]     // enough of both
    [InlineData(10, 300, 50, 10, 246)]       // few positives: negatives fill
    [InlineData(10, 100, 50, 10, 100)]       // too few of both
    [InlineData(0, 0, 30, 0, 0)]             // nothing usable
    public void Rpn_quota_half_of_256_negatives_fill_the_rest(int pos, int neg, int ignored, int expectedPos, int expectedNeg)
    {
        var labels = Labels(pos, neg, ignored);
        using var sampler = new BalancedSampler(BalancedSamplerOptions.Rpn, seed: 3);
        var sample = sampler.Sample(labels);
        Assert.Equal((expectedPos, expectedNeg), (sample.PositiveCount, sample.NegativeCount));
        var l = L(labels);
        Assert.All(L(sample.Positive), i => Assert.Equal(1, l[i]));
        Assert.All(L(sample.Negative), i => Assert.Equal(0, l[i]));
        Assert.Equal(expectedPos, L(sample.Positive).Distinct().Count());      // without replacement
        Assert.Equal(expectedNeg, L(sample.Negative).Distinct().Count());
    }

    [Fact]
    public void Roi_heads_quota_is_sixteen_of_sixty_four()
    {
        Assert.Equal(16, BalancedSamplerOptions.RoiHeads.PositiveQuota);
        Assert.Equal(128, BalancedSamplerOptions.Rpn.PositiveQuota);
        Assert.Equal(3, new BalancedSamplerOptions(5, 0.5).PositiveQuota);    // 2.5 rounds away from zero
        using var sampler = new BalancedSampler(BalancedSamplerOptions.RoiHeads);
        var sample = sampler.Sample(Labels(40, 100, 5));
        Assert.Equal((16, 48), (sample.PositiveCount, sample.NegativeCount));
    }

    [Fact]
    public void Draws_are_randperm_prefixes_positives_first_and_only_when_needed()
    {
        var labels = Labels(30, 100, 20, seed: 7);
        using var sampler = new BalancedSampler(new BalancedSamplerOptions(40, 0.5), seed: 9);
        var sample = sampler.Sample(labels);

        // Expected: positives 30 ≤ 20? no → randperm(30)[:20]; negatives 100 > 20 → randperm(100)[:20].
        using var generator = new Generator(9);
        var posCandidates = labels.Eq(1L).nonzero().reshape(-1);
        var negCandidates = labels.Eq(0L).nonzero().reshape(-1);
        var pos = posCandidates.index_select(0, randperm(30, generator: generator).narrow(0, 0, 20));
        var neg = negCandidates.index_select(0, randperm(100, generator: generator).narrow(0, 0, 20));
        Assert.Equal(L(pos), L(sample.Positive));
        Assert.Equal(L(neg), L(sample.Negative));

        // Few positives: taken in order, no draw; the negatives' draw is then the generator's first.
        using var few = new BalancedSampler(new BalancedSamplerOptions(40, 0.5), seed: 9);
        var fewLabels = Labels(5, 100, 0, seed: 8);
        var fewSample = few.Sample(fewLabels);
        generator.manual_seed(9);
        Assert.Equal(L(fewLabels.Eq(1L).nonzero().reshape(-1)), L(fewSample.Positive));
        Assert.Equal(L(fewLabels.Eq(0L).nonzero().reshape(-1).index_select(0, randperm(100, generator: generator).narrow(0, 0, 35))),
            L(fewSample.Negative));
    }

    [Fact]
    public void Same_seed_same_sample_reseed_restarts_a_shared_generator_advances()
    {
        var labels = Labels(200, 300, 50);
        using var a = new BalancedSampler(BalancedSamplerOptions.Rpn, seed: 4);
        using var b = new BalancedSampler(BalancedSamplerOptions.Rpn, seed: 4);
        var first = a.Sample(labels);
        Assert.Equal(L(first.Positive), L(b.Sample(labels).Positive));
        var second = a.Sample(labels);
        Assert.NotEqual(L(first.Positive), L(second.Positive));
        a.Reseed(4);
        Assert.Equal(L(first.Negative), L(a.Sample(labels).Negative));

        using var shared = new Generator(4);
        using var c = new BalancedSampler(BalancedSamplerOptions.Rpn, shared);
        Assert.Equal(L(first.Positive), L(c.Sample(labels).Positive));
        Assert.Equal(L(second.Positive), L(c.Sample(labels).Positive));
        c.Dispose();
        Assert.Equal(256, randperm(256, generator: shared).shape[0]);          // the caller's generator outlives the sampler
    }

    [Fact]
    public void Validate_rejects_bad_options_and_labels()
    {
        Assert.Contains("batch size must be positive", Assert.Throws<ArgumentException>(() => new BalancedSampler(new BalancedSamplerOptions(0, 0.5))).Message);
        Assert.Contains("[0, 1]", Assert.Throws<ArgumentException>(() => new BalancedSampler(new BalancedSamplerOptions(8, 1.5))).Message);
        using var sampler = new BalancedSampler(BalancedSamplerOptions.Rpn);
        Assert.Throws<ArgumentException>(() => sampler.Sample(zeros(3, float32)));
    }
}
