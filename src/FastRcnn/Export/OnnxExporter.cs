using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FastRcnn.Data.Transforms;
using FastRcnn.Inference;
using FastRcnn.IO;
using FastRcnn.Modeling;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FastRcnn.Export;

/// <summary>
/// Writes a trained Fast R-CNN model as an ONNX model (docs/deploy.md), from C# without a protobuf runtime
/// (<see cref="ProtoWriter"/>). The graph: <c>image</c> (N,3,H,W) float32, preprocessed (the metadata's pixel
/// preprocessing), N the pyramid levels (1 for single-scale testing), H and W dynamic; <c>rois</c> (R,5) float32 rows
/// (level, x1, y1, x2, y2) in the scaled image's pixels, R dynamic → trunk (Conv, Relu, MaxPool, LRN) →
/// <c>MaxRoiPool</c> (Caffe's arithmetic) → fc6, fc7 (Gemm, two Gemms when factored by truncated SVD) →
/// <c>scores</c> (R,K+1) softmax probabilities, <c>boxes</c> (R,4(K+1)) class-specific boxes decoded against the RoIs
/// in the scaled image's pixels (not clipped), <c>deltas</c> (R,4(K+1)) the raw regression outputs. The test settings
/// and class names go into <c>metadata_props</c> (<see cref="OnnxMetadata"/>).
/// </summary>
public static class OnnxExporter
{
    /// <summary>The lowest operator set the graph needs (MaxRoiPool, LRN, Gemm without C, Slice with inputs).</summary>
    public const int MinOpset = 11;

    /// <summary>
    /// Exports <paramref name="model"/> to <paramref name="path"/> (atomically); the weights go to
    /// <c><paramref name="path"/>.data</c> when they are external.
    /// </summary>
    /// <exception cref="NotSupportedException">The model is not a Fast R-CNN model.</exception>
    public static OnnxExportResult Export(TwoStageModel model, IReadOnlyList<string> classNames, string path, OnnxExportOptions? options = null)
    {
        options ??= new OnnxExportOptions();
        var graph = Whole(model, classNames, options);
        var metadata = Metadata(model, classNames, options.Test ?? new DetectorOptions());
        bool external = options.ExternalData switch
        {
            OnnxExternalData.Always => true,
            OnnxExternalData.Never => false,
            _ => graph.WeightBytes > options.ExternalDataThreshold,
        };
        string dataPath = path + ".data";
        string? written = null;
        if (external)
        {
            string location = Path.GetFileName(dataPath);
            AtomicFile.Write(dataPath, data => AtomicFile.Write(path, stream => graph.WriteModel(stream, metadata, FastRcnnInfo.Version, (location, data), Doc)));
            written = dataPath;
        }
        else
        {
            AtomicFile.Write(path, stream => graph.WriteModel(stream, metadata, FastRcnnInfo.Version, docString: Doc));
            if (File.Exists(dataPath)) File.Delete(dataPath);   // a stale data file of an earlier export
        }
        return new OnnxExportResult(path, new FileInfo(path).Length, written, written is null ? 0 : new FileInfo(written).Length);
    }

    private const string Doc = "Fast R-CNN exported by FastRcnn: image (N,3,H,W) preprocessed + rois (R,5) (level, x1, y1, x2, y2) in scaled pixels → "
        + "scores (R,K+1) softmax, boxes (R,4(K+1)) decoded in scaled pixels, not clipped, deltas (R,4(K+1)). See metadata_props fastrcnn.*.";

    /// <summary>The whole graph's model bytes (weights inline), for an in-process session.</summary>
    internal static byte[] WholeBytes(TwoStageModel model, IReadOnlyList<string> classNames, DetectorOptions test) =>
        Whole(model, classNames, new OnnxExportOptions(Test: test)).ToBytes(Metadata(model, classNames, test), FastRcnnInfo.Version);

