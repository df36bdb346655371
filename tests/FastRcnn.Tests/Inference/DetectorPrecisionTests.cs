using FastRcnn.Imaging;
using FastRcnn.Inference;
using FastRcnn.Modeling;
using FastRcnn.Modeling.RoiHeads;
using FastRcnn.Ops;
using FastRcnn.Runtime;
using FastRcnn.Tests.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Inference;

/// <summary>
/// <see cref="DetectorOptions.Precision"/>: fp32 and <c>auto</c> on a CPU without bfloat16 (the forced fallback) are
/// bit for bit the detector without the setting; bf16 stores fc6 and fc7 in bfloat16 and its scores and boxes match
/// fp32's within the stated tolerances, dense and SVD-factored. Runs alone (the fallback is process-wide).
/// </summary>
[Collection(TrainingCollection.Name)]
public sealed class DetectorPrecisionTests(ITestOutputHelper output)
{
    /// <summary>Largest allowed |Δ probability| of any RoI and class, bf16 against fp32 (measured here: ~1e-3 or less).</summary>
    private const double ProbabilityTolerance = 0.01;

    /// <summary>Largest allowed |Δ| of a decoded box coordinate, pixels, on a 160×120 image (measured: ~0.1 px or less).</summary>
    private const double BoxTolerance = 1.0;

    private static readonly string[] Classes = ["a", "b", "c"];

    private static RgbImage Scene()
    {
        var image = RgbImage.Filled(160, 120, new Rgb(40, 60, 80));
        for (int y = 30; y < 90; y++)
            for (int x = 20; x < 70; x++)
                image.Data[3 * (y * 160 + x)] = 230;
        for (int y = 10; y < 50; y++)
            for (int x = 100; x < 150; x++)
                image.Data[3 * (y * 160 + x) + 1] = 200;
        return image;
    }

    private static Tensor Proposals()
    {
        var g = manual_seed(3);
        using var size = tensor(new float[] { 120, 90 });
        using var extent = tensor(new float[] { 60, 50 });
        var xy = rand([200, 2], generator: g).mul(size);
        var wh = rand([200, 2], generator: g).mul(extent).Add(8);
        return cat([xy, xy.Add(wh)], 1);
    }

    private static DetectorOptions Options(Precision precision) =>
        new(Scales: [120], MaxSize: 200, Postprocess: new(ScoreThreshold: 0.0, MaxDetections: 100), Precision: precision);

    private static TwoStageModel Model(BoxHeadRanks? ranks = null) =>
        new("small", numClasses: 3, seed: 5, new TwoStageOptions { HeadRanks = ranks ?? BoxHeadRanks.Dense });

    /// <summary>Scores, classes and box corners of the detections, in order, as one array (compared element by element).</summary>
    private static float[] Flat(DetectionResult r) =>
        [.. r.Objects.SelectMany(o => new[] { o.Score, o.ClassIndex, o.Box.X1, o.Box.Y1, o.Box.X2, o.Box.Y2 })];

    [Fact]
    public void Fp32_and_auto_without_native_bf16_are_the_plain_detector_bit_for_bit()
    {
        // One thread: with several, the BLAS may split a product differently from call to call under load (last-bit differences).
        int threads = get_num_threads();
        CpuRuntime.SetThreads(1);
        try
        {
            using var plain = new Detector(Model(), Classes, Options(Precision.Fp32) with { Precision = default });
            var expected = Flat(plain.Detect(Scene(), Proposals()));
            using var fp32 = new Detector(Model(), Classes, Options(Precision.Fp32));
            Assert.Equal(Precision.Fp32, fp32.Precision);
            Assert.Equal(expected, Flat(fp32.Detect(Scene(), Proposals())));
            using (Bf16Support.ForceFallback())
            {
                using var auto = new Detector(Model(), Classes, Options(Precision.Auto));
                Assert.Equal(Precision.Fp32, auto.Precision);
                Assert.Equal(ScalarType.Float32, auto.Model.BoxHead.WeightType);
                Assert.Equal(ScalarType.Float32, auto.Model.BoxHead.ComputeType);
                Assert.Equal(expected, Flat(auto.Detect(Scene(), Proposals())));
            }
        }
        finally
        {
            CpuRuntime.SetThreads(threads);
        }
    }

