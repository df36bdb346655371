using FastRcnn.Ops;
using TorchSharp;
using static FastRcnn.Tests.Ops.OpsTestData;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Ops;

public class BoxCoderTests
{
    private static (double X, double Y, double W, double H) Centre(float[] b, int i)
    {
        double w = b[4 * i + 2] - b[4 * i], h = b[4 * i + 3] - b[4 * i + 1];
        return (b[4 * i] + 0.5 * w, b[4 * i + 1] + 0.5 * h, w, h);
    }

    [Fact]
    public void Presets_and_clamp_default()
    {
        Assert.Equal(new BoxCoder(10, 10, 5, 5), BoxCoder.FixedStd);
        Assert.Equal(new BoxCoder(), BoxCoder.Unit);
        Assert.Equal(Math.Log(1000.0 / 16), BoxCoder.FixedStd.ClampLog);
        Assert.Equal(2.0, (BoxCoder.Unit with { ClampLog = 2.0 }).ClampLog);
    }

    [Theory]
    [InlineData(1, 1, 1, 1)]
    [InlineData(10, 10, 5, 5)]
    public void Encode_matches_naive_formulas(double wx, double wy, double ww, double wh)
    {
        using var scope = NewDisposeScope();
        var rng = new Random(11);
        var p = UniformBoxes(rng, 64);
        var g = UniformBoxes(rng, 64);
        var d = Floats(new BoxCoder(wx, wy, ww, wh).Encode(Boxes(p), Boxes(g)));
        for (int i = 0; i < 64; i++)
        {
            var (px, py, pw, ph) = Centre(p, i);
            var (gx, gy, gw, gh) = Centre(g, i);
            double[] expected = { wx * (gx - px) / pw, wy * (gy - py) / ph, ww * Math.Log(gw / pw), wh * Math.Log(gh / ph) };
            for (int c = 0; c < 4; c++)
                Assert.True(Math.Abs(expected[c] - d[4 * i + c]) <= 1e-4 * (1 + Math.Abs(expected[c])), $"row {i} col {c}");
        }
    }

    [Fact]
    public void Decode_inverts_Encode()
    {
        using var scope = NewDisposeScope();
        var rng = new Random(12);
        var p = Boxes(UniformBoxes(rng, 100));
        var g = Boxes(UniformBoxes(rng, 100));
        foreach (var coder in new[] { BoxCoder.Unit, BoxCoder.FixedStd })
        {
            var back = coder.Decode(coder.Encode(p, g), p);
            Assert.True(back.allclose(g, rtol: 1e-5, atol: 1e-3), coder.ToString());
        }
    }

    [Fact]
    public void Decode_class_specific_deltas_k3_match_naive_formulas()
    {
        using var scope = NewDisposeScope();
        var rng = new Random(13);
        const int r = 30, k = 3;
        var p = UniformBoxes(rng, r);
        var deltas = Enumerable.Range(0, r * 4 * k).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var coder = BoxCoder.FixedStd;
        var boxes = coder.Decode(tensor(deltas, new long[] { r, 4 * k }), Boxes(p));
        Assert.Equal(new long[] { r, 4 * k }, boxes.shape);
        var o = Floats(boxes);
        for (int i = 0; i < r; i++)
        {
            var (px, py, pw, ph) = Centre(p, i);
            for (int c = 0; c < k; c++)
            {
                int at = 4 * k * i + 4 * c;
                double cx = deltas[at] / 10.0 * pw + px, cy = deltas[at + 1] / 10.0 * ph + py;
                double w = Math.Exp(deltas[at + 2] / 5.0) * pw, h = Math.Exp(deltas[at + 3] / 5.0) * ph;
                double[] expected = { cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h };
                for (int q = 0; q < 4; q++)
                    Assert.True(Math.Abs(expected[q] - o[at + q]) <= 1e-3, $"row {i} class {c} coord {q}: {expected[q]} vs {o[at + q]}");
            }
        }
    }

