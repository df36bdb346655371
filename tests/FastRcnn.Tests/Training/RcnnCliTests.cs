using System.Text.Json.Nodes;
using FastRcnn.Cli;
using FastRcnn.Inference;
using FastRcnn.IO;
using FastRcnn.Modeling;
using FastRcnn.Modeling.Svm;
using FastRcnn.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Training;

/// <summary><c>fastrcnn train --architecture rcnn</c> then <c>eval</c>, in-process, on the tiny Shapes set with 30 proposals per image.</summary>
[Collection(TrainingCollection.Name)]
public sealed class RcnnCliTests
{
    private static int Run(params string[] args) => CliApp.Build().Parse(args).Invoke();

    private static string WriteProposals(TempDir dir, int perImage)
    {
        string path = dir.Combine("proposals.npz");
        Npz.Write(path, TrainingTestData.Dataset.Images.Select(i =>
        {
            using var all = TrainingTestData.Proposals.ProposalsFor(i.Id, i.Width, i.Height);
            using var boxes = all.narrow(0, 0, Math.Min(perImage, all.shape[0])).contiguous();
            return KeyValuePair.Create(i.Id, new NpyArray([boxes.shape[0], 4], boxes.data<float>().ToArray()));
        }));
        return path;
    }

    [Fact]
    public void Rcnn_fine_tunes_caches_features_trains_svms_and_regressors_then_detects_and_evaluates()
    {
        torch.random.manual_seed(1);
        using var dir = new TempDir();
        string root = TrainingTestData.Dataset.Source, proposals = WriteProposals(dir, 30), run = dir.Combine("run");
        Assert.Equal(0, Run("train", "--dataset", root, "--split", "train", "--proposals", proposals, "--architecture", "rcnn",
            "--scale", "144", "--max-size", "240", "--iters", "2", "--seed", "3", "--out", run));

        var info = ModelFiles.ReadInfo(run);
        Assert.Equal(DetectorArchitecture.Rcnn, info.Architecture);
        Assert.NotNull(info.SvmStageSha256);
        var config = TrainingConfig.FromJsonObject(info.TrainingConfig!);
        Assert.Equal((4, 32, 0.25, 0.0), (config.ImagesPerBatch, config.RoisPerImage, config.ForegroundFraction, config.BackgroundIoULow));

        // The cache's size is recorded, and is what the cache takes on disk.
        string cacheDir = Path.Combine(run, SvmStageTraining.CacheFolder);
        long onDisk = Directory.GetFiles(cacheDir).Sum(f => new FileInfo(f).Length);
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(run, SvmStageTraining.RecordFileName)))!;
        Assert.Equal(onDisk, (long)record["feature_cache"]!["bytes"]!);
        Assert.Equal(TrainingTestData.Dataset.Images.Count, (int)record["feature_cache"]!["images"]!);
        Assert.Equal(TrainingTestData.Dataset.NumClasses, record["classes"]!.AsArray().Count);

        // From code: the loaded detector scores with the SVMs.
        using (var detector = Detector.Load(run, new DetectorOptions([144], 240)))
        {
            Assert.NotNull(detector.Model.SvmStage);
            var image = TrainingTestData.Dataset.Images[0];
            using var boxes = TrainingTestData.Proposals.ProposalsFor(image.Id, image.Width, image.Height).narrow(0, 0, 30);
            var result = detector.Detect(FastRcnn.Imaging.ImageIO.Read(image.ImagePath), boxes);
            Assert.Equal(30, result.ProposalCount);
            Assert.All(result.Objects, o => Assert.True(o.Score > -1));
        }

        Assert.Equal(0, Run("eval", "--model", run, "--dataset", root, "--split", "train", "--proposals", proposals, "--scale", "144", "--max-size", "240"));
        var metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "eval-train", "metrics.json")))!;
        Assert.InRange((double)metrics["map_voc07"]!, 0, 1);

        // Truncated SVD keeps the SVM stage.
        Assert.Equal(0, Run("compress", "--model", run, "--fc6", "64", "--fc7", "32", "--out", dir.Combine("svd")));
        using (var compressed = ModelFiles.Load(dir.Combine("svd")).Model)
        using (var original = ModelFiles.Load(run).Model)
        {
            Assert.Equal(new FastRcnn.Modeling.RoiHeads.BoxHeadRanks(64, 32), compressed.BoxHead.Ranks);
            Assert.True(FastRcnn.Tests.Modeling.ModelingTestData.Same(original.SvmStage!.SvmWeights, compressed.SvmStage!.SvmWeights));
        }

        // A replaced SVM stage is refused on load, naming the file.
        File.WriteAllBytes(Path.Combine(run, SvmStage.FileName), [0, 1, 2]);
        Assert.Contains(SvmStage.FileName, Assert.Throws<InvalidDataException>(() => ModelFiles.Load(run)).Message);
        // --force removes everything the run wrote, the cache included.
        Assert.Equal(0, Run("train", "--dataset", root, "--split", "train", "--proposals", proposals, "--architecture", "rcnn",
            "--scale", "144", "--max-size", "240", "--iters", "1", "--seed", "3", "--out", run, "--force"));
        Assert.NotNull(ModelFiles.Load(run).Model.SvmStage);
    }
}
