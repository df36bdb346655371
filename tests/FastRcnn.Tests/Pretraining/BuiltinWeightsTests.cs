using FastRcnn.Modeling;
using FastRcnn.Modeling.Backbones;
using FastRcnn.Pretraining;

namespace FastRcnn.Tests.Pretraining;

public sealed class BuiltinWeightsTests
{
    [Fact]
    public void The_shipped_small_shapesnet_weights_fill_the_whole_small_trunk_and_box_head()
    {
        string path = BuiltinWeights.Resolve(BuiltinWeights.SmallShapesNet);
        Assert.True(File.Exists(path), path);
        using var model = new TwoStageModel("small", numClasses: 8);
        var report = BackboneWeights.ImportTorchvision(model, path);
        Assert.True(report.IsComplete, report.ToString());
        Assert.Empty(report.Unexpected);
        Assert.Equal(14, report.Loaded.Count);   // 5 convolutions and fc6, fc7: weight and bias each
    }

    [Fact]
    public void Names_resolve_case_insensitively_and_paths_pass_through()
    {
        Assert.Equal(BuiltinWeights.Resolve("small-shapesnet"), BuiltinWeights.Resolve("Small-ShapesNet"));
        Assert.EndsWith(Path.Combine("weights", "small-shapesnet.safetensors"), BuiltinWeights.Resolve("small-shapesnet"));
        Assert.Equal("some/file.safetensors", BuiltinWeights.Resolve("some/file.safetensors"));
    }
}
