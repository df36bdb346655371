using FastRcnn.Modeling.Matching;

namespace FastRcnn.Modeling.Rpn;

/// <summary>
/// Settings of the <see cref="RegionProposalNetwork"/>; defaults are Faster R-CNN's (Ren et al., NIPS 2015) as
/// py-faster-rcnn trains VGG16: 3 anchor sizes × 3 aspect ratios, 512 hidden channels, anchors positive at IoU ≥ 0.7
/// (or the best of a ground-truth box), negative below 0.3, 256 anchors per image at most half positive, anchors
/// crossing the border ignored, smooth L1 with σ = 3, proposals 12000 → NMS 0.7 → 2000 in training and
/// 6000 → 300 at test time, at least 16 original pixels wide and high.
/// </summary>
public sealed record RpnOptions
{
    /// <summary>Anchor sizes σ, square roots of the anchor areas, in pixels of the scaled image (128, 256, 512).</summary>
    public IReadOnlyList<double> AnchorSizes { get; init; } = [128, 256, 512];

    /// <summary>Anchor aspect ratios height / width (0.5, 1, 2).</summary>
    public IReadOnlyList<double> AspectRatios { get; init; } = [0.5, 1, 2];

    /// <summary>M, channels of the head's 3×3 convolution (512 for VGG16; 256 for ZF).</summary>
    public int HeadChannels { get; init; } = 512;

    /// <summary>Anchors are positive at IoU ≥ this with a ground-truth box (0.7).</summary>
    public double ForegroundIoU { get; init; } = 0.7;

    /// <summary>Anchors are negative at max IoU below this (0.3) …</summary>
    public double BackgroundIoUHigh { get; init; } = 0.3;

    /// <summary>… and at or above this (0).</summary>
    public double BackgroundIoULow { get; init; } = 0;

    /// <summary>Each ground-truth box's best anchors (all ties) are positive whatever their IoU (true).</summary>
    public bool AllowLowQualityMatches { get; init; } = true;

    /// <summary>Anchors sampled per image for the loss (256).</summary>
    public int BatchSizePerImage { get; init; } = 256;

    /// <summary>Share of the sample reserved for positives (0.5).</summary>
    public double PositiveFraction { get; init; } = 0.5;

    /// <summary>Pixels an anchor may cross the image border by and still be trained on (0).</summary>
    public double AllowedBorder { get; init; } = 0;

    /// <summary>σ of the box loss's smooth L1 (3, i.e. β = 1/9).</summary>
    public double Sigma { get; init; } = 3;

    /// <summary>Boxes kept by objectness before NMS in training (12000).</summary>
    public int PreNmsTopNTrain { get; init; } = 12000;

    /// <summary>Proposals kept after NMS in training (2000).</summary>
    public int PostNmsTopNTrain { get; init; } = 2000;

    /// <summary>Boxes kept by objectness before NMS at test time (6000).</summary>
    public int PreNmsTopNTest { get; init; } = 6000;

    /// <summary>Proposals kept after NMS at test time (300).</summary>
    public int PostNmsTopNTest { get; init; } = 300;

    /// <summary>NMS IoU threshold of the proposals (0.7).</summary>
    public double NmsThreshold { get; init; } = 0.7;

    /// <summary>Minimum proposal width and height in pixels of the original image (16), scaled with the image.</summary>
    public double MinSize { get; init; } = 16;

    /// <summary>A, anchors per feature-map cell.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int AnchorsPerCell => AnchorSizes.Count * AspectRatios.Count;

    /// <summary>The anchor <see cref="Matcher"/>'s thresholds.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public MatcherOptions MatcherOptions => new(ForegroundIoU, BackgroundIoULow, BackgroundIoUHigh, AllowLowQualityMatches);

    /// <summary>The anchor <see cref="BalancedSampler"/>'s batch.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public BalancedSamplerOptions SamplerOptions => new(BatchSizePerImage, PositiveFraction);

