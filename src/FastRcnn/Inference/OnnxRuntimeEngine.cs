using System.Text.Json;
using FastRcnn.Data.Transforms;
using FastRcnn.Export;
using FastRcnn.Modeling;
using FastRcnn.Ops;
using Microsoft.ML.OnnxRuntime;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;
using static TorchSharp.torch;

namespace FastRcnn.Inference;

/// <summary>
/// Runs a Fast R-CNN or Faster R-CNN (one test scale) model's network in ONNX Runtime (<see cref="InferenceEngine.OnnxRuntime"/>): the model is
/// exported in memory (<see cref="OnnxExporter"/>), or an exported file is loaded, and scored like
/// <see cref="TwoStageModel.Predict(TestImage, Tensor?, PredictOptions?, StageClock?)"/> does: proposals clipped,
/// projected to their pyramid level, deduplicated, scored, decoded against the proposals in the original pixels
/// (<see cref="BoxCoder.DecodeClipped"/>). <see cref="OnnxArrangement.Split"/> runs the trunk and the head as two
/// sessions with this library's RoI pooling between them; <see cref="OnnxArrangement.Whole"/> one session with
/// ONNX Runtime's <c>MaxRoiPool</c>. Tensors reach ONNX Runtime without a copy (their memory is pinned native memory).
/// </summary>
internal sealed class OnnxRuntimeEngine : IDisposable
{
    private readonly InferenceSession? _whole, _trunk, _head;
    private readonly int _pooledSize;
    private readonly double _spatialScale;
    private readonly BoxCoder _coder;
    private readonly int _classes;
    private readonly bool _computesProposals;

    public OnnxRuntimeEngine(TwoStageModel model, IReadOnlyList<string> classNames, DetectorOptions options)
    {
        if (model.Architecture is not (DetectorArchitecture.FastRcnn or DetectorArchitecture.FasterRcnn) || model.SvmStage is not null)
            throw new NotSupportedException($"the ONNX Runtime engine runs Fast R-CNN and Faster R-CNN models without an SVM stage; this one is {model.Architecture.Name()}");
        if (model.ComputesProposals && options.EffectiveScales.Count > 1)
            throw new NotSupportedException("the ONNX Runtime engine runs a Faster R-CNN model at one test scale; give one --scale");
        _computesProposals = model.ComputesProposals;
        _pooledSize = model.Spec.PooledSize;
        _spatialScale = model.Spec.SpatialScale;
        _coder = model.Options.BoxCoder;
        _classes = model.NumClasses + 1;
        using var session = new SessionOptions();
        if (options.OnnxThreads > 0) session.IntraOpNumThreads = options.OnnxThreads;
        // No spinning: between runs the CPU belongs to libtorch's RoI pooling and box decoding, and with two sessions
        // (split) one session's spinning workers would take the cores from the other's.
        session.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        if (options.OnnxModelPath is string path)
        {
            _whole = new InferenceSession(path, session);
            CheckClasses(path, _whole, classNames);
            Arrangement = OnnxArrangement.Whole;
        }
        else if (options.OnnxArrangement == OnnxArrangement.Whole)
        {
            _whole = new InferenceSession(OnnxExporter.WholeBytes(model, classNames, options), session);
            Arrangement = OnnxArrangement.Whole;
        }
        else
        {
            var (trunk, head) = OnnxExporter.SplitBytes(model, classNames, options);
            _trunk = new InferenceSession(trunk, session);
            _head = new InferenceSession(head, session);
            Arrangement = OnnxArrangement.Split;
        }
        // The in-memory export (the model's weights, twice for a moment) is garbage now: give its pages back.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
    }

    /// <summary>How the network runs.</summary>
    public OnnxArrangement Arrangement { get; }

    private static void CheckClasses(string path, InferenceSession session, IReadOnlyList<string> classNames)
    {
        var map = session.ModelMetadata.CustomMetadataMap;
        if (!map.TryGetValue(OnnxMetadata.Classes, out var json))
            throw new InvalidDataException($"{path}: no {OnnxMetadata.Classes} in the model's metadata (not exported by fastrcnn export)");
        var classes = JsonSerializer.Deserialize<string[]>(json) ?? [];
        if (!classes.SequenceEqual(classNames))
            throw new InvalidDataException($"{path}: its classes ({string.Join(", ", classes)}) differ from the model's ({string.Join(", ", classNames)})");
    }

