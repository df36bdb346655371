using FastRcnn.Data;
using FastRcnn.Proposals;
using FastRcnn.Modeling;
using FastRcnn.Training;

namespace FastRcnn.Tests.Training;

/// <summary>A tiny Shapes dataset (12 train images of 192–224 px, seed 7) and its selective-search proposals, made once per test run.</summary>
internal static class TrainingTestData
{
    private static readonly Lazy<(DetectionDataset Dataset, PrecomputedProposals Proposals)> Shapes = new(Make);

    public static DetectionDataset Dataset => Shapes.Value.Dataset;

    public static PrecomputedProposals Proposals => Shapes.Value.Proposals;

    /// <summary>The Shapes options of the tests: the small backbone at s = 288 (max 480), no checkpoints, no prefetch unless asked.</summary>
    public static TrainingOptions SmallOptions(int iterations) => TrainingOptions.ShapesSmall with
    {
        Scales = [288], MaxSize = 480, Iterations = iterations, LearningRateSteps = [], CheckpointEvery = 0, Seed = 11,
    };

    private static (DetectionDataset, PrecomputedProposals) Make()
    {
        string root = Path.Combine(Path.GetTempPath(), "fastrcnn-training-shapes-" + Guid.NewGuid().ToString("N"));
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        };
        ShapesGenerator.Generate(root, new ShapesOptions { TrainImages = 12, TestImages = 0, Seed = 7, MinImageSize = 192, MaxImageSize = 224 });
        var dataset = DatasetLoader.Load(root, "train");
        return (dataset, DatasetProposals.ComputeOrLoad(dataset, cacheDir: Path.Combine(root, ".cache")));
    }
}
