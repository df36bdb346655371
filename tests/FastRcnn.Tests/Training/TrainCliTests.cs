using FastRcnn.Cli;
using FastRcnn.IO;
using FastRcnn.Modeling;
using FastRcnn.Proposals;
using FastRcnn.Tests.Data;
using FastRcnn.Training;

namespace FastRcnn.Tests.Training;

/// <summary><c>fastrcnn train</c>, invoked in-process with a handful of iterations.</summary>
[Collection(TrainingCollection.Name)]
public sealed class TrainCliTests
{
    private static int Run(params string[] args) => CliApp.Build().Parse(args).Invoke();

    /// <summary>The test set's selective-search proposals written as an .npz, as a user would bring them.</summary>
    internal static string WriteProposals(TempDir dir)
    {
        string path = dir.Combine("proposals.npz");
        Npz.Write(path, TrainingTestData.Dataset.Images.Select(i =>
        {
            using var boxes = TrainingTestData.Proposals.ProposalsFor(i.Id, i.Width, i.Height);
            return KeyValuePair.Create(i.Id, new NpyArray([boxes.shape[0], 4], boxes.data<float>().ToArray()));
        }));
        return path;
    }

    [Fact]
    public void Train_writes_model_checkpoints_and_log_then_resumes()
    {
        using var dir = new TempDir();
        string root = TrainingTestData.Dataset.Source, proposals = WriteProposals(dir), run = dir.Combine("run");
        string[] common = ["train", "--dataset", root, "--split", "train", "--proposals", proposals, "--scale", "144", "--max-size", "240", "--rois-per-image", "32"];
        Assert.Equal(0, Run([.. common, "--iters", "4", "--checkpoint-every", "2", "--seed", "3", "--lr", "0.005", "--out", run]));
        Assert.True(File.Exists(Path.Combine(run, ModelFiles.WeightsFileName)));
        Assert.Equal(["checkpoint_0000002.safetensors", "checkpoint_0000004.safetensors"],
            Directory.GetFiles(Path.Combine(run, "checkpoints")).Select(f => Path.GetFileName(f) ?? "").Order().ToArray());
        var log = File.ReadAllLines(Path.Combine(run, TrainingLog.FileName));
        Assert.Equal(TrainingLog.HeaderFor([LossNames.Classification, LossNames.BoxRegression]), log[0]);
        Assert.Equal(5, log.Length);
        var info = ModelFiles.ReadInfo(run);
        var config = TrainingConfig.FromJsonObject(info.TrainingConfig!);
        Assert.Equal((3L, 4, 0.005, "small", 240), (config.Seed, config.Iterations, config.LearningRate, config.Backbone, config.MaxSize));
        Assert.Equal([144], config.Scales);
        Assert.Equal(Path.GetFullPath(proposals), config.Proposals);
        Assert.Equal(3, info.Seed);
        using (ModelFiles.Load(run).Model) { }

        Assert.Equal(1, Run([.. common, "--iters", "4", "--out", run]));                        // the directory holds a run
        Assert.Equal(0, Run(["train", "--resume", run, "--iters", "6", "--out", run]));         // continues the same schedule
        Assert.Equal(7, File.ReadAllLines(Path.Combine(run, TrainingLog.FileName)).Length);
        Assert.Equal(6, TrainingConfig.FromJsonObject(ModelFiles.ReadInfo(run).TrainingConfig!).Iterations);
        Assert.Equal(0, Run([.. common, "--iters", "2", "--out", run, "--force", "--val-split", "train", "--validate-every", "1", "--no-prefetch"]));
        Assert.Equal(3, File.ReadAllLines(Path.Combine(run, TrainingLog.FileName)).Length);
        var validation = File.ReadAllLines(Path.Combine(run, "validation_log.csv"));
        Assert.Equal(3, validation.Length);                                                     // header + iterations 1, 2
        Assert.StartsWith("iteration,roi_accuracy,fg_accuracy,bg_accuracy,cls_loss", validation[0]);
    }

