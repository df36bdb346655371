namespace FastRcnn.Comparison;

/// <summary>The rows of the Fast R-CNN paper's Table 4 that <see cref="Table4Comparison"/> trains and tests, in the table's order.</summary>
public enum ComparisonPipeline
{
    /// <summary>R-CNN (Girshick et al. 2014): warped regions through the whole network, then feature cache, SVMs and box regressors.</summary>
    Rcnn,

    /// <summary>SPPnet (He et al. 2014): pyramid pooling over conv features at five scales, fc layers fine-tuned with the conv layers frozen, then R-CNN's SVM stage.</summary>
    Sppnet,

    /// <summary>Fast R-CNN (Girshick 2015): RoI pooling, one-stage multi-task training.</summary>
    FastRcnn,

    /// <summary>The Fast R-CNN model with fc6 and fc7 factored by truncated SVD (SPEC §7).</summary>
    FastRcnnSvd,

    /// <summary>Faster R-CNN (Ren et al. 2015): Fast R-CNN on its own region proposal network's proposals (not in Table 4).</summary>
    FasterRcnn,
}

/// <summary>Display names of <see cref="ComparisonPipeline"/>.</summary>
public static class ComparisonPipelines
{
    /// <summary>Every pipeline, in the table's order.</summary>
    public static IReadOnlyList<ComparisonPipeline> All { get; } = Enum.GetValues<ComparisonPipeline>();

    /// <summary>"R-CNN", "SPPnet", "Fast R-CNN", "Fast R-CNN + SVD", "Faster R-CNN".</summary>
    public static string DisplayName(this ComparisonPipeline pipeline) => pipeline switch
    {
        ComparisonPipeline.Rcnn => "R-CNN",
        ComparisonPipeline.Sppnet => "SPPnet",
        ComparisonPipeline.FastRcnn => "Fast R-CNN",
        ComparisonPipeline.FastRcnnSvd => "Fast R-CNN + SVD",
        ComparisonPipeline.FasterRcnn => "Faster R-CNN",
        _ => throw new ArgumentOutOfRangeException(nameof(pipeline), pipeline, null),
    };

    /// <summary>The folder name of a pipeline's outputs: "rcnn", "sppnet", "fast-rcnn", "fast-rcnn-svd", "faster-rcnn".</summary>
    public static string FolderName(this ComparisonPipeline pipeline) => pipeline switch
    {
        ComparisonPipeline.Rcnn => "rcnn",
        ComparisonPipeline.Sppnet => "sppnet",
        ComparisonPipeline.FastRcnn => "fast-rcnn",
        ComparisonPipeline.FastRcnnSvd => "fast-rcnn-svd",
        ComparisonPipeline.FasterRcnn => "faster-rcnn",
        _ => throw new ArgumentOutOfRangeException(nameof(pipeline), pipeline, null),
    };
}
