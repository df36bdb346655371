using FastRcnn.IO;
using FastRcnn.Modeling;
using FastRcnn.Modeling.Backbones;
using FastRcnn.Ops;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Modeling.Backbones;

public sealed class BackboneWeightsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("backbone-weights-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, Dictionary<string, Tensor> tensors)
    {
        string path = Path.Combine(_dir, name);
        SafeTensors.Write(path, tensors);
        return path;
    }

    [Fact]
    public void Imports_torchvision_names_and_reports_missing_unexpected_and_mismatched()
    {
        using var model = new TwoStageModel("small", numClasses: 2, seed: 3);
        var conv1 = SafeScalars.Arange(32 * 3 * 5 * 5, dtype: float64).reshape(32, 3, 5, 5).Div(1000);   // float64 in the file: converted
        var fc7 = SafeScalars.Full([512, 512], 0.25f);
        var path = Write("tv.safetensors", new()
        {
            ["features.0.weight"] = conv1,
            ["features.0.bias"] = SafeScalars.Full([32], 0.5f),
            ["features.2.weight"] = zeros(64, 32, 5, 5),           // the trunk's conv2 is 3×3: a shape mismatch
            ["box_head.fc7.weight"] = fc7,                         // already a model name
            ["classifier.6.weight"] = zeros(1000, 4096),           // ImageNet's fc8: unexpected
        });
        var before = model.state_dict()["features.2.weight"].clone();

        var report = BackboneWeights.ImportTorchvision(model, path);

        Assert.Equal(["box_head.fc7.weight", "features.0.bias", "features.0.weight"], report.Loaded.Order(StringComparer.Ordinal));
        Assert.Equal(["classifier.6.weight"], report.Unexpected);
        var mismatch = Assert.Single(report.ShapeMismatches);
        Assert.Equal(("features.2.weight", "features.2.weight"), (mismatch.FileName, mismatch.ModelName));
        Assert.Equal(new long[] { 64, 32, 5, 5 }, mismatch.FileShape);
        Assert.Equal(new long[] { 64, 32, 3, 3 }, mismatch.ModelShape);
        Assert.Contains("features.2.weight", report.Missing);
        Assert.Contains("box_head.fc6.weight", report.Missing);
        Assert.DoesNotContain(report.Missing, n => n.StartsWith("predictor.", StringComparison.Ordinal));
        Assert.False(report.IsComplete);

        var state = model.state_dict();
        Assert.True(ModelingTestData.Same(conv1.to_type(float32), state["features.0.weight"]));
        Assert.Equal(0.5f, state["features.0.bias"].mean().item<float>());
        Assert.True(ModelingTestData.Same(fc7, state["box_head.fc7.weight"]));
        Assert.True(ModelingTestData.Same(before, state["features.2.weight"]));  // mismatched: untouched
    }

    [Fact]
    public void Imports_a_PyTorch_pth_state_dict_bit_for_bit()
    {
        // Written by PyTorch 1.13 (tests/FastRcnn.Tests/IO/Fixtures/make_pth_fixtures.py): features.0.* float32,
        // features.2.bias float16 (converted exactly to float32), classifier.6.bias (no such layer: unexpected).
        using var model = new TwoStageModel("small", numClasses: 2, seed: 3);
        string path = FastRcnn.Tests.IO.PyTorchFilesTests.Fixture("small_state_dict.pth");
        var report = BackboneWeights.ImportTorchvision(model, path);

        Assert.Equal(["features.0.bias", "features.0.weight", "features.2.bias"], report.Loaded.Order(StringComparer.Ordinal));
        Assert.Equal(["classifier.6.bias"], report.Unexpected);
        Assert.Empty(report.ShapeMismatches);
        var expected = FastRcnn.Tests.IO.PyTorchFilesTests.Expected();
        var state = model.state_dict();
        foreach (var name in new[] { "features.0.weight", "features.0.bias" })
            Assert.Equal(expected[name].Sha256, FastRcnn.Tests.IO.PyTorchFilesTests.Sha256(state[name]));
        var file = PyTorchFiles.Read(path);
        var half = file["features.2.bias"];
        Assert.True(ModelingTestData.Same(half.to_type(float32), state["features.2.bias"]));
        foreach (var (_, t) in file.Tensors) t.Dispose();
    }

    [Fact]
    public void Report_gives_the_share_of_the_trunk_loaded()
    {
        using var model = new TwoStageModel("small", numClasses: 2, seed: 3);
        var report = BackboneWeights.ImportTorchvision(model, Write("part.safetensors", new()
        {
            ["features.0.weight"] = ones(32, 3, 5, 5),
            ["features.0.bias"] = zeros(32),
            ["features.2.weight"] = zeros(64, 32, 5, 5),           // another shape: not loaded
            ["box_head.fc7.bias"] = zeros(512),                    // the box head is not the trunk
        }));
        Assert.Equal((2, 10), (report.TrunkLoaded, report.TrunkTensors));   // the small trunk: 5 convolutions × (weight, bias)
        Assert.Equal(0.2, report.TrunkShare, 12);
        Assert.True(report.TrunkShare < WeightImportReport.DefaultMinTrunkShare);
    }

    [Fact]
    public void Keeps_frozen_flags()
    {
        using var model = new TwoStageModel("small", numClasses: 2, options: new TwoStageOptions { FrozenPrefixes = ["features.0."] });
        BackboneWeights.ImportTorchvision(model, Write("c1.safetensors", new() { ["features.0.weight"] = ones(32, 3, 5, 5) }));
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.False(parameters["features.0.weight"].requires_grad);
        Assert.True(parameters["features.2.weight"].requires_grad);
    }

    [Theory]
    [InlineData("vgg16", "classifier.0.weight", "box_head.fc6.weight")]
    [InlineData("vgg16", "classifier.3.bias", "box_head.fc7.bias")]
    [InlineData("vgg16", "classifier.6.weight", null)]
    [InlineData("vgg16", "classifier.30.weight", null)]
    [InlineData("alexnet", "classifier.1.weight", "box_head.fc6.weight")]
    [InlineData("alexnet", "classifier.4.bias", "box_head.fc7.bias")]
    [InlineData("alexnet", "classifier.0.weight", null)]
    [InlineData("alexnet", "features.10.weight", "features.10.weight")]
    [InlineData("small", "classifier.0.weight", null)]
    public void Maps_torchvision_classifier_layers_to_fc6_and_fc7(string backbone, string fileName, string? modelName) =>
        Assert.Equal(modelName, BackboneWeights.MapName(fileName, BackboneFactory.Spec(backbone)));

    [Fact]
    public void A_file_that_matches_nothing_is_an_error_naming_it()
    {
        using var model = new TwoStageModel("small", numClasses: 2);
        var path = Write("resnet.safetensors", new() { ["layer1.0.conv1.weight"] = zeros(4, 4), ["fc.weight"] = zeros(2, 2) });
        var error = Assert.Throws<InvalidDataException>(() => BackboneWeights.ImportTorchvision(model, path));
        Assert.Contains(path, error.Message);
        Assert.Contains("layer1.0.conv1.weight", error.Message);

        var shapes = Write("shapes.safetensors", new() { ["features.0.weight"] = zeros(64, 3, 3, 3) });
        error = Assert.Throws<InvalidDataException>(() => BackboneWeights.ImportTorchvision(model, shapes));
        Assert.Contains(shapes, error.Message);
        Assert.Contains("other shapes", error.Message);
    }

    [Fact]
    public void A_bad_or_missing_file_is_an_error_naming_it()
    {
        using var model = new TwoStageModel("small", numClasses: 2);
        string garbage = Path.Combine(_dir, "garbage.safetensors");
        File.WriteAllBytes(garbage, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        Assert.Contains(garbage, Assert.Throws<InvalidDataException>(() => BackboneWeights.ImportTorchvision(model, garbage)).Message);
        string missing = Path.Combine(_dir, "nope.safetensors");
        Assert.Contains(missing, Assert.Throws<FileNotFoundException>(() => BackboneWeights.ImportTorchvision(model, missing)).Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Export_writes_trunk_and_box_head_that_import_into_a_model_with_other_classes(bool float16)
    {
        using var trained = new TwoStageModel("small", numClasses: 8, seed: 5);
        string path = Path.Combine(_dir, "exported.safetensors");

        int count = BackboneWeights.Export(trained, path, float16, new Dictionary<string, string> { ["note"] = "test" });

        var file = SafeTensors.Read(path);
        Assert.Equal(count, file.Tensors.Count);
        Assert.Equal("test", file.Metadata["note"]);
        Assert.Equal("small", file.Metadata["backbone"]);
        Assert.All(file.Tensors.Select(kv => kv.Key), k => Assert.True(k.StartsWith("features.", StringComparison.Ordinal) || k.StartsWith("box_head.", StringComparison.Ordinal), k));
        Assert.All(file.Tensors.Select(kv => kv.Value), t => Assert.Equal(float16 ? ScalarType.Float16 : ScalarType.Float32, t.dtype));
        foreach (var (_, t) in file.Tensors) t.Dispose();
        Assert.False(File.Exists(path + ".tmp"));

        using var fresh = new TwoStageModel("small", numClasses: 3, seed: 6);     // another class count: the predictor is not in the file
        var report = BackboneWeights.ImportTorchvision(fresh, path);
        Assert.True(report.IsComplete);
        Assert.Empty(report.Unexpected);
        var source = trained.state_dict();
        foreach (var (name, value) in fresh.state_dict().Where(kv => !kv.Key.StartsWith("predictor.", StringComparison.Ordinal)))
        {
            double tolerance = float16 ? 1e-3 * (1 + source[name].abs().max().item<float>()) : 0;
            Assert.True(source[name].allclose(value, rtol: float16 ? 1e-3 : 0, atol: tolerance), name);
        }
    }

    [Fact]
    public void Export_refuses_a_compressed_box_head()
    {
        using var model = new TwoStageModel("small", numClasses: 2, options: new TwoStageOptions { HeadRanks = new(Fc6: 16) });
        var e = Assert.Throws<ArgumentException>(() => BackboneWeights.Export(model, Path.Combine(_dir, "x.safetensors")));
        Assert.Contains("truncated SVD", e.Message);
        Assert.False(File.Exists(Path.Combine(_dir, "x.safetensors")));
    }
}