    [Fact]
    public void Train_takes_PyTorch_pth_weights()
    {
        // A complete small trunk and fc6/fc7 as a .pth state dict (torch.save's zip format, here written by
        // TorchSharp.PyBridge; PyTorch-written files: PyTorchFilesTests, BackboneWeightsTests).
        using var dir = new TempDir();
        string weights = dir.Combine("start.pth");
        using (var source = new TwoStageModel("small", numClasses: 2, seed: 11))
        {
            var state = new System.Collections.Hashtable();
            foreach (var (name, value) in source.state_dict())
                if (!name.StartsWith("predictor.", StringComparison.Ordinal)) state[name] = value;
            TorchSharp.PyBridge.PyTorchPickler.PickleStateDict(weights, state);
        }
        string root = TrainingTestData.Dataset.Source, run = dir.Combine("run");
        var (exit, output) = FastRcnn.Tests.Cli.CliRunner.Run("train", "--dataset", root, "--split", "train", "--proposals", WriteProposals(dir),
            "--iters", "1", "--scale", "128", "--rois-per-image", "16", "--weights", weights, "--out", run);
        Assert.True(exit == 0, output);
        Assert.Contains($"weights {weights}: loaded 14 tensors", output);
        Assert.DoesNotContain("missing", output);
        Assert.Equal(weights, TrainingConfig.FromJsonObject(ModelFiles.ReadInfo(run).TrainingConfig!).Weights);

        File.Copy(FastRcnn.Tests.IO.PyTorchFilesTests.Fixture("whole_module.pth"), dir.Combine("module.pth"));
        (exit, output) = FastRcnn.Tests.Cli.CliRunner.Run("train", "--dataset", root, "--split", "train", "--proposals", WriteProposals(dir),
            "--iters", "1", "--scale", "128", "--weights", dir.Combine("module.pth"), "--out", dir.Combine("refused"));
        Assert.Equal(1, exit);
        Assert.Contains($"{dir.Combine("module.pth")}: cannot load PyTorch weights", output);
    }

    [Fact]
    public void Config_files_and_auto_proposals_work_and_bad_inputs_fail_cleanly()
    {
        using var dir = new TempDir();
        string root = TrainingTestData.Dataset.Source;
        string config = dir.Combine("config.json");
        File.WriteAllText(config, "{ \"backbone\": \"small\", \"iterations\": 2, \"scales\": [128], \"max_size\": 200, \"learning_rate\": 0.004, \"rois_per_image\": 16 }");
        string run = dir.Combine("auto");
        Assert.Equal(0, Run("train", "--dataset", root, "--split", "train", "--proposals", "auto", "--cache-dir", dir.Combine("cache"), "--config", config, "--out", run));
        var recorded = TrainingConfig.FromJsonObject(ModelFiles.ReadInfo(run).TrainingConfig!);
        Assert.Equal((2, 0.004, 16, "auto", 4500), (recorded.Iterations, recorded.LearningRate, recorded.RoisPerImage, recorded.Proposals, recorded.LearningRateSteps[0]));

        string proposals = WriteProposals(dir);
        string[] Args(string dataset, string proposalFile, string split = "train", params string[] more) =>
            ["train", "--dataset", dataset, "--split", split, "--proposals", proposalFile, "--iters", "1", "--scale", "128", .. more];
        string[] ok = Args(root, proposals);
        string turned = dir.Combine("turned");
        Assert.Equal(0, Run([.. ok, "--any-orientation", "--permute-channels", "--out", turned]));
        var augmented = TrainingConfig.FromJsonObject(ModelFiles.ReadInfo(turned).TrainingConfig!);
        Assert.Equal((0.5, 0.5, 0.5, true), (augmented.FlipProbability, augmented.VerticalFlipProbability, augmented.TransposeProbability, augmented.PermuteChannels));
        Assert.Equal(1, Run(Args(dir.Combine("missing"), proposals, "train", "--out", dir.Combine("a"))));       // no such dataset
        Assert.Equal(1, Run([.. ok, "--backbone", "resnet50", "--out", dir.Combine("b")]));                      // unknown backbone
        Assert.Equal(1, Run([.. ok, "--weights", dir.Combine("none.safetensors"), "--out", dir.Combine("c")]));  // missing weights
        File.WriteAllText(dir.Combine("bad.safetensors"), "not a safetensors file");
        Assert.Equal(1, Run([.. ok, "--weights", dir.Combine("bad.safetensors"), "--out", dir.Combine("d")]));   // corrupt weights
        Assert.Equal(1, Run(Args(root, dir.Combine("none.npz"), "train", "--out", dir.Combine("e"))));           // missing proposals
        Npz.Write(dir.Combine("partial.npz"), [KeyValuePair.Create("other", new NpyArray([1, 4], [0, 0, 5, 5]))]);
        Assert.Equal(1, Run(Args(root, dir.Combine("partial.npz"), "train", "--out", dir.Combine("f"))));        // ids not covered
        Assert.Equal(1, Run(Args(root, proposals, "nosuchsplit", "--out", dir.Combine("g"))));                   // no such split
        File.WriteAllText(dir.Combine("typo.json"), "{ \"iteratons\": 3 }");
        Assert.Equal(1, Run([.. ok, "--config", dir.Combine("typo.json"), "--out", dir.Combine("h")]));          // unknown option in config
        Assert.Equal(1, Run([.. ok, "--lr", "-1", "--out", dir.Combine("i")]));                                  // invalid value
        Assert.Equal(1, Run([.. ok, "--resume", dir.Combine("nothing"), "--out", dir.Combine("j")]));            // no checkpoint
        Assert.NotEqual(0, Run(ok));                                                              // --out is required
        string emptySplit = Path.Combine(root, "ImageSets", "Main", "empty.txt");
        File.WriteAllText(emptySplit, "");
        try { Assert.Equal(1, Run(Args(root, proposals, "empty", "--out", dir.Combine("k")))); }                 // no images in split
        finally { File.Delete(emptySplit); }
    }

