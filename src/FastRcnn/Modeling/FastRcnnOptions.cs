using FastRcnn.Data.Transforms;
using FastRcnn.Modeling.RoiHeads;
using FastRcnn.Ops;

namespace FastRcnn.Modeling;

/// <summary>Choices of <see cref="FastRcnnModel"/>; the defaults are the paper's.</summary>
public sealed record FastRcnnOptions
{
    /// <summary>RoI sampling per image (64 RoIs, 25% foreground, fg IoU ≥ 0.5, bg IoU in [0.1, 0.5)).</summary>
    public RoiSamplerOptions Sampler { get; init; } = new();

    /// <summary>
    /// Regression-target normalisation, used to encode targets in training and to decode predictions,
    /// and saved with the model (<see cref="BoxCoder.FixedStd"/>: stds 0.1, 0.1, 0.2, 0.2).
    /// </summary>
    public BoxCoder BoxCoder { get; init; } = BoxCoder.FixedStd;

    /// <summary>λ, the weight of the box-regression loss (1).</summary>
    public double BoxLossWeight { get; init; } = 1;

    /// <summary>Pixel preprocessing of the input; null = the backbone's (that of its pretrained weights).</summary>
    public PixelPreprocessing? Pixels { get; init; }

    /// <summary>State-dict name prefixes to freeze; null = the backbone's default (SPEC §5), empty = none.</summary>
    public IReadOnlyList<string>? FrozenPrefixes { get; init; }

    /// <summary>Box-head layers factored by truncated SVD (SPEC §7) and their ranks; dense by default.</summary>
    public BoxHeadRanks HeadRanks { get; init; } = BoxHeadRanks.Dense;
}

/// <summary>
/// The losses of one training step and what they were computed on. When every image was skipped
/// (<see cref="HasRois"/> false) the losses are constant zeros without a graph: do not step.
/// </summary>
/// <param name="Losses">Classification, box-regression and total loss (scalars; Total has a graph).</param>
/// <param name="ForegroundRois">Foreground RoIs sampled over the batch.</param>
/// <param name="BackgroundRois">Background RoIs sampled over the batch.</param>
/// <param name="SkippedImages">Images that yielded neither foreground nor background RoIs.</param>
/// <param name="Accuracy">Share of sampled RoIs whose highest-scoring class is their label (NaN without RoIs).</param>
public sealed record FastRcnnTrainingOutput(
    FastRcnnLosses Losses, int ForegroundRois, int BackgroundRois, int SkippedImages, double Accuracy)
{
    /// <summary>R, the RoIs of the mini-batch.</summary>
    public int RoiCount => ForegroundRois + BackgroundRois;

    /// <summary>Whether any RoI was sampled (otherwise there is nothing to learn from this batch).</summary>
    public bool HasRois => RoiCount > 0;
}
