namespace FastRcnn.Export;

/// <summary>
/// The keys of an exported model's <c>metadata_props</c> (docs/deploy.md): everything needed to use the file
/// without this library. JSON values are compact and culture-invariant.
/// </summary>
public static class OnnxMetadata
{
    /// <summary>"fastrcnn-onnx/1": the layout of the graph and of these keys.</summary>
    public const string Format = "fastrcnn.format";
    /// <summary>The value of <see cref="Format"/> this library writes.</summary>
    public const string FormatVersion = "fastrcnn-onnx/1";
    /// <summary>"fast-rcnn" or "faster-rcnn".</summary>
    public const string Architecture = "fastrcnn.architecture";
    /// <summary>The trunk, e.g. "vgg16".</summary>
    public const string Backbone = "fastrcnn.backbone";
    /// <summary>JSON array of the K object class names; class k ≥ 1 is element k−1 (0 is background).</summary>
    public const string Classes = "fastrcnn.classes";
    /// <summary>JSON object: name, channel order ("rgb"/"bgr"), pixel_scale, mean[3], std[3]: y_c = (p_c·pixel_scale − mean_c)/std_c on 0–255 pixels.</summary>
    public const string Pixels = "fastrcnn.pixel_preprocessing";
    /// <summary>JSON array of test scales (shorter side in pixels).</summary>
    public const string TestScales = "fastrcnn.test_scales";
    /// <summary>Cap on the longer side.</summary>
    public const string MaxSize = "fastrcnn.max_size";
    /// <summary>With several scales: each RoI is pooled from the level where its scaled side is closest to this.</summary>
    public const string CanonicalRoiSize = "fastrcnn.canonical_roi_size";
    /// <summary>Image resizing: "bilinear, align_corners=false, size = round-half-even(side·factor)".</summary>
    public const string Resize = "fastrcnn.resize";
    /// <summary>The RoI pooling grid side (PH = PW).</summary>
    public const string PooledSize = "fastrcnn.roi_pool_size";
    /// <summary>Feature map stride as a scale (1/16 = 0.0625).</summary>
    public const string SpatialScale = "fastrcnn.spatial_scale";
    /// <summary>JSON object: weights [wx, wy, ww, wh] and clamp_log of the box decoding.</summary>
    public const string BoxCoder = "fastrcnn.box_coder";
    /// <summary>JSON object: score_threshold, nms_threshold (per class), max_detections, min_box_size.</summary>
    public const string Postprocess = "fastrcnn.postprocess";
    /// <summary>JSON object: fc6 and fc7 ranks of the truncated SVD (null: dense).</summary>
    public const string SvdRanks = "fastrcnn.svd_ranks";
    /// <summary>Faster R-CNN: JSON object of the RPN's anchors and test-time proposal layer (pre_nms_top_n, post_nms_top_n, nms_threshold, min_size).</summary>
    public const string Rpn = "fastrcnn.rpn";
    /// <summary>A description of the graph's inputs and outputs.</summary>
    public const string Graph = "fastrcnn.graph";
}
