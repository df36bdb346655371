using FastRcnn.Modeling;
using FastRcnn.Tests.Training;
using FastRcnn.Training;

namespace FastRcnn.Tests.Cli;

/// <summary><c>fastrcnn train --architecture sppnet</c> (fine-tuning, then feature cache, SVMs and box regressors), then <c>detect</c> and <c>eval</c> with its model, in-process.</summary>
[Collection(TrainingCollection.Name)]
public sealed class SppnetCliTests
{
    [Fact]
    public void Sppnet_trains_its_fc_layers_only_and_its_svm_stage_then_detects_and_evaluates_at_its_own_scales()
    {
        using var dir = new TempDir();
        string root = TrainingTestData.Dataset.Source, proposals = TrainCliTests.WriteProposals(dir), run = dir.Combine("run");
        var (exit, output) = CliRunner.Run("train", "--architecture", "sppnet", "--dataset", root, "--split", "train", "--proposals", proposals,
            "--scale", "144", "--max-size", "240", "--rois-per-image", "32", "--iters", "3", "--seed", "5", "--checkpoint-every", "0", "--out", run);
        Assert.True(exit == 0, output);

        Assert.True(File.Exists(Path.Combine(run, FastRcnn.Modeling.Svm.SvmStage.FileName)), "the SVM stage is saved with the model");
        Assert.Contains("feature cache:", output);
        var info = ModelFiles.ReadInfo(run);
        Assert.Equal(DetectorArchitecture.Sppnet, info.Architecture);
        Assert.Equal([5, 3, 2, 1], info.Spp!.Levels);
        Assert.Equal(DetectorArchitecture.Sppnet, TrainingConfig.FromJsonObject(info.TrainingConfig!).Architecture);
        var loaded = ModelFiles.Load(run);
        Assert.NotNull(loaded.Model.SvmStage);
        using (var trained = loaded.Model)
        using (var initial = new TwoStageModel("small", trained.NumClasses, seed: 5, new TwoStageOptions { Architecture = DetectorArchitecture.Sppnet }))
        {
            var before = initial.state_dict();
            foreach (var (name, value) in trained.state_dict())
            {
                bool same = value.eq(before[name]).all().item<bool>();
                Assert.True(name.StartsWith("features.", StringComparison.Ordinal) == same, $"{name}: trunk frozen, fc layers trained");
            }
        }

        string detections = dir.Combine("detect");
        var image = TrainingTestData.Dataset.Images[0].ImagePath;
        (exit, output) = CliRunner.Run("detect", "--model", run, image, "--out", detections);
        Assert.True(exit == 0, output);
        Assert.True(File.Exists(Path.Combine(detections, "detections.json")));

        (exit, output) = CliRunner.Run("eval", "--model", run, "--dataset", root, "--split", "train", "--proposals", proposals, "--scale", "144", "--out", dir.Combine("eval"));
        Assert.True(exit == 0, output);
        Assert.True(File.Exists(Path.Combine(dir.Combine("eval"), "metrics.json")));
    }
}
