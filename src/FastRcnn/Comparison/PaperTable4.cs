namespace FastRcnn.Comparison;

/// <summary>
/// One row of the paper's figures (SPEC §10: VOC07 test, trained on VOC07 trainval, VGG16 (L), one K40 GPU); null
/// where the paper gives no number.
/// </summary>
/// <param name="TrainHours">Training time in hours.</param>
/// <param name="TrainSpeedup">Training speed-up against R-CNN.</param>
/// <param name="TestSecondsPerImage">Test time per image without proposals.</param>
/// <param name="TestSecondsWithProposals">Test time per image including proposals.</param>
/// <param name="TestSpeedup">Test speed-up against R-CNN (without proposals).</param>
/// <param name="Voc07Map">VOC07 mAP (%).</param>
/// <param name="Source">Where the numbers come from.</param>
public sealed record PaperRow(double? TrainHours, double? TrainSpeedup, double? TestSecondsPerImage, double? TestSecondsWithProposals,
    double? TestSpeedup, double? Voc07Map, string Source);

/// <summary>The paper's numbers for the rows <see cref="Table4Comparison"/> measures (the L column of Table 4, SPEC §10).</summary>
public static class PaperTable4
{
    /// <summary>The paper's row for <paramref name="pipeline"/>.</summary>
    public static PaperRow For(ComparisonPipeline pipeline) => pipeline switch
    {
        ComparisonPipeline.Rcnn => new(84, 1, 47.0, null, 1, 66.0, "Fast R-CNN Table 4, R-CNN L"),
        ComparisonPipeline.Sppnet => new(25, 3.4, 2.3, null, 20, 63.1, "Fast R-CNN Table 4, SPPnet L"),
        ComparisonPipeline.FastRcnn => new(9.5, 8.8, 0.32, null, 146, 66.9, "Fast R-CNN Table 4, FRCN L"),
        ComparisonPipeline.FastRcnnSvd => new(9.5, 8.8, 0.22, null, 213, 66.6, "Fast R-CNN Table 4, FRCN L with SVD"),
        // Not in Table 4: Ren et al. 2015, VGG16, RPN + Fast R-CNN with shared convs, 300 proposals, 5 fps with proposals.
        ComparisonPipeline.FasterRcnn => new(null, null, null, 0.2, null, 69.9, "Faster R-CNN paper (VGG16, shared, 5 fps)"),
        _ => throw new ArgumentOutOfRangeException(nameof(pipeline), pipeline, null),
    };
}
