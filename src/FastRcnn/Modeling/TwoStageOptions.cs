using FastRcnn.Data.Transforms;
using FastRcnn.Modeling.RoiHeads;
using FastRcnn.Ops;

namespace FastRcnn.Modeling;

/// <summary>Choices of <see cref="TwoStageModel"/>; the defaults are the Fast R-CNN paper's.</summary>
public sealed record TwoStageOptions
{
    /// <summary>Which member of the family: where proposals come from (<see cref="DetectorArchitecture.FastRcnn"/>: external).</summary>
    public DetectorArchitecture Architecture { get; init; } = DetectorArchitecture.FastRcnn;

    /// <summary>Region proposal network settings (Faster R-CNN); null = the backbone's defaults (<see cref="Rpn.RpnOptions.For"/>).</summary>
    public Rpn.RpnOptions? Rpn { get; init; }

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

    /// <summary>R-CNN: warped crops per trunk forward pass (<see cref="RegionFeatures.WarpedRegionExtractor.BatchSize"/>).</summary>
    public int WarpBatchSize { get; init; } = 32;

    /// <summary>Box-head layers factored by truncated SVD (SPEC §7) and their ranks; dense by default.</summary>
    public BoxHeadRanks HeadRanks { get; init; } = BoxHeadRanks.Dense;
}