    /// <summary>
    /// Scores and boxes of one image's proposals (R,4) in its original pixels (Fast R-CNN), or of the proposals the
    /// graph's RPN computes (Faster R-CNN, <paramref name="proposals"/> null), as <see cref="RoiPredictions"/>.
    /// </summary>
    public RoiPredictions Predict(TestImage image, Tensor? proposals, PredictOptions options, StageClock clock)
    {
        using var scope = NewDisposeScope();
        var factors = image.Levels.Select(l => l.Factor).ToArray();
        var images = image.Images.to_type(ScalarType.Float32).contiguous();
        (string, Tensor)[] inputs = [("image", images)];
        if (_computesProposals)
        {
            var level = image.Levels[0];
            inputs = [.. inputs, ("im_info", tensor(new[] { (float)level.Height, (float)level.Width, (float)level.Factor }))];
        }
        else if (proposals is null)
        {
            throw new ArgumentException("a Fast R-CNN model needs proposals (R,4)", nameof(proposals));
        }
        Tensor probabilities, deltas, boxes;
        if (_whole is not null)
        {
            if (_computesProposals)
            {
                var outputs = Run(_whole, inputs, ["scores", "deltas", "proposals"]);
                (probabilities, deltas) = (outputs[0], outputs[1]);
                boxes = Original(outputs[2], factors[0], image);
            }
            else
            {
                boxes = BoxOps.Clip(proposals!.to_type(ScalarType.Float32), image.Height, image.Width);
                var rois = ImagePyramid.Project(boxes, factors, options.CanonicalRoiSize).Rois;
                var (scored, inverse) = options.Deduplicate ? RoiDeduplication.Run(rois, _spatialScale) : (rois, null);
                if (scored.shape[0] == 0) (probabilities, deltas) = (zeros(0, _classes), zeros(0, 4 * _classes));
                else
                {
                    var outputs = Run(_whole, [.. inputs, ("rois", scored.contiguous())], ["scores", "deltas"]);
                    (probabilities, deltas) = (outputs[0], outputs[1]);
                }
                if (inverse is not null) { probabilities = probabilities.index_select(0, inverse); deltas = deltas.index_select(0, inverse); }
            }
            clock.Lap(DetectionStage.Conv);   // one session: the whole network is charged to conv
        }
        else
        {
            var trunk = Run(_trunk!, inputs, _computesProposals ? ["features", "proposals"] : ["features"]);
            var features = trunk[0];
            boxes = _computesProposals ? Original(trunk[1], factors[0], image) : BoxOps.Clip(proposals!.to_type(ScalarType.Float32), image.Height, image.Width);
            clock.Lap(DetectionStage.Conv);   // the trunk session (with the RPN and proposal layer for Faster R-CNN)
            var rois = ImagePyramid.Project(boxes, factors, options.CanonicalRoiSize).Rois;
            var (scored, inverse) = options.Deduplicate ? RoiDeduplication.Run(rois, _spatialScale) : (rois, null);
            if (scored.shape[0] == 0)
            {
                (probabilities, deltas) = (zeros(0, _classes), zeros(0, 4 * _classes));
            }
            else
            {
                var pooled = RoiPool.Pool(features, scored, _pooledSize, _pooledSize, _spatialScale, withArgmax: false).Output.contiguous();
                clock.Lap(DetectionStage.RoiPooling);
                var outputs = Run(_head!, [("pooled", pooled)], ["scores", "deltas"]);
                (probabilities, deltas) = (outputs[0], outputs[1]);
                clock.Lap(DetectionStage.Fc6);   // the head session: fc6, fc7, cls_score, bbox_pred, softmax
            }
            if (inverse is not null) { probabilities = probabilities.index_select(0, inverse); deltas = deltas.index_select(0, inverse); }
        }
        var decoded = _coder.DecodeClipped(deltas, boxes, image.Height, image.Width);
        clock.Lap(DetectionStage.Outputs);
        return new RoiPredictions(boxes.MoveToOuterDisposeScope(), probabilities.MoveToOuterDisposeScope(), decoded.MoveToOuterDisposeScope());
    }

    /// <summary>Proposals (P,4) of the scaled image mapped back to the original image and clipped to it, as the library maps its RPN's.</summary>
    private static Tensor Original(Tensor scaled, double factor, TestImage image) =>
        BoxOps.Clip(ImageScaling.ScaleBoxes(scaled, 1.0 / factor), image.Height, image.Width);

    /// <summary>
    /// Runs <paramref name="session"/> on contiguous float32 CPU tensors (passed by pointer, no copy) and returns the
    /// named outputs as new tensors.
    /// </summary>
    internal static unsafe Tensor[] Run(InferenceSession session, (string Name, Tensor Value)[] inputs, string[] outputNames)
    {
        var values = new List<OrtValue>(inputs.Length);
        try
        {
            foreach (var (_, t) in inputs)
            {
                if (t.dtype != ScalarType.Float32 || !t.is_contiguous() || t.device_type != TorchSharp.DeviceType.CPU)
                    throw new ArgumentException("ONNX Runtime inputs must be contiguous float32 CPU tensors");
                values.Add(OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Float, t.shape,
                    (IntPtr)TensorMemory.Pointer<float>(t), t.numel() * sizeof(float)));
            }
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, inputs.Select(i => i.Name).ToArray(), values, outputNames);
            var result = new Tensor[outputNames.Length];
            int k = 0;
            foreach (var output in outputs)
            {
                var shape = output.GetTensorTypeAndShape().Shape;
                var tensor = empty(shape, ScalarType.Float32);
                if (tensor.numel() > 0) output.GetTensorDataAsSpan<float>().CopyTo(TensorMemory.Span<float>(tensor));
                result[k++] = tensor;
            }
            return result;
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }

    public void Dispose()
    {
        _whole?.Dispose();
        _trunk?.Dispose();
        _head?.Dispose();
    }
}
