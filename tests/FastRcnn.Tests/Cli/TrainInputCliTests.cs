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
    private static string WriteProposals(TempDir dir) => FastRcnn.Tests.Training.TrainCliTests.WriteProposals(dir);

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
    public void Train_reports_dropped_proposals_by_reason_and_refuses_images_left_without_boxes()
    {
        using var dir = new TempDir();
        var images = TrainingTestData.Dataset.Images;
        // Every image: its selective-search boxes plus one swapped, one empty and one outside box; the first image only bad ones.
        NpyArray Boxes(int i, bool good)
        {
            using var ss = TrainingTestData.Proposals.ProposalsFor(images[i].Id, images[i].Width, images[i].Height);
            float[] bad = [40, 10, 20, 30, /**/ 10, 10, 10, 30, /**/ -50, -50, -20, -20];
            float[] all = good ? [.. ss.data<float>().ToArray(), .. bad] : bad;
            return new NpyArray([all.Length / 4, 4], all);
        }
        string mixed = dir.Combine("mixed.npz"), broken = dir.Combine("broken.npz");
        Npz.Write(mixed, images.Select((image, i) => KeyValuePair.Create(image.Id, Boxes(i, good: true))));
        Npz.Write(broken, images.Select((image, i) => KeyValuePair.Create(image.Id, Boxes(i, good: i > 0))));
        string[] quick = ["--iters", "1", "--scale", "128", "--max-size", "200", "--rois-per-image", "16"];

        var (exit, output) = CliRunner.Run(Train(broken, dir.Combine("broken"), quick));
        Assert.Equal(1, exit);
        Assert.Contains($"{broken}: 1 of {images.Count} images of split 'train' have no usable proposal box, e.g. all 3 boxes of image '{images[0].Id}' were dropped", output);
        AssertNoStackTrace(output);

        (exit, output) = CliRunner.Run(Train(mixed, dir.Combine("mixed"), quick));
        Assert.True(exit == 0, output);
        int n = images.Count;
        Assert.Contains($"warning: {3 * n} unusable proposal boxes dropped: {n} empty (x2 = x1 or y2 = y1), {n} swapped (x2 < x1 or y2 < y1), {n} outside the image", output);
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
