using System.Diagnostics;
using FastRcnn.Data;
using FastRcnn.Data.Transforms;
using FastRcnn.Imaging;
using FastRcnn.Modeling;
using FastRcnn.Proposals;
using static TorchSharp.torch;

namespace FastRcnn.Inference;

/// <summary>How a <see cref="Detector"/> runs (SPEC §6).</summary>
/// <param name="Scales">Shorter-side lengths s: one for single-scale testing, several for the pyramid.</param>
/// <param name="MaxSize">Cap on the longer side (1000 single-scale; 2000 for the paper's multi-scale set).</param>
/// <param name="Postprocess">Score threshold, NMS, maximum detections.</param>
/// <param name="Deduplicate">Score RoIs that fall on the same feature cells once (<see cref="RoiDeduplication"/>).</param>
/// <param name="Proposals">Selective search settings, used when no proposals are given.</param>
/// <param name="CanonicalRoiSize">With several scales, each RoI is pooled from the level where its scaled area is closest to this side squared (SPEC §6: 224, the ImageNet input).</param>
public sealed record DetectorOptions(
    IReadOnlyList<int>? Scales = null,
    int MaxSize = ImageScaling.DefaultMaxSize,
    PostprocessOptions? Postprocess = null,
    bool Deduplicate = true,
    SelectiveSearchOptions? Proposals = null,
    double CanonicalRoiSize = ImagePyramid.ImageNetInputSize)
{
    public IReadOnlyList<int> EffectiveScales => Scales is { Count: > 0 } ? Scales : [ImageScaling.DefaultShortSide];
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
/// The library facade for detection: a trained model and its class names; images from files,
/// memory or tensors; proposals given or computed by selective search. Per image: scale (one level
/// per test scale; with several, each RoI is pooled from the level where its scaled area is closest
/// to 224²), preprocess for the backbone, conv once per level, pool the (deduplicated) RoIs, fc6, fc7,
/// softmax scores and class-specific boxes decoded against the proposals in original pixels, clipped,
/// then <see cref="DetectionPostprocessor"/>. Not thread-safe: one detector per thread.
/// </summary>
public sealed class Detector : IDisposable
{
    private readonly SelectiveSearch _selectiveSearch;

    public Detector(FastRcnnModel model, IReadOnlyList<string> classNames, DetectorOptions? options = null)
    {
        if (classNames.Count != model.NumClasses)
            throw new ArgumentException($"the model has {model.NumClasses} object classes but {classNames.Count} class names were given");
        Model = model;
        ClassNames = classNames;
        Options = options ?? new DetectorOptions();
        _selectiveSearch = new SelectiveSearch(Options.Proposals);
        Model.eval();
    }

    /// <summary>Loads a model directory (<see cref="ModelFiles"/>).</summary>
    public static Detector Load(string modelDirectory, DetectorOptions? options = null)
    {
        var loaded = ModelFiles.Load(modelDirectory);
        return new Detector(loaded.Model, loaded.Info.ClassNames, options);
    }

    public FastRcnnModel Model { get; }
    public IReadOnlyList<string> ClassNames { get; }
    public DetectorOptions Options { get; }

    /// <summary>Detects objects in an image file (JPEG, PNG, BMP); <paramref name="proposals"/> (R,4) in its pixels, or null for selective search.</summary>
    public DetectionResult Detect(string imagePath, Tensor? proposals = null) => Detect(ImageIO.Read(imagePath), proposals);

    /// <summary>Detects objects in a decoded image.</summary>
    public DetectionResult Detect(RgbImage image, Tensor? proposals = null)
    {
        using var scope = NewDisposeScope();
        var clock = Stopwatch.StartNew();
        if (proposals is null)
            proposals = _selectiveSearch.Run(image.Data, image.Width, image.Height).ToTensor();
        var proposalTime = clock.Elapsed;
        var result = Detect(image.ToTensor(), proposals);
        return result with { Times = result.Times with { Proposals = proposalTime } };
    }

    /// <summary>Detects objects in an RGB image tensor (3,H,W), uint8 or float 0–255, with proposals (R,4) in its pixels.</summary>
    public DetectionResult Detect(Tensor rgb, Tensor proposals)
    {
        if (rgb.dim() != 3 || rgb.shape[0] != 3)
            throw new ArgumentException($"image must be (3,H,W) RGB, got [{string.Join(", ", rgb.shape)}]", nameof(rgb));
        if (proposals.dim() != 2 || proposals.shape[1] != 4)
            throw new ArgumentException($"proposals must be (R,4), got [{string.Join(", ", proposals.shape)}]", nameof(proposals));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        int height = (int)rgb.shape[1], width = (int)rgb.shape[2];
        var boxes = BoxClip(proposals.to_type(ScalarType.Float32), height, width);
        var clock = Stopwatch.StartNew();
        TimeSpan Lap() { var t = clock.Elapsed; clock.Restart(); return t; }

        using var pyramid = new ImagePyramid(Options.EffectiveScales
            .Select(s => ImageScaling.Scale(rgb, s, Options.MaxSize)).ToArray());
        using var batch = Batching.Pad(pyramid.Levels.Select(l => Model.Pixels.Apply(l.Image)).ToArray());
        var features = Model.Features(batch.Images);
        var conv = Lap();

        var (rois, _) = pyramid.ProjectRois(boxes, Options.CanonicalRoiSize);
        var (scored, inverse) = Options.Deduplicate ? RoiDeduplication.Run(rois, Model.Spec.SpatialScale) : (rois, null);
        var pooled = Model.PoolRois(features, scored);
        var pooling = Lap();
        var fc6 = Model.BoxHead.Fc6(pooled);
        var fc6Time = Lap();
        var fc7 = Model.BoxHead.Fc7(fc6);
        var fc7Time = Lap();
        var (logits, deltas) = Model.Predictor.forward(fc7);
        if (inverse is not null) { logits = logits.index_select(0, inverse); deltas = deltas.index_select(0, inverse); }
        var probabilities = nn.functional.softmax(logits, 1);
        var decoded = Model.Options.BoxCoder.DecodeClipped(deltas, boxes, height, width);
        var outputs = Lap();

        using var detections = DetectionPostprocessor.Run(probabilities, decoded, Options.Postprocess);
        var objects = ToObjects(detections);
        var nms = Lap();
        return new DetectionResult(objects, (int)boxes.shape[0], new StageTimes(default, conv, pooling, fc6Time, fc7Time, outputs, nms));
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

    private static Tensor BoxClip(Tensor boxes, int height, int width) => Ops.BoxOps.Clip(boxes, height, width);

    /// <summary>Disposes the model (the detector owns it).</summary>
    public void Dispose() => Model.Dispose();
}
