using FastRcnn.Modeling;
using FastRcnn.Ops;
using FastRcnn.Tests.Data;
using FastRcnn.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Training;

/// <summary>The trainer: divergence stops, checkpoints, resume = uninterrupted run, frozen layers, the recorded configuration.</summary>
[Collection(TrainingCollection.Name)]
public sealed class TrainerTests(ITestOutputHelper output)
{
    /// <summary>Fast settings: s = 160 (max 256), 32 RoIs per image; flips, two scales and a rate step so every random stream and the schedule matter.</summary>
    private static TrainingOptions Fast(int iterations) => TrainingTestData.SmallOptions(iterations) with
    {
        Scales = [144, 176], MaxSize = 288, RoisPerImage = 32, LearningRateSteps = [8], Seed = 21,
    };

    private static bool AllFinite(IEnumerable<Tensor> tensors) => tensors.All(t => isfinite(t).all().item<bool>());

    [Fact]
    public void A_nan_loss_stops_naming_iteration_and_loss_and_keeps_the_last_good_checkpoint()
    {
        using var dir = new TempDir();
        var options = Fast(20) with { CheckpointEvery = 5 };
        using var model = options.CreateModel(TrainingTestData.Dataset.NumClasses);
        using var trainer = new Trainer(model, TrainingTestData.Dataset, TrainingTestData.Proposals, options, dir.Path);
        trainer.StepStarting += (_, s) =>
        {
            if (s.Iteration != 7) return;
            using var noGrad = no_grad();
            s.Model.named_parameters().First(p => p.name == "predictor.cls_score.weight").parameter.Fill_(float.NaN);
        };
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Run());
        output.WriteLine(e.Message);
        Assert.Equal(7, e.Iteration);
        Assert.Equal(LossNames.Classification, e.Quantity);
        Assert.Contains("iteration 7", e.Message);
        Assert.Contains($"{LossNames.Classification} is NaN", e.Message);
        string good = Path.Combine(dir.Path, "checkpoints", TrainingCheckpoint.FileName(5));
        Assert.Equal(good, e.LastCheckpoint);
        Assert.Equal([TrainingCheckpoint.FileName(5)], Directory.GetFiles(Path.Combine(dir.Path, "checkpoints")).Select(f => Path.GetFileName(f) ?? "").ToArray());
        using (var checkpoint = TrainingCheckpoint.Read(good))
        {
            Assert.Equal(5, checkpoint.Iteration);
            Assert.True(AllFinite(checkpoint.Weights.Values) && AllFinite(checkpoint.Momentum.Values));
        }
        Assert.Equal(6, trainer.Iteration);
        Assert.Equal(7, File.ReadAllLines(Path.Combine(dir.Path, TrainingLog.FileName)).Length);   // header + iterations 1–6
        Assert.False(File.Exists(Path.Combine(dir.Path, ModelFiles.WeightsFileName)));
    }

    [Fact]
    public void An_absurd_learning_rate_stops_before_a_checkpoint_holds_non_finite_weights()
    {
        using var dir = new TempDir();
        var options = Fast(30) with { LearningRate = 1e12, LearningRateSteps = [], CheckpointEvery = 1 };
        using var model = options.CreateModel(TrainingTestData.Dataset.NumClasses);
        using var trainer = new Trainer(model, TrainingTestData.Dataset, TrainingTestData.Proposals, options, dir.Path);
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Run());
        output.WriteLine(e.Message);
        Assert.InRange(e.Iteration, 1, 5);
        Assert.Contains($"iteration {e.Iteration}", e.Message);
        Assert.True(e.Quantity.StartsWith("loss", StringComparison.Ordinal) || e.Quantity == "total loss" || e.Quantity.StartsWith("weight ", StringComparison.Ordinal), e.Quantity);
        foreach (var file in Directory.GetFiles(Path.Combine(dir.Path, "checkpoints")))
        {
            using var checkpoint = TrainingCheckpoint.Read(file);
            Assert.True(AllFinite(checkpoint.Weights.Values), file);
        }
    }

    [Fact]
    public void A_resumed_run_reproduces_the_uninterrupted_one()
    {
        const int total = 12, stopAfter = 5;
        // Without prefetching: a batch decoded on another thread while a step runs can make the BLAS split that step's
        // products differently (last-bit differences that then grow); the data and draws are the same either way.
        var options = Fast(total) with { CheckpointEvery = 0, Prefetch = false };
        var dataset = TrainingTestData.Dataset;
        using var dirA = new TempDir();
        using var dirB = new TempDir();

        using var modelA = options.CreateModel(dataset.NumClasses);
        using var trainerA = new Trainer(modelA, dataset, TrainingTestData.Proposals, options, dirA.Path);
        trainerA.Run();

        // Interrupted: cancelled after iteration 5 (a checkpoint is written), then a fresh process-like restart.
        using (var modelB = options.CreateModel(dataset.NumClasses))
        using (var trainerB = new Trainer(modelB, dataset, TrainingTestData.Proposals, options, dirB.Path))
        using (var cancel = new CancellationTokenSource())
        {
            trainerB.StepCompleted += (_, s) => { if (s.Iteration == stopAfter) cancel.Cancel(); };
            var stopped = trainerB.Run(cancel.Token);
            Assert.True(stopped.Cancelled);
            Assert.Equal(stopAfter, stopped.Iterations);
        }
        string checkpointPath = Path.Combine(dirB.Path, "checkpoints", TrainingCheckpoint.FileName(stopAfter));
        using var modelC = (options with { Seed = options.Seed }).CreateModel(dataset.NumClasses);
        using (var noGrad = no_grad())
            foreach (var p in modelC.parameters()) p.normal_();   // whatever it starts from, the checkpoint decides
        using var trainerC = new Trainer(modelC, dataset, TrainingTestData.Proposals, options, dirB.Path);
        using (var checkpoint = TrainingCheckpoint.Read(checkpointPath))
        {
            Assert.Equal(options, checkpoint.Options);
            Assert.NotEmpty(checkpoint.Momentum);
            trainerC.Restore(checkpoint);
        }
        var resumed = trainerC.Run();
        Assert.Equal(total, resumed.Iterations);

        var a = trainerA.Log.Steps;
        var c = TrainingLog.Load(Path.Combine(dirB.Path, TrainingLog.FileName)).Steps;
        Assert.Equal(a.Select(s => s.Iteration), c.Select(s => s.Iteration));
        for (int i = 0; i < total; i++)
        {
            output.WriteLine($"{a[i].Iteration}: {a[i].Loss:R} {c[i].Loss:R} lr {a[i].LearningRate}");
            Assert.Equal(a[i].Loss, c[i].Loss, 1e-6);
            Assert.Equal(a[i].LossOf(LossNames.Classification), c[i].LossOf(LossNames.Classification), 1e-6);
            Assert.Equal(a[i].LossOf(LossNames.BoxRegression), c[i].LossOf(LossNames.BoxRegression), 1e-6);
            Assert.Equal((a[i].ForegroundRois, a[i].BackgroundRois, a[i].LearningRate), (c[i].ForegroundRois, c[i].BackgroundRois, c[i].LearningRate));
        }
        var weightsA = modelA.state_dict();
        foreach (var (name, value) in modelC.state_dict())
            Assert.True(value.allclose(weightsA[name], rtol: 1e-5, atol: 1e-6), name);
    }

    [Fact]
    public void Frozen_layers_stay_fixed_and_the_effective_configuration_is_recorded()
    {
        using var dir = new TempDir();
        var options = Fast(3) with { FrozenPrefixes = ["features.0.", "features.2."] };
        using var model = options.CreateModel(TrainingTestData.Dataset.NumClasses);
        var before = model.state_dict().ToDictionary(p => p.Key, p => p.Value.clone());
        using var trainer = new Trainer(model, TrainingTestData.Dataset, TrainingTestData.Proposals, options, dir.Path);
        var result = trainer.Run();
        Assert.Equal(3, result.Iterations);
        foreach (var (name, value) in model.state_dict())
        {
            bool frozen = name.StartsWith("features.0.", StringComparison.Ordinal) || name.StartsWith("features.2.", StringComparison.Ordinal);
            Assert.True(frozen == FastRcnn.Tests.Modeling.ModelingTestData.Same(value, before[name]), $"{name}: frozen {frozen}");
        }

        var info = ModelFiles.ReadInfo(dir.Path);
        Assert.Equal(options, TrainingConfig.FromJsonObject(info.TrainingConfig!));
        Assert.Equal(options.Seed, info.Seed);
        Assert.Equal(TrainingTestData.Dataset.ClassNames.Skip(1), info.ClassNames);
        Assert.Equal(options, TrainingConfig.Load(Path.Combine(dir.Path, Trainer.ConfigFileName)));
        using var checkpoint = TrainingCheckpoint.Read(result.LastCheckpoint!);
        Assert.Equal(options, checkpoint.Options);
        var loaded = ModelFiles.Load(dir.Path);
        using (loaded.Model)
            foreach (var (name, value) in loaded.Model.state_dict()) Assert.True(FastRcnn.Tests.Modeling.ModelingTestData.Same(value, model.state_dict()[name]), name);
    }
}
