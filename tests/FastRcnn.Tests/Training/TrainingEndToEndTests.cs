using System.Diagnostics;
using FastRcnn.Training;
using Xunit.Abstractions;

namespace FastRcnn.Tests.Training;

/// <summary>End to end: selective search on a tiny Shapes set, the small model trained by <see cref="Trainer"/>, RoI accuracy measured.</summary>
[Collection(TrainingCollection.Name)]
public sealed class TrainingEndToEndTests(ITestOutputHelper output)
{
    [Fact]
    public void Small_model_learns_tiny_shapes_set()
    {
        var clock = Stopwatch.StartNew();
        var dataset = TrainingTestData.Dataset;
        var proposals = TrainingTestData.Proposals;
        double prepare = clock.Elapsed.TotalSeconds;
        var options = TrainingTestData.SmallOptions(int.Parse(Environment.GetEnvironmentVariable("E2E_ITERS") ?? "500")) with
        {
            LearningRate = double.Parse(Environment.GetEnvironmentVariable("E2E_LR") ?? "0.01"), Prefetch = true,
        };
        using var model = options.CreateModel(dataset.NumClasses);
        var before = RoiEvaluation.Evaluate(model, dataset.Images, proposals, options);
        using var trainer = new Trainer(model, dataset, proposals, options);
        var result = trainer.Run();
        var after = RoiEvaluation.Evaluate(model, dataset.Images, proposals, options);
        var steps = trainer.Log.Steps;
        double first = steps.Take(20).Average(s => s.Loss), last = steps.TakeLast(20).Average(s => s.Loss);
        output.WriteLine($"prepare {prepare:F1} s, train {result.Seconds:F1} s ({result.Iterations / result.Seconds:F1} it/s), total {clock.Elapsed.TotalSeconds:F1} s");
        output.WriteLine($"training loss {first:F3} → {last:F3}; cls {steps.Take(20).Average(s => s.ClassificationLoss):F3} → {steps.TakeLast(20).Average(s => s.ClassificationLoss):F3}; batch accuracy {steps.TakeLast(20).Average(s => s.Accuracy):F3}");
        output.WriteLine($"before: {before}");
        output.WriteLine($"after:  {after}");
        Assert.True(last < 0.5 * first, $"loss {first} → {last}");
        Assert.True(after.Accuracy > 0.9, after.ToString());
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TrainingCollection
{
    /// <summary>Training reseeds libtorch's process-wide generator: these tests run alone.</summary>
    public const string Name = "training (global generator)";
}
