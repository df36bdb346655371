using FastRcnn.Data;
using FastRcnn.Modeling;
using FastRcnn.Modeling.Backbones;
using FastRcnn.Pretraining;
using FastRcnn.Tests.Training;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Pretraining;

[Collection(TrainingCollection.Name)]
public sealed class CropPretrainerTests
{
    private static DetectionDataset Dataset => TrainingTestData.Dataset;

    [Fact]
    public void Sampler_draws_square_uint8_crops_with_labels_in_range_and_the_asked_background_share()
    {
        var options = new CropPretrainingOptions { BackgroundFraction = 0.5 };
        using var sampler = new CropSampler(Dataset, options, seed: 1);
        var (crops, labels) = sampler.Sample(400, 48, augment: true);
        using (crops)
        using (labels)
        {
            Assert.Equal(new long[] { 400, 3, 48, 48 }, crops.shape);
            Assert.Equal(ScalarType.Byte, crops.dtype);
            var values = labels.data<long>().ToArray();
            Assert.All(values, v => Assert.InRange(v, 0, Dataset.NumClasses));
            double background = values.Count(v => v == 0) / 400.0;
            Assert.InRange(background, 0.4, 0.6);
            Assert.True(values.Distinct().Count() > 3, "several object classes are drawn");
        }
    }

    [Fact]
    public void Sampler_is_reproducible_for_a_seed()
    {
        var options = new CropPretrainingOptions();
        using var a = new CropSampler(Dataset, options, seed: 4);
        using var b = new CropSampler(Dataset, options, seed: 4);
        var (ca, la) = a.Sample(16, 32, augment: true);
        var (cb, lb) = b.Sample(16, 32, augment: true);
        Assert.True(ca.eq(cb).all().item<bool>() && la.eq(lb).all().item<bool>());
        foreach (var t in new[] { ca, la, cb, lb }) t.Dispose();
    }

    [Fact]
    public void Pretraining_lowers_the_loss_and_saves_weights_that_fill_the_detector_trunk_and_box_head()
    {
        var options = new CropPretrainingOptions { Steps = 40, BatchSize = 32, CropSizes = [48], LearningRate = 0.02, ReportEvery = 20, Seed = 3 };
        using var sampler = new CropSampler(Dataset, options, options.Seed);
        using var pretrainer = new CropPretrainer(Dataset.NumClasses, options);
        var reports = pretrainer.Train(sampler, sampler);
        Assert.Equal([20, 40], reports.Select(r => r.Step));
        Assert.All(reports, r => Assert.NotNull(r.Validation));
        Assert.True(reports[^1].Loss < reports[0].Loss + 0.05, $"loss {reports[0].Loss:F3} → {reports[^1].Loss:F3}");

        using var dir = new TempDir();
        string path = dir.Combine("w.safetensors");
        pretrainer.Save(path, new Dictionary<string, string> { ["note"] = "test" });
        Assert.False(File.Exists(path + ".tmp"));
        using var model = new TwoStageModel("small", Dataset.NumClasses, seed: 1);
        var import = BackboneWeights.ImportTorchvision(model, path);
        Assert.True(import.IsComplete, import.ToString());
        Assert.Empty(import.Unexpected);

        // The detector's plain trunk with the folded weights computes the pre-trainer's (eval-mode) features.
        pretrainer.eval();
        model.eval();
        using var x = randn(1, 3, 64, 64, generator: new Generator(2));
        using var ours = model.Features(x);
        using var theirs = PretrainerFeatures(pretrainer, x);
        Assert.True(ours.allclose(theirs, rtol: 1e-3, atol: 1e-4));
    }

    private static Tensor PretrainerFeatures(CropPretrainer pretrainer, Tensor x)
    {
        var trunk = pretrainer.named_children().Single(c => c.name == "features").module;
        using var noGrad = no_grad();
        return ((TorchSharp.Modules.Sequential)trunk).forward(x);
    }
}
