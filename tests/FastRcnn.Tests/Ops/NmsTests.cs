using FastRcnn.Ops;
using TorchSharp;
using static FastRcnn.Tests.Ops.OpsTestData;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Ops;

public class NmsTests
{
    [Fact]
    public void Zero_and_one_box()
    {
        using var scope = NewDisposeScope();
        var none = Nms.Greedy(zeros(0, 4), zeros(0), 0.5);
        Assert.Equal(ScalarType.Int64, none.dtype);
        Assert.Equal(new long[] { 0 }, none.shape);
        Assert.Equal(0, Nms.Batched(zeros(0, 4), zeros(0), zeros(0, ScalarType.Int64), 0.5).shape[0]);
        Assert.Equal(new long[] { 0 }, Longs(Nms.Greedy(Boxes(new float[] { 1, 2, 3, 4 }), ones(1), 0.5)));
        Assert.Equal(new long[] { 0 }, Longs(Nms.Batched(Boxes(new float[] { 1, 2, 3, 4 }), ones(1), ones(1, ScalarType.Int64), 0.5)));
    }

    public static TheoryData<int, int, int, double> RandomCases()
    {
        var data = new TheoryData<int, int, int, double>();
        foreach (int n in new[] { 2, 7, 8, 9, 17, 64, 333 })
            foreach (int levels in new[] { 0, 3 })
                data.Add(n, levels, n * 31 + levels, levels == 0 ? 0.5 : 0.3);
        data.Add(1500, 0, 99, 0.7);
        data.Add(1000, 4, 98, 0.7);
        return data;
    }

    [Theory]
    [MemberData(nameof(RandomCases))]
    public void Greedy_matches_naive_reference(int n, int scoreLevels, int seed, double threshold)
    {
        using var scope = NewDisposeScope();
        var rng = new Random(seed);
        foreach (var b in new[] { UniformBoxes(rng, n), ClusteredBoxes(rng, n, 3, 20), ClusteredBoxes(rng, n, 2, 4, integer: true) })
        {
            var s = Scores(rng, n, scoreLevels);
            Assert.Equal(NaiveNms(b, s, threshold), Longs(Nms.Greedy(Boxes(b), tensor(s), threshold)));
        }
    }

    [Theory]
    [InlineData(300, 3, 0.5, 21)]
    [InlineData(500, 5, 0.3, 22)]
    [InlineData(77, 1, 0.7, 23)]
    [InlineData(1200, 8, 0.5, 24)]
    public void Batched_matches_naive_per_class_reference(int n, int classes, double threshold, int seed)
    {
        using var scope = NewDisposeScope();
        var rng = new Random(seed);
        var b = ClusteredBoxes(rng, n, 4, 30);
        var s = Scores(rng, n, levels: 4);
        var c = Enumerable.Range(0, n).Select(_ => (long)(rng.Next(classes) * 7 - 5)).ToArray(); // arbitrary ids, some negative
        var got = Nms.Batched(Boxes(b), tensor(s), tensor(c), threshold);
        Assert.Equal(NaiveBatched(b, s, c, threshold), Longs(got));
    }

    [Fact]
    public void Batched_never_suppresses_across_classes()
    {
        using var scope = NewDisposeScope();
        var b = Boxes(new float[] { 0, 0, 10, 10, 0, 0, 10, 10, 0, 0, 10, 10, 1, 1, 10, 10 });
        var s = tensor(new float[] { 0.5f, 0.9f, 0.5f, 0.7f });
        Assert.Equal(new long[] { 1 }, Longs(Nms.Greedy(b, s, 0.5)));
        Assert.Equal(new long[] { 1, 3, 0, 2 }, Longs(Nms.Batched(b, s, tensor(new long[] { 0, 1, 2, 0 }), 0.9)));
        Assert.Equal(new long[] { 1, 3, 2 }, Longs(Nms.Batched(b, s, tensor(new long[] { 0, 1, 2, 0 }), 0.5)));
    }

    [Fact]
    public void Equal_scores_keep_the_lower_index_and_iou_at_threshold_is_not_suppressed()
    {
        using var scope = NewDisposeScope();
        // Boxes 0,1: IoU exactly 0.5 (inter 5, union 10). Box 2 duplicates box 0 with an equal score.
        var b = Boxes(new float[] { 0, 0, 10, 1, 5, 0, 10, 1, 0, 0, 10, 1 });
        var s = tensor(new float[] { 0.5f, 0.5f, 0.5f });
        Assert.Equal(new long[] { 0, 1 }, Longs(Nms.Greedy(b, s, 0.5)));
        Assert.Equal(new long[] { 0 }, Longs(Nms.Greedy(b, s, 0.49)));
    }

    [Fact]
    public void Threshold_is_compared_in_double_like_the_cpp_kernel()
    {
        using var scope = NewDisposeScope();
        // IoU = 3/10 in float32 = 0.300000012 > 0.3 (double) → suppressed; float 0.3f would not suppress.
        var b = Boxes(new float[] { 0, 0, 10, 1, 7, 0, 10, 1 });
        Assert.Equal(new long[] { 0 }, Longs(Nms.Greedy(b, tensor(new float[] { 0.9f, 0.8f }), 0.3)));
        Assert.Equal(new long[] { 0, 1 }, Longs(Nms.Greedy(b, tensor(new float[] { 0.9f, 0.8f }), 0.3000001)));
    }

    [Fact]
    public void FloatThresholdBelow_preserves_double_comparison()
    {
        var rng = new Random(7);
        foreach (double t in new[] { 0.3, 0.5, 0.7, 0.1, 1.0 / 3, 0.0, 1.0, -0.25, 0.3000000119209290 })
        {
            float thr = Nms.FloatThresholdBelow(t);
            float f = (float)t;
            foreach (float x in new[] { f, MathF.BitIncrement(f), MathF.BitDecrement(f), MathF.BitIncrement(MathF.BitIncrement(f)) })
                Assert.Equal((double)x > t, x > thr);
            for (int i = 0; i < 1000; i++)
            {
                float x = (float)rng.NextDouble();
                Assert.Equal((double)x > t, x > thr);
            }
        }
    }

    [Fact]
    public void Scores_of_other_dtypes_and_malformed_inputs()
    {
        using var scope = NewDisposeScope();
        var rng = new Random(8);
        var b = ClusteredBoxes(rng, 50, 2, 10);
        var s = Scores(rng, 50, 5);
        var expected = NaiveNms(b, s, 0.5);
        Assert.Equal(expected, Longs(Nms.Greedy(Boxes(b), tensor(s).to_type(ScalarType.Float64), 0.5)));
        Assert.Throws<ArgumentException>(() => Nms.Greedy(Boxes(b), tensor(s).narrow(0, 0, 10), 0.5));
        Assert.Throws<ArgumentException>(() => Nms.Greedy(zeros(3, 5), zeros(3), 0.5));
        Assert.Throws<ArgumentException>(() => Nms.Batched(Boxes(b), tensor(s), zeros(3, ScalarType.Int64), 0.5));
    }
}