    /// <summary>
    /// The two halves the split arrangement runs (<see cref="OnnxArrangement.Split"/>): the trunk, <c>image</c> →
    /// <c>features</c> (N,C,h,w); the head, <c>pooled</c> (R,C,PH,PW) → <c>scores</c>, <c>deltas</c>.
    /// </summary>
    internal static (byte[] Trunk, byte[] Head) SplitBytes(TwoStageModel model, IReadOnlyList<string> classNames, DetectorOptions test, int opset = 13)
    {
        CheckModel(model, classNames);
        var weights = Weights(model);
        var metadata = Metadata(model, classNames, test);
        var trunk = new OnnxGraph("fastrcnn_trunk", opset);
        trunk.Input("image", OnnxType.Float, "levels", 3L, "height", "width");
        string features = Trunk(trunk, model, weights);
        trunk.Node("Identity", [features], output: "features");
        trunk.Output("features", OnnxType.Float, "levels", (long)model.Spec.OutputChannels, "feature_height", "feature_width");

        var head = new OnnxGraph("fastrcnn_head", opset);
        int p = model.Spec.PooledSize;
        head.Input("pooled", OnnxType.Float, "rois", (long)model.Spec.OutputChannels, (long)p, (long)p);
        var (scores, deltas) = Head(head, model, weights, "pooled");
        head.Node("Identity", [scores], output: "scores");
        head.Node("Identity", [deltas], output: "deltas");
        int k1 = model.NumClasses + 1;
        head.Output("scores", OnnxType.Float, "rois", (long)k1);
        head.Output("deltas", OnnxType.Float, "rois", 4L * k1);
        foreach (var (_, tensor) in weights) tensor.Dispose();
        return (trunk.ToBytes(metadata, FastRcnnInfo.Version), head.ToBytes(metadata, FastRcnnInfo.Version));
    }

    /// <summary>A graph of ONNX <c>MaxRoiPool</c> alone: <c>features</c> (N,C,h,w), <c>rois</c> (R,5) → <c>pooled</c> (R,C,PH,PW).</summary>
    internal static byte[] MaxRoiPoolBytes(int channels, int pooledHeight, int pooledWidth, double spatialScale, int opset = 13)
    {
        var g = new OnnxGraph("max_roi_pool", opset);
        g.Input("features", OnnxType.Float, "levels", (long)channels, "feature_height", "feature_width");
        g.Input("rois", OnnxType.Float, "rois", 5L);
        g.Node("MaxRoiPool", ["features", "rois"], new Dictionary<string, object>
        {
            ["pooled_shape"] = new long[] { pooledHeight, pooledWidth },
            ["spatial_scale"] = (float)spatialScale,
        }, output: "pooled");
        g.Output("pooled", OnnxType.Float, "rois", (long)channels, (long)pooledHeight, (long)pooledWidth);
        return g.ToBytes([], FastRcnnInfo.Version);
    }

    private static void CheckModel(TwoStageModel model, IReadOnlyList<string> classNames)
    {
        if (model.Architecture != DetectorArchitecture.FastRcnn)
            throw new NotSupportedException($"ONNX export covers Fast R-CNN models; this one is {model.Architecture.Name()} (its RPN and proposal layer are not exported)");
        if (classNames.Count != model.NumClasses)
            throw new ArgumentException($"the model has {model.NumClasses} object classes but {classNames.Count} class names were given");
    }

