using System.Diagnostics;
using FastRcnn.Data;
using FastRcnn.Data.Transforms;
using FastRcnn.Imaging;
using FastRcnn.Modeling;
using FastRcnn.Modeling.RegionFeatures;
using FastRcnn.Proposals;
using FastRcnn.Runtime;
using static TorchSharp.torch;

namespace FastRcnn.Inference;

/// <summary>How a <see cref="Detector"/> runs (SPEC §6).</summary>
/// <param name="Scales">Shorter-side lengths s: one for single-scale testing, several for the pyramid; null = 600, or an SPPnet model's own scales (<see cref="Detector.ForModel"/>).</param>
/// <param name="MaxSize">Cap on the longer side (1000 single-scale; 2000 for the paper's multi-scale set).</param>
/// <param name="Postprocess">Score threshold, NMS, maximum detections.</param>
/// <param name="Deduplicate">Score RoIs that fall on the same feature cells once (<see cref="RoiDeduplication"/>).</param>
/// <param name="Proposals">Selective search settings, used when no proposals are given.</param>
/// <param name="CanonicalRoiSize">With several scales, each RoI is pooled from the level where its scaled area is closest to this side squared (SPEC §6: 224, the ImageNet input).</param>
/// <param name="Precision">
/// The box head's arithmetic (<see cref="Runtime.Precision"/>): <c>Fp32</c> (the default), <c>Bf16</c>, or <c>Auto</c> (bfloat16
/// where the CPU computes it natively and faster, <see cref="Bf16Support.Pays"/>, else float32); resolved once, when the detector is made.
/// </param>
/// <remarks>
/// <see cref="Engine"/> picks what runs the network (TorchSharp, or ONNX Runtime on the model's ONNX export); the
/// image transform, proposals, RoI projection, box decoding and postprocessing are this library's in both.
/// </remarks>
public sealed record DetectorOptions(
    IReadOnlyList<int>? Scales = null,
    int MaxSize = ImageScaling.DefaultMaxSize,
    PostprocessOptions? Postprocess = null,
    bool Deduplicate = true,
    SelectiveSearchOptions? Proposals = null,
    double CanonicalRoiSize = ImagePyramid.ImageNetInputSize,
    Precision Precision = Precision.Fp32)
{
    public IReadOnlyList<int> EffectiveScales => Scales is { Count: > 0 } ? Scales : [ImageScaling.DefaultShortSide];

    /// <summary>What runs the network: <see cref="InferenceEngine.Torch"/> (default) or <see cref="InferenceEngine.OnnxRuntime"/>.</summary>
    public InferenceEngine Engine { get; init; } = InferenceEngine.Torch;

    /// <summary>With ONNX Runtime: two sessions around this library's RoI pooling (default), or the whole exported graph.</summary>
    public OnnxArrangement OnnxArrangement { get; init; } = OnnxArrangement.Split;

    /// <summary>
    /// With ONNX Runtime: an exported file (<c>fastrcnn export</c>) to run as a whole graph instead of exporting the
    /// model in memory; its class names must equal the model's. Null: export in memory.
    /// </summary>
    public string? OnnxModelPath { get; init; }

    /// <summary>With ONNX Runtime: intra-op threads of its sessions (0: ONNX Runtime's default, one per core).</summary>
    public int OnnxThreads { get; init; }
}

/// <summary>One detected object, in the pixels of the original image.</summary>
public sealed record DetectedObject(string ClassName, int ClassIndex, float Score, BoundingBox Box);

/// <summary>Where one image's time went (the paper's Figure 2 split, plus proposals and NMS).</summary>
public sealed record StageTimes(TimeSpan Proposals, TimeSpan Conv, TimeSpan RoiPooling, TimeSpan Fc6, TimeSpan Fc7, TimeSpan Outputs, TimeSpan Nms)
{
    public TimeSpan Total => Proposals + Conv + RoiPooling + Fc6 + Fc7 + Outputs + Nms;

    public static StageTimes operator +(StageTimes a, StageTimes b) => new(a.Proposals + b.Proposals, a.Conv + b.Conv,
        a.RoiPooling + b.RoiPooling, a.Fc6 + b.Fc6, a.Fc7 + b.Fc7, a.Outputs + b.Outputs, a.Nms + b.Nms);