    /// <summary>The proposal layer's settings in training (<paramref name="training"/>) or test mode.</summary>
    public ProposalLayerOptions ProposalOptions(bool training) => training
        ? new(PreNmsTopNTrain, PostNmsTopNTrain, NmsThreshold, MinSize)
        : new(PreNmsTopNTest, PostNmsTopNTest, NmsThreshold, MinSize);

    /// <summary>
    /// The <c>small</c> backbone (stride 16, 256 channels) on the Shapes benchmark: objects of 12 px up to half of a
    /// 320–500 px image, scaled to a shorter side of 400 (factor 0.8–1.25), i.e. about 10 to 310 px in the network
    /// input. Anchors of 24, 48, 96 and 192 px (× the 3 ratios: A = 12) were chosen on held-out Shapes data (seed 1000,
    /// not the demo's), by the share of objects whose best anchor reaches IoU 0.5 / 0.7: 81.3% / 24.9%, against 76.8% /
    /// 22.2% for 32–256 and 26.9% / 11.1% for VGG16's 128–512 (<c>bench … anchors</c>, docs/faster-rcnn.md); larger
    /// objects reach their anchors as low-quality matches. 256 head channels, matching the trunk; a minimum proposal
    /// size of 8 original pixels, since Shapes objects start at 12 px and thin ones are narrower.
    /// </summary>
    public static RpnOptions ShapesSmall { get; } = new()
    {
        AnchorSizes = [24, 48, 96, 192],
        HeadChannels = 256,
        MinSize = 8,
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting.</summary>
    /// <summary>The defaults for a backbone: <see cref="ShapesSmall"/> for <c>small</c>, the paper's VGG16 settings otherwise.</summary>
    public static RpnOptions For(Backbones.BackboneSpec spec) => spec.Name == "small" ? ShapesSmall : new RpnOptions();

    public void Validate()
    {
        static void Check(bool ok, string message)
        {
            if (!ok) throw new ArgumentException("RPN options: " + message);
        }

        Check(AnchorSizes is { Count: > 0 } && AnchorSizes.All(s => s > 0 && !double.IsInfinity(s)),
            $"anchor sizes must be a non-empty list of positive numbers, got [{string.Join(", ", AnchorSizes ?? [])}].");
        Check(AspectRatios is { Count: > 0 } && AspectRatios.All(r => r > 0 && !double.IsInfinity(r)),
            $"aspect ratios must be a non-empty list of positive numbers, got [{string.Join(", ", AspectRatios ?? [])}].");
        Check(HeadChannels >= 1, $"head channels must be positive, got {HeadChannels}.");
        Check(BackgroundIoULow >= 0 && BackgroundIoULow <= BackgroundIoUHigh && BackgroundIoUHigh <= ForegroundIoU && ForegroundIoU <= 1,
            $"IoU thresholds need 0 ≤ background low ≤ background high ≤ foreground ≤ 1, got {BackgroundIoULow}, {BackgroundIoUHigh}, {ForegroundIoU}.");
        Check(BatchSizePerImage >= 1, $"anchors per image must be positive, got {BatchSizePerImage}.");
        Check(PositiveFraction is >= 0 and <= 1, $"the positive fraction must lie in [0, 1], got {PositiveFraction}.");
        Check(AllowedBorder >= 0 && !double.IsInfinity(AllowedBorder), $"the allowed border must be non-negative and finite, got {AllowedBorder}.");
        Check(Sigma > 0 && !double.IsInfinity(Sigma), $"sigma must be positive and finite, got {Sigma}.");
        Check(PreNmsTopNTrain >= 1 && PostNmsTopNTrain >= 1 && PreNmsTopNTest >= 1 && PostNmsTopNTest >= 1,
            $"top-N counts must be positive, got {PreNmsTopNTrain}/{PostNmsTopNTrain} (training), {PreNmsTopNTest}/{PostNmsTopNTest} (test).");
        Check(NmsThreshold is >= 0 and <= 1, $"the NMS threshold must lie in [0, 1], got {NmsThreshold}.");
        Check(MinSize >= 0 && !double.IsInfinity(MinSize), $"the minimum proposal size must be non-negative and finite, got {MinSize}.");
    }
}