    private static OnnxGraph Whole(TwoStageModel model, IReadOnlyList<string> classNames, OnnxExportOptions options)
    {
        CheckModel(model, classNames);
        if (options.Opset < MinOpset) throw new ArgumentException($"opset {options.Opset}: the graph needs opset {MinOpset} or later");
        var weights = Weights(model);
        var g = new OnnxGraph("fastrcnn", options.Opset);
        int k1 = model.NumClasses + 1;
        g.Input("image", OnnxType.Float, "levels", 3L, "height", "width");
        g.Input("rois", OnnxType.Float, "rois", 5L);
        string features = Trunk(g, model, weights);
        int p = model.Spec.PooledSize;
        string pooled = g.Node("MaxRoiPool", [features, "rois"], new Dictionary<string, object>
        {
            ["pooled_shape"] = new long[] { p, p },
            ["spatial_scale"] = (float)model.Spec.SpatialScale,
        });
        var (scores, deltas) = Head(g, model, weights, pooled);
        g.Node("Identity", [scores], output: "scores");
        g.Node("Identity", [deltas], output: "deltas");
        Decode(g, model.Options.BoxCoder, "rois", "deltas", k1, "boxes");
        g.Output("scores", OnnxType.Float, "rois", (long)k1);
        g.Output("boxes", OnnxType.Float, "rois", 4L * k1);
        g.Output("deltas", OnnxType.Float, "rois", 4L * k1);
        foreach (var (_, tensor) in weights) tensor.Dispose();
        return g;
    }

    /// <summary>The model's state dict as contiguous float32 CPU copies.</summary>
    private static Dictionary<string, Tensor> Weights(TwoStageModel model)
    {
        using var noGrad = no_grad();
        return model.state_dict().ToDictionary(e => e.Key, e => e.Value.detach().to_type(ScalarType.Float32).cpu().contiguous().clone());
    }

    private static string Weight(OnnxGraph g, Dictionary<string, Tensor> weights, string name)
    {
        if (!weights.TryGetValue(name, out var t)) throw new InvalidOperationException($"the model has no parameter {name}");
        return g.Weight(name, t.shape, t.data<float>().ToArray());
    }

    /// <summary>The trunk's layers on <c>image</c>; returns the features' value name.</summary>
    private static string Trunk(OnnxGraph g, TwoStageModel model, Dictionary<string, Tensor> weights)
    {
        string x = "image";
        int i = 0;
        foreach (var module in model.Trunk.children())
        {
            string prefix = $"features.{i++}";
            x = module switch
            {
                Conv2d conv => g.Node("Conv", conv.bias is null ? [x, Weight(g, weights, prefix + ".weight")]
                    : [x, Weight(g, weights, prefix + ".weight"), Weight(g, weights, prefix + ".bias")], new Dictionary<string, object>
                {
                    ["kernel_shape"] = conv.weight!.shape[2..],
                    ["strides"] = Pair(conv.stride),
                    ["pads"] = Pair(conv.padding ?? [0, 0]).Concat(Pair(conv.padding ?? [0, 0])).ToArray(),
                    ["dilations"] = Pair(conv.dilation ?? [1, 1]),
                    ["group"] = conv.groups,
                }),
                ReLU => g.Node("Relu", [x]),
                MaxPool2d pool => g.Node("MaxPool", [x], new Dictionary<string, object>
                {
                    ["kernel_shape"] = Pair(pool.kernel_size),
                    ["strides"] = Pair(pool.stride ?? pool.kernel_size),
                    ["pads"] = Pair(pool.padding ?? [0, 0]).Concat(Pair(pool.padding ?? [0, 0])).ToArray(),
                    ["ceil_mode"] = pool.ceil_mode ? 1L : 0L,
                }),
                LocalResponseNorm lrn => g.Node("LRN", [x], new Dictionary<string, object>
                {
                    ["size"] = lrn.size, ["alpha"] = (float)lrn.alpha, ["beta"] = (float)lrn.beta, ["bias"] = (float)lrn.k,
                }),
                _ => throw new NotSupportedException($"ONNX export: trunk layer {prefix} ({module.GetType().Name}) is not supported"),
            };
        }
        return x;
    }

    private static long[] Pair(long[] values) => values.Length == 1 ? [values[0], values[0]] : values;

