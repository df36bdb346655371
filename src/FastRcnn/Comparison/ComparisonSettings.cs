using FastRcnn.Inference;
using FastRcnn.Training;

namespace FastRcnn.Comparison;

/// <summary>
/// The sizes of one <see cref="Table4Comparison"/> run: the Shapes split every pipeline trains and tests on, each
/// pipeline's fine-tuning iterations (all from the same pre-trained <c>small-shapesnet</c> weights, with
/// <see cref="ShapesRecipe.FineTuning"/>), the SVD ranks, the test scales, and how many test images time selective search.
/// </summary>
/// <param name="TrainImages">Images of the Shapes <c>train</c> split.</param>
/// <param name="TestImages">Images of the Shapes <c>test</c> split.</param>
/// <param name="Seed">Seed of the dataset and of every training run.</param>
/// <param name="Iterations">Fine-tuning iterations of every pipeline (N = 2 images, 64 RoIs each).</param>
/// <param name="Fc6Rank">Truncated SVD rank of fc6 (the demo's 128).</param>
/// <param name="Fc7Rank">Truncated SVD rank of fc7 (the demo's 64).</param>
/// <param name="ProposalTimingImages">Test images selective search is timed on (for the "with proposals" column).</param>
public sealed record ComparisonSettings(int TrainImages, int TestImages, int Seed, int Iterations, int Fc6Rank, int Fc7Rank, int ProposalTimingImages)
{
    /// <summary>The default run: 200 training and 100 test images, 1000 iterations per pipeline (docs/table4.md: about 30 minutes on 2 shared cores).</summary>
    public static ComparisonSettings Full { get; } = new(200, 100, 0, 1000, 128, 64, 20);

    /// <summary>The smoke test (<c>--quick</c>): every pipeline on 4 training and 2 test images, 8 iterations.</summary>
    public static ComparisonSettings Quick { get; } = new(4, 2, 0, 8, 128, 64, 2);

    /// <summary>
    /// The test scale of Fast and Faster R-CNN: one scale, s = 600 capped at 1000, as Table 4 times Fast R-CNN
    /// (<see cref="ShapesRecipe.TestPyramid"/> is the demo's more accurate, slower pyramid); SPPnet tests at its own five scales.
    /// </summary>
    public DetectorOptions FastDetection { get; init; } = new([600], MaxSize: 1000);

    /// <summary>The pipelines to run, in the table's order (all by default).</summary>
    public IReadOnlyList<ComparisonPipeline> Pipelines { get; init; } = ComparisonPipelines.All;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first value that cannot work.</summary>
    public void Validate()
    {
        if (TrainImages < 2) throw new ArgumentException($"the comparison needs at least 2 training images, got {TrainImages}");
        if (TestImages < 1) throw new ArgumentException($"the comparison needs at least 1 test image, got {TestImages}");
        if (Iterations < 1) throw new ArgumentException($"iterations must be ≥ 1, got {Iterations}");
        if (Fc6Rank < 1 || Fc7Rank < 1) throw new ArgumentException($"SVD ranks must be ≥ 1, got fc6 {Fc6Rank}, fc7 {Fc7Rank}");
        if (ProposalTimingImages < 1) throw new ArgumentException($"proposal timing needs at least 1 image, got {ProposalTimingImages}");
        if (Pipelines.Count == 0) throw new ArgumentException("no pipeline to compare");
        if (Pipelines.Contains(ComparisonPipeline.FastRcnnSvd) && !Pipelines.Contains(ComparisonPipeline.FastRcnn))
            throw new ArgumentException("Fast R-CNN + SVD compresses the Fast R-CNN model: include fast-rcnn");
    }
}
