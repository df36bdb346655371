using static TorchSharp.torch;

namespace FastRcnn.Modeling.RegionFeatures;

/// <summary>
/// What region features are computed from: the preprocessed, padded input images (N,3,H,W) and the trunk's
/// conv features of them (N,C,h,w). Fast and Faster R-CNN pool from <see cref="Features"/>; R-CNN's warped crops
/// read <see cref="Images"/>.
/// </summary>
public sealed record RegionSource(Tensor Images, Tensor Features);

/// <summary>
/// The seam between the conv trunk and the box head: one fixed-size feature per region, flattened by the box head.
/// Rows of <c>rois</c> are (batch_index, x1, y1, x2, y2) in the pixels of the (scaled) input image. Implementations:
/// <see cref="RoiPoolExtractor"/> (Fast R-CNN's single-level RoI max pooling, SPEC §4); SPPnet's multi-level
/// pyramid pooling and R-CNN's per-region warping (<see cref="WarpedRegionExtractor"/>) plug in here without touching the trunk or the heads.
/// </summary>
public interface IRegionFeatureExtractor
{
    /// <summary>The width D of one region's flattened feature (the box head's input width).</summary>
    int OutputWidth { get; }

    /// <summary>
    /// Whether <see cref="Extract"/> reads <see cref="RegionSource.Features"/> (true by default). When false (R-CNN's
    /// warped crops) a model without a region proposal network skips the whole-image trunk pass and hands an empty
    /// tensor there.
    /// </summary>
    bool ReadsFeatureMap => true;

    /// <summary>Region features (R, …) of <paramref name="rois"/> (R,5) on <paramref name="source"/>.</summary>
    Tensor Extract(RegionSource source, Tensor rois);

    /// <summary>
    /// At test time: the distinct rows (U,5) of <paramref name="rois"/> whose features would be identical, and the
    /// inverse map (R) int64 from every RoI to its row (null when every RoI is kept as it is).
    /// </summary>
    (Tensor Unique, Tensor? Inverse) Deduplicate(Tensor rois);
}
