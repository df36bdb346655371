using System.Text.Json.Nodes;
using FastRcnn.IO;
using FastRcnn.Modeling;
using FastRcnn.Modeling.Backbones;

namespace FastRcnn.Tests.Cli;

/// <summary><c>fastrcnn export-weights</c>, invoked in-process on saved (untrained) "small" models.</summary>
[Collection(CliCollection.Name)]
public class ExportWeightsCommandTests
{
    [Fact]
    public void Writes_trunk_and_fc_layers_that_train_weights_imports_for_other_classes()
    {
        using var tmp = new TempDir();
        string modelDir = tmp.Combine("model"), file = tmp.Combine("start.safetensors");
        using (var model = new TwoStageModel("small", numClasses: 4, seed: 2))
            ModelFiles.Save(modelDir, model, ["a", "b", "c", "d"], new JsonObject { ["seed"] = 2 });

        var (exit, output) = CliRunner.Run("export-weights", "--model", modelDir, "--out", file, "--float16");

        Assert.True(exit == 0, output);
        Assert.Contains("wrote 14 tensors of backbone 'small'", output);
        var contents = SafeTensors.Read(file);
        Assert.Equal("float16", contents.Metadata["stored_as"]);
        Assert.Equal("[\"a\",\"b\",\"c\",\"d\"]", contents.Metadata["class_names"]);
        Assert.DoesNotContain(contents.Tensors, kv => kv.Key.StartsWith("predictor.", StringComparison.Ordinal));
        foreach (var (_, t) in contents.Tensors) t.Dispose();
        using var other = new TwoStageModel("small", numClasses: 9, seed: 3);
        Assert.True(BackboneWeights.ImportTorchvision(other, file).IsComplete);
    }

    [Fact]
    public void A_compressed_or_missing_model_is_an_error_naming_the_problem()
    {
        using var tmp = new TempDir();
        string compressed = tmp.Combine("svd"), file = tmp.Combine("out.safetensors");
        using (var model = new TwoStageModel("small", numClasses: 2, options: new TwoStageOptions { HeadRanks = new(Fc6: 8) }))
            ModelFiles.Save(compressed, model, ["a", "b"], null);

        var (exit, output) = CliRunner.Run("export-weights", "--model", compressed, "--out", file);
        Assert.Equal(1, exit);
        Assert.Contains("truncated SVD", output);
        Assert.False(File.Exists(file));

        string missing = tmp.Combine("nothing-here");
        (exit, output) = CliRunner.Run("export-weights", "--model", missing, "--out", file);
        Assert.Equal(1, exit);
        Assert.Contains("nothing-here", output);
    }
}