    [Fact]
    public void Decode_clamps_huge_dw_dh_before_exp()
    {
        using var scope = NewDisposeScope();
        var p = Boxes(new float[] { 100, 100, 116, 132 });                  // w 16, h 32, centre (108, 116)
        var huge = tensor(new float[] { 0, 0, 1e6f, 500f, 0, 0, -50, -50 }, new long[] { 1, 8 });
        var o = Floats(BoxCoder.FixedStd.Decode(huge, p));
        Assert.All(o, v => Assert.True(float.IsFinite(v)));
        Assert.Equal(16 * 62.5, o[2] - o[0], 2);                           // exp(log(1000/16)) * 16 = 1000
        Assert.Equal(32 * 62.5, o[3] - o[1], 2);                           // 500/5 = 100 → clamped too
        Assert.Equal(108, 0.5 * (o[0] + o[2]), 3);
        Assert.True(o[6] - o[4] < 1e-3 && o[6] >= o[4]);                   // negative dw is not clamped
        var custom = Floats((BoxCoder.Unit with { ClampLog = 1.0 }).Decode(huge.narrow(1, 0, 4), p));
        Assert.Equal(16 * Math.E, custom[2] - custom[0], 3);
    }

    [Fact]
    public void DecodeClipped_equals_Clip_of_Decode()
    {
        using var scope = NewDisposeScope();
        var rng = new Random(5);
        var proposals = Boxes(UniformBoxes(rng, 300));
        var deltas = randn(300, 21 * 4, generator: manual_seed(7)).Mul(3);          // wide spread: clamped dw/dh, boxes past the border
        deltas[0, 2] = tensor(1e6f);
        deltas[1, 7] = tensor(float.NaN);
        var expected = BoxOps.Clip(BoxCoder.FixedStd.Decode(deltas, proposals), 600, 1000);
        var fused = BoxCoder.FixedStd.DecodeClipped(deltas, proposals, 600, 1000);
        Assert.Equal(expected.shape, fused.shape);
        Assert.True(fused.allclose(expected, rtol: 1e-6, atol: 1e-4, equal_nan: true));
        var values = Floats(fused);
        Assert.True(float.IsNaN(values[84 + 7]) && float.IsNaN(values[84 + 5]) && values[84 + 4] is >= 0 and <= 1000);   // RoI 1, class 1: dh NaN
        Assert.Equal(1000f, values[2]);                                                                                 // RoI 0, class 0: dw clamped, past the border
        // float64 takes the tensor path
        var doubles = BoxCoder.Unit.DecodeClipped(deltas.to_type(ScalarType.Float64), proposals.to_type(ScalarType.Float64), 600, 1000);
        Assert.Equal(ScalarType.Float64, doubles.dtype);
        Assert.True(doubles.allclose(BoxOps.Clip(BoxCoder.Unit.Decode(deltas.to_type(ScalarType.Float64), proposals.to_type(ScalarType.Float64)), 600, 1000), equal_nan: true));
        Assert.Throws<ArgumentException>(() => BoxCoder.Unit.DecodeClipped(zeros(2, 6), zeros(2, 4), 10, 10));
        Assert.Equal(new long[] { 0, 8 }, BoxCoder.Unit.DecodeClipped(zeros(0, 8), zeros(0, 4), 10, 10).shape);
    }

    [Fact]
    public void Empty_and_malformed_inputs()
    {
        using var scope = NewDisposeScope();
        var coder = BoxCoder.FixedStd;
        Assert.Equal(new long[] { 0, 12 }, coder.Decode(zeros(0, 12), zeros(0, 4)).shape);
        Assert.Equal(new long[] { 0, 4 }, coder.Encode(zeros(0, 4), zeros(0, 4)).shape);
        Assert.Throws<ArgumentException>(() => coder.Decode(zeros(2, 6), zeros(2, 4)));
        Assert.Throws<ArgumentException>(() => coder.Decode(zeros(2, 8), zeros(3, 4)));
        Assert.Throws<ArgumentException>(() => coder.Encode(zeros(2, 4), zeros(3, 4)));
    }
}