    /// <summary>Flatten → fc6 → ReLU → fc7 → ReLU → cls_score → Softmax, bbox_pred; returns (scores, deltas).</summary>
    private static (string Scores, string Deltas) Head(OnnxGraph g, TwoStageModel model, Dictionary<string, Tensor> weights, string pooled)
    {
        string x = g.Node("Flatten", [pooled], new Dictionary<string, object> { ["axis"] = 1L });
        x = g.Node("Relu", [Linear(g, weights, "box_head.fc6", x)]);
        x = g.Node("Relu", [Linear(g, weights, "box_head.fc7", x)]);
        string logits = Gemm(g, x, Weight(g, weights, "predictor.cls_score.weight"), Weight(g, weights, "predictor.cls_score.bias"));
        string scores = g.Node("Softmax", [logits], new Dictionary<string, object> { ["axis"] = 1L });
        string deltas = Gemm(g, x, Weight(g, weights, "predictor.bbox_pred.weight"), Weight(g, weights, "predictor.bbox_pred.bias"));
        return (scores, deltas);
    }

    /// <summary>A dense layer (<c>name.weight</c>, <c>name.bias</c>) or a factored one (<c>name.0.weight</c>, then <c>name.1.weight</c>, <c>name.1.bias</c>).</summary>
    private static string Linear(OnnxGraph g, Dictionary<string, Tensor> weights, string name, string x) =>
        weights.ContainsKey(name + ".weight")
            ? Gemm(g, x, Weight(g, weights, name + ".weight"), Weight(g, weights, name + ".bias"))
            : Gemm(g, Gemm(g, x, Weight(g, weights, name + ".0.weight"), null), Weight(g, weights, name + ".1.weight"), Weight(g, weights, name + ".1.bias"));

    private static string Gemm(OnnxGraph g, string x, string weight, string? bias) =>
        g.Node("Gemm", bias is null ? [x, weight] : [x, weight, bias], new Dictionary<string, object> { ["transB"] = 1L });

    /// <summary>
    /// <see cref="Ops.BoxCoder.Decode"/> in ONNX operators, in its float32 order: RoIs (R,5) and deltas (R,4k) → boxes (R,4k),
    /// (cx − w/2, cy − h/2, cx + w/2, cy + h/2) with dw, dh clamped at the coder's clamp_log; not clipped.
    /// </summary>
    private static void Decode(OnnxGraph g, Ops.BoxCoder coder, string rois, string deltas, int k, string output)
    {
        string Col(string input, int from, int to, int axis) => g.Node("Slice", [input, g.Ints(from), g.Ints(to), g.Ints(axis)]);
        string x1 = Col(rois, 1, 2, 1), y1 = Col(rois, 2, 3, 1), x2 = Col(rois, 3, 4, 1), y2 = Col(rois, 4, 5, 1);   // (R,1)
        string half = g.Scalar(0.5f);
        string pw = g.Node("Sub", [x2, x1]), ph = g.Node("Sub", [y2, y1]);
        string px = g.Node("Add", [x1, g.Node("Mul", [half, pw])]), py = g.Node("Add", [y1, g.Node("Mul", [half, ph])]);
        string d = g.Node("Reshape", [deltas, g.Ints(-1, k, 4)]);
        string Part(int c, double weight)
        {
            string column = g.Node("Reshape", [Col(d, c, c + 1, 2), g.Ints(-1, k)]);
            return g.Node("Div", [column, g.Scalar((float)weight)]);
        }
        string clamp = g.Scalar((float)coder.ClampLog);
        string dx = Part(0, coder.WeightX), dy = Part(1, coder.WeightY);
        string dw = g.Node("Min", [Part(2, coder.WeightW), clamp]), dh = g.Node("Min", [Part(3, coder.WeightH), clamp]);
        string cx = g.Node("Add", [g.Node("Mul", [dx, pw]), px]), cy = g.Node("Add", [g.Node("Mul", [dy, ph]), py]);
        string halfW = g.Node("Mul", [g.Node("Mul", [g.Node("Exp", [dw]), pw]), half]);
        string halfH = g.Node("Mul", [g.Node("Mul", [g.Node("Exp", [dh]), ph]), half]);
        string Corner(string op, string c, string h) => g.Node("Unsqueeze", [g.Node(op, [c, h]), g.Ints(2)]);
        string stacked = g.Node("Concat", [Corner("Sub", cx, halfW), Corner("Sub", cy, halfH), Corner("Add", cx, halfW), Corner("Add", cy, halfH)],
            new Dictionary<string, object> { ["axis"] = 2L });
        g.Node("Reshape", [stacked, g.Ints(-1, 4L * k)], output: output);
    }

