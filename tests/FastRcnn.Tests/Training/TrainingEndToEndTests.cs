using System.Diagnostics;
using FastRcnn.Data;
using FastRcnn.Inference;
using FastRcnn.Modeling;
using FastRcnn.Ops;
using FastRcnn.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Training;

/// <summary>End to end: selective search on a tiny Shapes set, the small model trained by <see cref="Trainer"/>, RoI accuracy measured.</summary>
[Collection(TrainingCollection.Name)]
public sealed class TrainingEndToEndTests(ITestOutputHelper output)
{
    [Fact]
    public void Small_model_learns_a_tiny_shapes_set()
    {
        var clock = Stopwatch.StartNew();
        var dataset = TrainingTestData.Dataset;          // 12 images of 192–224 px, 8 classes
        var proposals = TrainingTestData.Proposals;      // selective search, fast mode
        double prepare = clock.Elapsed.TotalSeconds;
        // The paper's sampler and solver (64 RoIs, 25% fg, momentum 0.9, decay 0.0005, flips) at s = 224, from scratch:
        // lr 0.02 and 500 iterations (~42 epochs of 12 images) keep the test under a minute on 2 cores.
        var options = TrainingTestData.SmallOptions(500) with { Scales = [224], MaxSize = 400, LearningRate = 0.02, Prefetch = true };
        using var model = options.CreateModel(dataset.NumClasses);
        var before = RoiEvaluation.Evaluate(model, dataset.Images, proposals, options);
        using var trainer = new Trainer(model, dataset, proposals, options);
        var result = trainer.Run();
        var after = RoiEvaluation.Evaluate(model, dataset.Images, proposals, options);

        var steps = trainer.Log.Steps;
        double first = steps.Take(20).Average(s => s.Loss), last = steps.TakeLast(20).Average(s => s.Loss);
        output.WriteLine($"prepare {prepare:F1} s, train {result.Seconds:F1} s ({result.Iterations / result.Seconds:F1} it/s), total {clock.Elapsed.TotalSeconds:F1} s");
        output.WriteLine($"training loss (mean of 20 iterations) {first:F3} → {last:F3}; cls {steps.Take(20).Average(s => s.LossOf(LossNames.Classification)):F3} → " +
            $"{steps.TakeLast(20).Average(s => s.LossOf(LossNames.Classification)):F3}; batch accuracy {steps.TakeLast(20).Average(s => s.Accuracy):F3}");
        output.WriteLine($"before: {before}");
        output.WriteLine($"after:  {after}");
        // Measured (2-core Xeon): loss 1.777 → 0.513; all labelled proposals: accuracy 0.049 → 0.949 (fg 0.841, bg 0.989).
        Assert.Equal(500, result.Iterations);
        Assert.True(last < 0.5 * first, $"loss {first} → {last}");
        Assert.True(after.Accuracy > 0.9, after.ToString());
        Assert.True(after.ForegroundAccuracy > 0.75, after.ToString());
        Assert.True(after.ClassificationLoss < 0.3 * before.ClassificationLoss, $"{before} → {after}");

        // The trained model, through the Detector (test scale = the training scale), finds the objects of its training
        // images: each non-difficult ground-truth box is matched by a detection of its class scoring ≥ 0.5 at IoU ≥ 0.5.
        var detector = new Detector(model, dataset.ClassNames.Skip(1).ToArray(), new DetectorOptions([224], 400));
        int objects = 0, found = 0;
        foreach (var image in dataset.Images)
        {
            using var scope = NewDisposeScope();
            var detections = detector.Detect(image.ImagePath, proposals.ProposalsFor(image.Id, image.Width, image.Height)).Objects
                .Where(d => d.Score >= 0.5).ToArray();
            var gts = image.Objects.Where(o => !o.Difficult).ToArray();
            objects += gts.Length;
            if (detections.Length == 0 || gts.Length == 0) continue;
            var iou = BoxOps.PairwiseIoU(Boxes(detections.Select(d => d.Box)), Boxes(gts.Select(g => g.Box)));   // (D, G)
            var sameClass = tensor(detections.SelectMany(d => gts.Select(g => d.ClassIndex == g.ClassIndex)).ToArray()).reshape(iou.shape);
            found += (int)iou.Ge(0.5).logical_and_(sameClass).any(0).sum().item<long>();
        }
        output.WriteLine($"detector: {found} of {objects} training objects found (class right, score ≥ 0.5, IoU ≥ 0.5)");
        Assert.True(found >= 0.7 * objects, $"{found} of {objects} objects found");
    }

    private static Tensor Boxes(IEnumerable<BoundingBox> boxes) =>
        tensor(boxes.SelectMany(b => new[] { b.X1, b.Y1, b.X2, b.Y2 }).ToArray()).reshape(-1, 4);
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TrainingCollection
{
    /// <summary>Training reseeds libtorch's process-wide generator: these tests run alone.</summary>
    public const string Name = "training (global generator)";
}
