using FastRcnn.IO;
using FastRcnn.Modeling;
using FastRcnn.Tests.Training;
using FastRcnn.Training;

namespace FastRcnn.Tests.Cli;

/// <summary>
/// <c>fastrcnn train</c> on inputs a new user gets wrong: config files, weights for another backbone, bad proposal
/// files, sizes the backbone cannot take. Output captured (<see cref="CliRunner"/>); a few iterations at most.
/// </summary>
[Collection(CliCollection.Name)]
public sealed class TrainInputCliTests
{
    /// <summary>The tiny Shapes set's selective-search proposals as an .npz, as a user would bring them.</summary>
    private static string WriteProposals(TempDir dir)
    {
        string path = dir.Combine("proposals.npz");
        Npz.Write(path, TrainingTestData.Dataset.Images.Select(i =>
        {
            using var boxes = TrainingTestData.Proposals.ProposalsFor(i.Id, i.Width, i.Height);
            return KeyValuePair.Create(i.Id, new NpyArray([boxes.shape[0], 4], boxes.data<float>().ToArray()));
        }));
        return path;
    }

    private static string[] Train(string proposals, string output, params string[] more) =>
        ["train", "--dataset", TrainingTestData.Dataset.Source, "--split", "train", "--proposals", proposals, "--out", output, .. more];

    private static void AssertNoStackTrace(string output) =>
        Assert.DoesNotContain(output.Split('\n'), line => line.StartsWith("   at ", StringComparison.Ordinal));

    [Fact]
    public void Config_without_backbone_trains_the_default_small_backbone_with_its_defaults()
    {
        using var dir = new TempDir();
        string config = dir.Combine("config.json");
        File.WriteAllText(config, "{ \"iterations\": 1, \"scales\": [128], \"max_size\": 200, \"rois_per_image\": 16 }");
        string run = dir.Combine("run");
        var (exit, output) = CliRunner.Run(Train(WriteProposals(dir), run, "--config", config));
        Assert.True(exit == 0, output);
        var recorded = TrainingConfig.FromJsonObject(ModelFiles.ReadInfo(run).TrainingConfig!);
        // What `train` without --config gives the small backbone: the Shapes settings, not the paper's VGG16 recipe.
        var defaults = TrainingOptions.DefaultsFor(null);
        Assert.Equal(("small", 1, 16, 200), (recorded.Backbone, recorded.Iterations, recorded.RoisPerImage, recorded.MaxSize));
        Assert.Equal((defaults.LearningRate, defaults.CheckpointEvery), (recorded.LearningRate, recorded.CheckpointEvery));
        Assert.Equal(defaults.LearningRateSteps, recorded.LearningRateSteps);
    }

    [Fact]
    public void Weights_for_another_backbone_are_refused_unless_partial_loading_is_allowed()
    {
        using var dir = new TempDir();
        string proposals = WriteProposals(dir);
        // small-shapesnet into AlexNet: one tensor (features.8.bias, 256 values) has a matching name and shape.
        string[] args = Train(proposals, dir.Combine("run"), "--backbone", "alexnet", "--weights", "small-shapesnet",
            "--iters", "1", "--scale", "64", "--max-size", "100", "--rois-per-image", "8");
        var (exit, output) = CliRunner.Run(args);
        Assert.Equal(1, exit);
        Assert.Contains("small-shapesnet.safetensors: only 1 of the 10 trunk tensors of backbone 'alexnet' loaded (10%; at least 90% needed)", output);
        Assert.Contains("--allow-partial-weights", output);
        AssertNoStackTrace(output);
        Assert.False(File.Exists(Path.Combine(dir.Combine("run"), ModelFiles.WeightsFileName)));

        (exit, output) = CliRunner.Run([.. args, "--allow-partial-weights"]);
        Assert.True(exit == 0, output);
        Assert.Contains("only 1 of the 10 trunk tensors came from the weights", output);
    }
}