    [Fact]
    public void Auto_on_this_cpu_is_bf16_exactly_when_it_is_native_and_pays()
    {
        using var auto = new Detector(Model(), Classes, Options(Precision.Auto));
        Assert.Equal(Bf16Support.Pays ? Precision.Bf16 : Precision.Fp32, auto.Precision);
        Assert.Equal(Bf16Support.Pays ? ScalarType.BFloat16 : ScalarType.Float32, auto.Model.BoxHead.WeightType);
        if (!Bf16Support.IsNative) Assert.Equal(Precision.Fp32, auto.Precision);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Bf16_matches_fp32_within_tolerance_dense_and_factored(bool factored)
    {
        var ranks = factored ? new BoxHeadRanks(Fc6: 48, Fc7: 32) : null;
        using var fp32 = new Detector(Model(ranks), Classes, Options(Precision.Fp32));
        using var bf16 = new Detector(Model(ranks), Classes, Options(Precision.Bf16));
        Assert.Equal(Precision.Bf16, bf16.Precision);
        Assert.Equal(ScalarType.BFloat16, bf16.Model.BoxHead.WeightType);
        Assert.All(bf16.Model.named_parameters().Where(p => !p.name.StartsWith("box_head.", StringComparison.Ordinal)),
            p => Assert.Equal(ScalarType.Float32, p.parameter.dtype));   // trunk and predictor stay float32

        // Every RoI's class probabilities and decoded boxes, through the models (the detector's path at scale factor 1).
        using var image = fp32.Model.Pixels.Apply(Scene().ToTensor()).unsqueeze(0);
        var (pA, bA) = fp32.Model.Predict(image, Proposals());
        var (pB, bB) = bf16.Model.Predict(image, Proposals());
        Assert.Equal(ScalarType.Float32, pB.dtype);
        Assert.Equal(ScalarType.Float32, bB.dtype);
        double dp = pA.sub(pB).abs().max().item<float>(), db = bA.sub(bB).abs().max().item<float>();
        output.WriteLine($"{(factored ? "factored" : "dense")}: max |Δp| {dp:G3}, max |Δbox| {db:G3} px");
        Assert.True(dp > 0, "bf16 must differ from fp32 somewhere, or it did not run");
        Assert.True(dp <= ProbabilityTolerance, $"max |Δp| {dp}");
        Assert.True(db <= BoxTolerance, $"max |Δbox| {db} px");

        // The detections: the best ones are the same objects, with scores within the tolerance.
        var a = fp32.Detect(Scene(), Proposals()).Objects;
        var b = bf16.Detect(Scene(), Proposals()).Objects;
        foreach (var d in a.Take(10))
        {
            var match = b.Where(o => o.ClassIndex == d.ClassIndex).MinBy(o => Math.Abs(o.Box.X1 - d.Box.X1) + Math.Abs(o.Box.Y1 - d.Box.Y1) + Math.Abs(o.Box.X2 - d.Box.X2) + Math.Abs(o.Box.Y2 - d.Box.Y2));
            Assert.NotNull(match);
            Assert.InRange(Math.Abs(match.Score - d.Score), 0, ProbabilityTolerance);
            Assert.InRange(Math.Abs(match.Box.X1 - d.Box.X1), 0, BoxTolerance);
            Assert.InRange(Math.Abs(match.Box.Y2 - d.Box.Y2), 0, BoxTolerance);
        }
    }

    [Fact]
    public void An_explicit_bf16_runs_bf16_even_where_the_fallback_is_forced()
    {
        using (Bf16Support.ForceFallback())
        {
            using var bf16 = new Detector(Model(), Classes, Options(Precision.Bf16));
            Assert.Equal(Precision.Bf16, bf16.Precision);
            Assert.NotEmpty(bf16.Detect(Scene(), Proposals()).Objects);
        }
    }
}