    /// <summary>The <c>metadata_props</c> of <see cref="OnnxMetadata"/>.</summary>
    internal static List<KeyValuePair<string, string>> Metadata(TwoStageModel model, IReadOnlyList<string> classNames, DetectorOptions test)
    {
        static string Json(JsonNode node) => node.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
        static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        var pixels = model.Pixels;
        var post = test.Postprocess ?? new PostprocessOptions();
        var coder = model.Options.BoxCoder;
        var ranks = model.BoxHead.Ranks;
        return
        [
            new(OnnxMetadata.Format, OnnxMetadata.FormatVersion),
            new(OnnxMetadata.Architecture, model.Architecture.Name()),
            new(OnnxMetadata.Backbone, model.Spec.Name),
            new(OnnxMetadata.Classes, Json(new JsonArray(classNames.Select(c => (JsonNode)JsonValue.Create(c)!).ToArray()))),
            new(OnnxMetadata.Pixels, Json(new JsonObject
            {
                ["name"] = pixels.Name,
                ["order"] = pixels.Order == ChannelOrder.Bgr ? "bgr" : "rgb",
                ["pixel_scale"] = pixels.PixelScale,
                ["mean"] = new JsonArray(pixels.Mean.C0, pixels.Mean.C1, pixels.Mean.C2),
                ["std"] = new JsonArray(pixels.Std.C0, pixels.Std.C1, pixels.Std.C2),
            })),
            new(OnnxMetadata.TestScales, Json(new JsonArray(test.EffectiveScales.Select(s => (JsonNode)JsonValue.Create(s)).ToArray()))),
            new(OnnxMetadata.MaxSize, test.MaxSize.ToString(CultureInfo.InvariantCulture)),
            new(OnnxMetadata.CanonicalRoiSize, Num(test.CanonicalRoiSize)),
            new(OnnxMetadata.Resize, "bilinear, align_corners=false; factor = short/min(H,W), lowered so round(factor·max(H,W)) <= max_size; size = round-half-even(side·factor)"),
            new(OnnxMetadata.PooledSize, model.Spec.PooledSize.ToString(CultureInfo.InvariantCulture)),
            new(OnnxMetadata.SpatialScale, Num(model.Spec.SpatialScale)),
            new(OnnxMetadata.BoxCoder, Json(new JsonObject
            {
                ["weights"] = new JsonArray(coder.WeightX, coder.WeightY, coder.WeightW, coder.WeightH),
                ["clamp_log"] = coder.ClampLog,
            })),
            new(OnnxMetadata.Postprocess, Json(new JsonObject
            {
                ["score_threshold"] = post.ScoreThreshold,
                ["nms_threshold"] = post.NmsThreshold,
                ["max_detections"] = post.MaxDetections,
                ["min_box_size"] = post.MinBoxSize,
            })),
            new(OnnxMetadata.SvdRanks, Json(new JsonObject { ["fc6"] = ranks.Fc6, ["fc7"] = ranks.Fc7 })),
            new(OnnxMetadata.Graph, "inputs: image (levels,3,H,W) float32 preprocessed, rois (R,5) float32 (level, x1, y1, x2, y2) in scaled-image pixels; "
                + "outputs: scores (R,K+1) softmax, boxes (R,4(K+1)) decoded in scaled-image pixels (divide by the level's factor, clip to the image), deltas (R,4(K+1)) raw"),
        ];
    }
}