    [Fact]
    public void Force_deletes_only_what_training_wrote_and_zero_iterations_or_duplicate_config_keys_are_refused()
    {
        using var dir = new TempDir();
        string root = TrainingTestData.Dataset.Source, proposals = WriteProposals(dir), run = dir.Combine("run");
        string[] common = ["train", "--dataset", root, "--split", "train", "--proposals", proposals, "--scale", "128", "--max-size", "200", "--rois-per-image", "16"];

        Assert.Equal(1, Run([.. common, "--iters", "0", "--out", run]));                          // nothing to train
        Assert.False(File.Exists(Path.Combine(run, ModelFiles.InfoFileName)));
        string config = dir.Combine("twice.json");
        File.WriteAllText(config, "{ \"iterations\": 2, \"iterations\": 0 }");
        Assert.Equal(1, Run([.. common, "--config", config, "--out", run]));                      // a key given twice

        Assert.Equal(0, Run([.. common, "--iters", "2", "--checkpoint-every", "1", "--out", run]));
        string checkpoints = Path.Combine(run, "checkpoints");
        File.WriteAllText(Path.Combine(checkpoints, "notes.txt"), "mine");
        Directory.CreateDirectory(Path.Combine(run, "eval-test", "voc_results"));
        File.WriteAllText(Path.Combine(run, "eval-test", "metrics.json"), "{}");
        File.WriteAllText(Path.Combine(run, "eval-test", "pr_all.png"), "png");
        File.WriteAllText(Path.Combine(run, "eval-test", "voc_results", "comp4_det_test_circle.txt"), "");
        File.WriteAllText(Path.Combine(run, "eval-test", "summary-for-my-paper.md"), "mine");
        Directory.CreateDirectory(Path.Combine(run, "eval-val"));
        File.WriteAllText(Path.Combine(run, "eval-val", "metrics.csv"), "");
        File.WriteAllText(Path.Combine(run, "README.txt"), "mine");

        Assert.Equal(0, Run([.. common, "--iters", "1", "--checkpoint-every", "1", "--out", run, "--force"]));
        Assert.Equal(["checkpoint_0000001.safetensors", "notes.txt"],
            Directory.GetFiles(checkpoints).Select(f => Path.GetFileName(f) ?? "").Order(StringComparer.Ordinal));
        Assert.Equal(["summary-for-my-paper.md"], Directory.GetFiles(Path.Combine(run, "eval-test")).Select(Path.GetFileName));
        Assert.False(Directory.Exists(Path.Combine(run, "eval-test", "voc_results")));
        Assert.False(Directory.Exists(Path.Combine(run, "eval-val")));                             // old results of the old model
        Assert.True(File.Exists(Path.Combine(run, "README.txt")));
        Assert.Equal(2, File.ReadAllLines(Path.Combine(run, TrainingLog.FileName)).Length);       // the new run's log
    }

