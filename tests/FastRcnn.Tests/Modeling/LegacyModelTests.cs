using FastRcnn.IO;
using FastRcnn.Inference;
using FastRcnn.Modeling;
using static FastRcnn.Tests.Modeling.ModelingTestData;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Modeling;

/// <summary>Model directories written by earlier versions of the file format load and predict bit for bit as they did.</summary>
public sealed class LegacyModelTests
{
    private static string Fixture(params string[] parts) =>
        Path.Combine([AppContext.BaseDirectory, "Modeling", "Fixtures", "model-v2", .. parts]);

    [Fact]
    public void Version_2_model_loads_as_fast_rcnn_and_predicts_bit_for_bit()
    {
        var loaded = ModelFiles.Load(Fixture("model"));
        using var model = loaded.Model;
        Assert.Equal(2, loaded.Info.Version);
        Assert.Equal(DetectorArchitecture.FastRcnn, loaded.Info.Architecture);
        Assert.Null(loaded.Info.WeightsSha256);
        Assert.Equal(["disc", "square"], loaded.Info.ClassNames);

        var expected = SafeTensors.Read(Fixture("expected.safetensors")).Tensors.ToDictionary(t => t.Key, t => t.Value);
        var rgb = expected["rgb"];
        var proposals = expected["proposals"];
        var (probabilities, boxes) = model.Predict(model.Pixels.Apply(rgb).unsqueeze(0), proposals);
        Assert.True(Same(expected["predict_probabilities"], probabilities));
        Assert.True(Same(expected["predict_boxes"], boxes));

        using var detector = new Detector(model, loaded.Info.ClassNames, new DetectorOptions(Scales: [60, 90], MaxSize: 200, CanonicalRoiSize: 40));
        var result = detector.Detect(rgb, proposals);
        var objects = result.Objects;
        Assert.Equal(expected["detect_scores"].shape[0], objects.Count);
        Assert.True(objects.Count > 0);
        Assert.True(Same(expected["detect_scores"], tensor(objects.Select(o => o.Score).ToArray())));
        Assert.True(Same(expected["detect_classes"], tensor(objects.Select(o => (long)o.ClassIndex).ToArray())));
        Assert.True(Same(expected["detect_boxes"], tensor(objects.SelectMany(o => new[] { o.Box.X1, o.Box.Y1, o.Box.X2, o.Box.Y2 }).ToArray(), [objects.Count, 4])));
    }

    [Fact]
    public void Version_2_model_saved_again_is_version_3_with_checksums_and_predicts_the_same()
    {
        var loaded = ModelFiles.Load(Fixture("model"));
        using var model = loaded.Model;
        using var dir = new TempDir();
        ModelFiles.Save(dir.Path, model, loaded.Info.ClassNames);
        var again = ModelFiles.Load(dir.Path);
        using var copy = again.Model;
        Assert.Equal((ModelFiles.CurrentVersion, DetectorArchitecture.FastRcnn), (again.Info.Version, again.Info.Architecture));
        Assert.Equal(ModelFiles.Sha256OfFile(Path.Combine(dir.Path, ModelFiles.WeightsFileName)), again.Info.WeightsSha256);
        var expected = SafeTensors.Read(Fixture("expected.safetensors")).Tensors.ToDictionary(t => t.Key, t => t.Value);
        var (probabilities, _) = copy.Predict(copy.Pixels.Apply(expected["rgb"]).unsqueeze(0), expected["proposals"]);
        Assert.True(Same(expected["predict_probabilities"], probabilities));
    }
}
