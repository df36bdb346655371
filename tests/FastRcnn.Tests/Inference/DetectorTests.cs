using FastRcnn.Imaging;
using FastRcnn.Inference;
using FastRcnn.Modeling;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Inference;

public class DetectorTests
{
    private static RgbImage Scene()
    {
        var image = RgbImage.Filled(160, 120, new Rgb(40, 60, 80));
        for (int y = 30; y < 90; y++)
            for (int x = 20; x < 70; x++)
                image.Data[3 * (y * 160 + x)] = 230;
        return image;
    }

    private static Tensor Proposals() => tensor(new float[]
    {
        20, 30, 70, 90,   18, 28, 72, 92,   19, 31, 71, 89,   0, 0, 160, 120,   100, 10, 150, 60,   -20, -5, 40, 300,
    }).reshape(6, 4);

    [Fact]
    public void Detections_are_typed_clipped_best_first_and_timed_by_stage()
    {
        using var detector = new Detector(new TwoStageModel("small", numClasses: 3, seed: 1), ["a", "b", "c"],
            new DetectorOptions(Scales: [96], MaxSize: 200, Postprocess: new(ScoreThreshold: 0.0, MaxDetections: 5)));
        var result = detector.Detect(Scene(), Proposals());
        Assert.Equal(6, result.ProposalCount);
        Assert.Equal(5, result.Objects.Count);                 // 18 candidates, more than 5 of them survive per-class NMS
        Assert.All(result.Objects, o =>
        {
            Assert.Equal(detector.ClassNames[o.ClassIndex - 1], o.ClassName);
            Assert.InRange(o.Box.X1, 0, 160); Assert.InRange(o.Box.X2, 0, 160);
            Assert.InRange(o.Box.Y1, 0, 120); Assert.InRange(o.Box.Y2, 0, 120);
        });
        Assert.Equal(result.Objects.OrderByDescending(o => o.Score).Select(o => o.Score), result.Objects.Select(o => o.Score));
        Assert.True(result.Times.Conv > TimeSpan.Zero && result.Times.Fc6 > TimeSpan.Zero);
    }

    [Fact]
    public void Detector_equals_the_models_Predict_then_postprocessing()
    {
        // Scale 120 on a 160×120 image is factor 1, so the detector's path (transform, one level, forward, postprocess)
        // must give exactly what Predict on the preprocessed image and DetectionPostprocessor give.
        var post = new PostprocessOptions(ScoreThreshold: 0.0, MaxDetections: 50);
        using var detector = new Detector(new TwoStageModel("small", numClasses: 3, seed: 4), ["a", "b", "c"],
            new DetectorOptions(Scales: [120], MaxSize: 200, Postprocess: post, Deduplicate: false));
        var image = Scene();
        var result = detector.Detect(image, Proposals());
        var (probabilities, boxes) = detector.Model.Predict(detector.Model.Pixels.Apply(image.ToTensor()).unsqueeze(0), Proposals());
        using var expected = DetectionPostprocessor.Run(probabilities, boxes, post);
        Assert.Equal(expected.Count, result.Objects.Count);
        Assert.True(expected.Count > 5);
        Assert.Equal(expected.Scores.data<float>().ToArray(), result.Objects.Select(o => o.Score).ToArray());
        Assert.Equal(expected.Classes.data<long>().ToArray(), result.Objects.Select(o => (long)o.ClassIndex).ToArray());
        Assert.Equal(expected.Boxes.data<float>().ToArray(), result.Objects.SelectMany(o => new[] { o.Box.X1, o.Box.Y1, o.Box.X2, o.Box.Y2 }).ToArray());
    }

    [Fact]
    public void Deduplication_does_not_change_the_detections()
    {
        var options = new DetectorOptions(Scales: [64, 128], MaxSize: 300, Postprocess: new(ScoreThreshold: 0.0));
        using var a = new Detector(new TwoStageModel("small", 3, seed: 2), ["a", "b", "c"], options);
        using var b = new Detector(new TwoStageModel("small", 3, seed: 2), ["a", "b", "c"], options with { Deduplicate = false });
        var image = Scene();
        // Equal up to float rounding: the fc layers see a different number of rows, so GEMM may sum in another order.
        static DetectedObject[] Canonical(IEnumerable<DetectedObject> objects) =>
            objects.OrderBy(o => o.ClassIndex).ThenBy(o => MathF.Round(o.Box.X1, 2)).ThenBy(o => MathF.Round(o.Box.Y1, 2))
                .ThenBy(o => MathF.Round(o.Box.X2, 2)).ThenBy(o => MathF.Round(o.Box.Y2, 2)).ToArray();
        var expected = Canonical(b.Detect(image, Proposals()).Objects);
        var actual = Canonical(a.Detect(image, Proposals()).Objects);
        Assert.Equal(expected.Length, actual.Length);
        Assert.True(expected.Length > 0);
        foreach (var (e, x) in expected.Zip(actual))
        {
            Assert.Equal(e.ClassIndex, x.ClassIndex);
            Assert.Equal(e.Score, x.Score, 1e-5f);
            Assert.Equal(new[] { e.Box.X1, e.Box.Y1, e.Box.X2, e.Box.Y2 }, new[] { x.Box.X1, x.Box.Y1, x.Box.X2, x.Box.Y2 }, (p, q) => Math.Abs(p - q) < 1e-3f);
        }
    }

    [Fact]
    public void Selective_search_supplies_proposals_when_none_are_given()
    {
        using var detector = new Detector(new TwoStageModel("small", 1, seed: 3), ["thing"], new DetectorOptions(Scales: [96], MaxSize: 200));
        var result = detector.Detect(Scene());
        Assert.True(result.ProposalCount > 3);
        Assert.True(result.Times.Proposals > TimeSpan.Zero);
    }

    [Fact]
    public void Class_names_must_match_the_model()
    {
        var e = Assert.Throws<ArgumentException>(() => new Detector(new TwoStageModel("small", 3), ["only", "two"]));
        Assert.Contains("3 object classes", e.Message);
    }
}