    public static StageTimes Zero { get; } = new(default, default, default, default, default, default, default);
}

/// <summary>An image's detections (best first), how many proposals were scored, and the stage times.</summary>
public sealed record DetectionResult(IReadOnlyList<DetectedObject> Objects, int ProposalCount, StageTimes Times);

/// <summary>
/// The library facade for detection, for every architecture of the family: a trained <see cref="TwoStageModel"/> and
/// its class names; images from files, memory or tensors. Per image: proposals (given, or selective search when the
/// model takes external ones; a Faster R-CNN model computes its own), the test transform (<see cref="ImageTransform"/>:
/// one level per test scale, preprocessed for the backbone), the model's forward path
/// (<see cref="TwoStageModel.Predict(TestImage, Tensor?, PredictOptions?, StageClock?)"/>: conv once per level, each
/// RoI pooled from its level, deduplicated, fc6, fc7, softmax scores and class-specific boxes in original pixels),
/// then <see cref="DetectionPostprocessor"/>. With <see cref="DetectorOptions.Engine"/> = <see cref="InferenceEngine.OnnxRuntime"/>
/// ONNX Runtime runs the network on the model's ONNX export instead of TorchSharp (docs/deploy.md); everything around
/// it stays the same. Not thread-safe: one detector per thread.
/// </summary>
/// <remarks>
/// In bfloat16 (<see cref="DetectorOptions.Precision"/> resolving to <see cref="Precision.Bf16"/>) the detector converts the
/// model's fc6 and fc7 to bfloat16 in place (<see cref="Modeling.RoiHeads.BoxHead.StoreWeightsAs"/>: one copy of the weights,
/// half their memory); the model is then for detection only. Softmax, box decoding and NMS stay float32. In float32 nothing
/// changes: the results are bit for bit those of a detector without the setting.
/// </remarks>
public sealed class Detector : IDisposable
{
    private readonly SelectiveSearch _selectiveSearch;
    private readonly ImageTransform _transform;
    private readonly OnnxRuntimeEngine? _onnx;

    public Detector(TwoStageModel model, IReadOnlyList<string> classNames, DetectorOptions? options = null)
    {
        if (classNames.Count != model.NumClasses)
            throw new ArgumentException($"the model has {model.NumClasses} object classes but {classNames.Count} class names were given");
        Model = model;
        ClassNames = classNames;
        Options = ForModel(options ?? new DetectorOptions(), model);
        _selectiveSearch = new SelectiveSearch(Options.Proposals);
        _transform = new ImageTransform(Options.EffectiveScales, Options.MaxSize, model.Pixels);
        Model.eval();
        if (Options.Engine == InferenceEngine.OnnxRuntime)
        {
            // ONNX Runtime runs the exported float32 graph: 'auto' means fp32 there, an explicit bf16 is an error.
            if (Options.Precision == Precision.Bf16)
                throw new ArgumentException("bfloat16 precision runs on the torch engine; ONNX Runtime runs the exported float32 graph (use --precision fp32 or auto).");
            Precision = Precision.Fp32;
            _onnx = new OnnxRuntimeEngine(model, classNames, Options);
        }
        else
        {
            Precision = Options.Precision.Resolve();
        }
        if (Precision == Precision.Bf16) Model.BoxHead.StoreWeightsAs(ScalarType.BFloat16);
    }