    [Fact]
    public void Faster_rcnn_trains_jointly_and_alternating_without_proposals_then_evaluates_and_writes_rpn_proposals()
    {
        using var dir = new TempDir();
        string root = TrainingTestData.Dataset.Source, joint = dir.Combine("joint"), alternating = dir.Combine("alternating");
        string[] common = ["train", "--dataset", root, "--split", "train", "--architecture", "faster-rcnn", "--scale", "144", "--max-size", "240",
            "--rois-per-image", "32", "--seed", "5", "--lr", "0.005"];

        Assert.Equal(0, Run([.. common, "--iters", "3", "--out", joint]));
        var info = ModelFiles.ReadInfo(joint);
        Assert.Equal(DetectorArchitecture.FasterRcnn, info.Architecture);
        Assert.NotNull(info.Rpn);
        Assert.Equal(TrainingLog.HeaderFor([LossNames.RpnClassification, LossNames.RpnBoxRegression, LossNames.Classification, LossNames.BoxRegression]),
            File.ReadAllLines(Path.Combine(joint, TrainingLog.FileName))[0]);
        Assert.Equal(0, Run(["eval", "--model", joint, "--dataset", root, "--split", "train", "--scale", "144", "--max-size", "240"]));   // no selective search
        Assert.True(File.Exists(Path.Combine(joint, "eval-train", "metrics.json")));
        string npz = dir.Combine("rpn.npz");
        Assert.Equal(0, Run(["proposals", "--model", joint, "--dataset", root, "--split", "train", "--out", npz]));
        Assert.Equal(TrainingTestData.Dataset.Images.Select(i => i.Id).Order(), ProposalFile.Read(npz).Keys.Order());
        Assert.Equal(0, Run(["eval", "--model", joint, "--dataset", root, "--split", "train", "--proposals", "rpn", "--out", dir.Combine("x")]));

        Assert.Equal(0, Run([.. common, "--schedule", "alternating", "--alternating-iters", "2", "2", "1", "1", "--out", alternating]));
        foreach (var step in AlternatingTraining.StepNames)
            Assert.True(File.Exists(Path.Combine(alternating, step, ModelFiles.InfoFileName)), step);
        Assert.True(File.Exists(Path.Combine(alternating, AlternatingTraining.StepNames[0], "proposals.npz")));
        Assert.True(File.Exists(Path.Combine(alternating, AlternatingTraining.StepNames[2], "proposals.npz")));
        Assert.Equal(DetectorArchitecture.FasterRcnn, ModelFiles.ReadInfo(alternating).Architecture);
        using (var model = ModelFiles.Load(alternating).Model)
        using (var step4 = ModelFiles.Load(Path.Combine(alternating, AlternatingTraining.StepNames[3])).Model)
        {
            var final = model.state_dict();
            Assert.All(step4.state_dict(), p => Assert.True(FastRcnn.Tests.Modeling.ModelingTestData.Same(final[p.Key], p.Value), p.Key));
        }
        Assert.Equal(0, Run(["train", "--resume", alternating, "--out", alternating]));     // every step finished: nothing to redo
        Assert.Equal(1, Run(["train", "--dataset", root, "--split", "train", "--proposals", "auto", "--schedule", "alternating", "--out", dir.Combine("bad")]));
    }
}
