using FastRcnn.Modeling;
using FastRcnn.Runtime;
using FastRcnn.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Training;

/// <summary>
/// <c>train --precision bf16</c>: the box head multiplies in bfloat16 from float32 master weights; the optimizer state,
/// the losses and the checkpoints stay float32, and a run resumes in either setting.
/// </summary>
[Collection(TrainingCollection.Name)]
public sealed class MixedPrecisionTrainingTests(ITestOutputHelper output)
{
    private static TrainingOptions Fast(Precision precision) => TrainingTestData.SmallOptions(4) with
    {
        Scales = [160], MaxSize = 256, RoisPerImage = 32, CheckpointEvery = 2, Prefetch = false, Seed = 5, Precision = precision,
    };

    /// <summary>Trains <paramref name="options"/> into <paramref name="dir"/>, from <paramref name="resume"/> when given; the log's losses.</summary>
    private static double[] Train(TrainingOptions options, string dir, string? resume = null)
    {
        var dataset = TrainingTestData.Dataset;
        using var model = options.CreateModel(dataset.NumClasses);
        using var trainer = new Trainer(model, dataset, TrainingTestData.Proposals, options, dir);
        if (resume is not null)
        {
            using var checkpoint = TrainingCheckpoint.Read(resume);
            trainer.Restore(checkpoint);
        }
        trainer.Run();
        Assert.Equal(options.Precision.ComputeType(), model.BoxHead.ComputeType);
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));   // master weights
        return TrainingLog.Load(Path.Combine(dir, TrainingLog.FileName)).Steps.Select(s => s.Loss).ToArray();
    }

    private static void AssertAllFloat32(string safetensors)
    {
        var contents = FastRcnn.IO.SafeTensors.Read(safetensors);
        Assert.NotEmpty(contents.Tensors);
        Assert.All(contents.Tensors, t => Assert.Equal(ScalarType.Float32, t.Value.dtype));
    }

    [Fact]
    public void Bf16_training_keeps_float32_checkpoints_and_resumes_in_either_setting()
    {
        using var bf16Dir = new TempDir();
        using var fp32Dir = new TempDir();
        var bf16 = Train(Fast(Precision.Bf16), bf16Dir.Path);
        var fp32 = Train(Fast(Precision.Fp32), fp32Dir.Path);
        output.WriteLine($"bf16 losses {string.Join(", ", bf16)}; fp32 {string.Join(", ", fp32)}");
        Assert.Equal(4, bf16.Length);
        Assert.All(bf16, l => Assert.True(double.IsFinite(l)));
        // The same batches: bf16 only rounds the box head's products, so the losses stay close.
        for (int i = 0; i < 4; i++) Assert.True(Math.Abs(bf16[i] - fp32[i]) <= 0.02 * fp32[i] + 1e-3, $"iteration {i + 1}: {bf16[i]} vs {fp32[i]}");
        Assert.NotEqual(fp32, bf16);

        string checkpoint2 = Path.Combine(bf16Dir.Path, "checkpoints", TrainingCheckpoint.FileName(2));
        AssertAllFloat32(checkpoint2);
        AssertAllFloat32(Path.Combine(bf16Dir.Path, ModelFiles.WeightsFileName));
        using (var checkpoint = TrainingCheckpoint.Read(checkpoint2))
            Assert.Equal(Precision.Bf16, checkpoint.Options.Precision);

        // A bf16 checkpoint resumed in fp32, and an fp32 one in bf16: iterations 3 and 4 as the uninterrupted runs, up to rounding.
        using var toFp32 = new TempDir();
        var resumedFp32 = Train(Fast(Precision.Fp32), toFp32.Path, checkpoint2);
        using var toBf16 = new TempDir();
        var resumedBf16 = Train(Fast(Precision.Bf16), toBf16.Path, Path.Combine(fp32Dir.Path, "checkpoints", TrainingCheckpoint.FileName(2)));
        output.WriteLine($"bf16 → fp32 {string.Join(", ", resumedFp32)}; fp32 → bf16 {string.Join(", ", resumedBf16)}");
        Assert.Equal(2, resumedFp32.Length);
        Assert.Equal(2, resumedBf16.Length);
        for (int i = 0; i < 2; i++)
        {
            Assert.True(Math.Abs(resumedFp32[i] - fp32[i + 2]) <= 0.02 * fp32[i + 2] + 1e-3, $"bf16 → fp32, iteration {i + 3}");
            Assert.True(Math.Abs(resumedBf16[i] - bf16[i + 2]) <= 0.02 * bf16[i + 2] + 1e-3, $"fp32 → bf16, iteration {i + 3}");
        }
    }

    [Fact]
    public void The_setting_is_recorded_by_name_and_a_converted_model_is_refused()
    {
        Assert.Contains("\"precision\": \"bf16\"", TrainingConfig.ToJson(Fast(Precision.Bf16)), StringComparison.Ordinal);
        Assert.Equal(Precision.Auto, TrainingConfig.FromJson("{ \"precision\": \"auto\" }").Precision);
        Assert.Equal(Precision.Fp32, TrainingConfig.FromJson("{ }").Precision);

        var options = Fast(Precision.Fp32);
        using var model = options.CreateModel(TrainingTestData.Dataset.NumClasses);
        model.BoxHead.StoreWeightsAs(ScalarType.BFloat16);
        var e = Assert.Throws<ArgumentException>(() => new Trainer(model, TrainingTestData.Dataset, TrainingTestData.Proposals, options));
        Assert.Contains("float32", e.Message, StringComparison.Ordinal);
    }
}