    /// <summary>
    /// <paramref name="options"/> for <paramref name="model"/>: without scales, an SPPnet model tests at its own scales
    /// (<see cref="SppOptions.Scales"/>, max size and canonical size); the others at <see cref="DetectorOptions.EffectiveScales"/>.
    /// </summary>
    public static DetectorOptions ForModel(DetectorOptions options, TwoStageModel model)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(model);
        return options.Scales is null && model.Spp is { } spp
            ? options with { Scales = spp.Scales, MaxSize = spp.MaxSize, CanonicalRoiSize = spp.CanonicalSize }
            : options;
    }

    /// <summary>Loads a model directory (<see cref="ModelFiles"/>).</summary>
    public static Detector Load(string modelDirectory, DetectorOptions? options = null)
    {
        var loaded = ModelFiles.Load(modelDirectory);
        try
        {
            return new Detector(loaded.Model, loaded.Info.ClassNames, options);
        }
        catch
        {
            loaded.Model.Dispose();   // e.g. an ONNX file that does not fit the model
            throw;
        }
    }

    public TwoStageModel Model { get; }
    public IReadOnlyList<string> ClassNames { get; }
    public DetectorOptions Options { get; }

    /// <summary>What <see cref="DetectorOptions.Precision"/> resolved to on this CPU: <see cref="Precision.Fp32"/> or <see cref="Precision.Bf16"/>.</summary>
    public Precision Precision { get; }

    /// <summary>Whether <see cref="Detect(RgbImage, Tensor?)"/> runs selective search when no proposals are given (Fast R-CNN models).</summary>
    public bool NeedsProposals => !Model.ComputesProposals;

    /// <summary>Detects objects in an image file (JPEG, PNG, BMP); <paramref name="proposals"/> (R,4) in its pixels, or null for the model's own or selective search.</summary>
    public DetectionResult Detect(string imagePath, Tensor? proposals = null) => Detect(ImageIO.Read(imagePath), proposals);

    /// <summary>Detects objects in a decoded image.</summary>
    public DetectionResult Detect(RgbImage image, Tensor? proposals = null)
    {
        using var scope = NewDisposeScope();
        var clock = Stopwatch.StartNew();
        if (proposals is null && NeedsProposals)
            proposals = _selectiveSearch.Run(image.Data, image.Width, image.Height).ToTensor();
        var proposalTime = clock.Elapsed;
        var result = Detect(image.ToTensor(), proposals);
        return result with { Times = result.Times with { Proposals = result.Times.Proposals + proposalTime } };
    }

    /// <summary>
    /// Detects objects in an RGB image tensor (3,H,W), uint8 or float 0–255, with proposals (R,4) in its pixels (null
    /// for a model that computes its own).
    /// </summary>
    public DetectionResult Detect(Tensor rgb, Tensor? proposals)
    {
        if (rgb.dim() != 3 || rgb.shape[0] != 3)
            throw new ArgumentException($"image must be (3,H,W) RGB, got [{string.Join(", ", rgb.shape)}]", nameof(rgb));
        if (proposals is not null && (proposals.dim() != 2 || proposals.shape[1] != 4))
            throw new ArgumentException($"proposals must be (R,4), got [{string.Join(", ", proposals.shape)}]", nameof(proposals));
        if (proposals is null && NeedsProposals)
            throw new ArgumentException($"a {Model.Architecture.Name()} model needs proposals (R,4): pass them, or detect from an RgbImage or a file to run selective search", nameof(proposals));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var clock = new StageClock();
        using var image = _transform.Apply(rgb);
        clock.Lap(DetectionStage.Conv);
        var predictOptions = new PredictOptions(Options.CanonicalRoiSize, Options.Deduplicate);
        using var predictions = _onnx is null ? Model.Predict(image, proposals, predictOptions, clock) : _onnx.Predict(image, proposals, predictOptions, clock);
        using var detections = DetectionPostprocessor.Run(predictions.Probabilities, predictions.Boxes,
            Options.Postprocess ?? (Model.SvmStage is not null ? Modeling.Svm.SvmStage.DefaultPostprocess : null));
        var objects = ToObjects(detections);
        clock.Lap(DetectionStage.Nms);
        var times = new StageTimes(clock[DetectionStage.Proposals], clock[DetectionStage.Conv], clock[DetectionStage.RoiPooling],
            clock[DetectionStage.Fc6], clock[DetectionStage.Fc7], clock[DetectionStage.Outputs], clock[DetectionStage.Nms]);
        return new DetectionResult(objects, (int)predictions.Proposals.shape[0], times);
    }

    private List<DetectedObject> ToObjects(DetectionTensors detections)
    {
        if (detections.Count == 0) return [];
        var b = detections.Boxes.data<float>().ToArray();
        var s = detections.Scores.data<float>().ToArray();
        var c = detections.Classes.data<long>().ToArray();
        var objects = new List<DetectedObject>(s.Length);
        for (int i = 0; i < s.Length; i++)
            objects.Add(new DetectedObject(ClassNames[(int)c[i] - 1], (int)c[i], s[i], new BoundingBox(b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3])));
        return objects;
    }

    /// <summary>Disposes the model (the detector owns it) and the ONNX Runtime sessions.</summary>
    public void Dispose()
    {
        _onnx?.Dispose();
        Model.Dispose();
    }
}
