using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FastRcnn.Data.Transforms;
using FastRcnn.Inference;
using FastRcnn.IO;
using FastRcnn.Modeling;
using FastRcnn.Ops;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FastRcnn.Export;

/// <summary>
/// Writes a trained Fast R-CNN or Faster R-CNN model as an ONNX model (docs/deploy.md), from C# without a protobuf
/// runtime (<see cref="ProtoWriter"/>). The graph: <c>image</c> (N,3,H,W) float32, preprocessed (the metadata's pixel
/// preprocessing), N the pyramid levels (1 for single-scale testing), H and W dynamic; Fast R-CNN: <c>rois</c> (R,5)
/// float32 rows (level, x1, y1, x2, y2) in the scaled image's pixels, R dynamic; Faster R-CNN: <c>im_info</c> (3)
/// = (height, width, scale factor) of the one level, the RPN and proposal layer (TopK, NonMaxSuppression) giving
/// the RoIs and the output <c>proposals</c> (R,4) → trunk (Conv, Relu, MaxPool, LRN) →
/// <c>MaxRoiPool</c> (Caffe's arithmetic) → fc6, fc7 (Gemm, two Gemms when factored by truncated SVD) →
/// <c>scores</c> (R,K+1) softmax probabilities, <c>boxes</c> (R,4(K+1)) class-specific boxes decoded against the RoIs
/// in the scaled image's pixels (not clipped), <c>deltas</c> (R,4(K+1)) the raw regression outputs. The test settings
/// and class names go into <c>metadata_props</c> (<see cref="OnnxMetadata"/>).
/// </summary>
public static class OnnxExporter
{
    /// <summary>The lowest operator set the graph is written for (Squeeze and Unsqueeze with axes as inputs).</summary>
    public const int MinOpset = 13;

    /// <summary>
    /// Exports <paramref name="model"/> to <paramref name="path"/> (atomically); the weights go to
    /// <c><paramref name="path"/>.data</c> when they are external.
    /// </summary>
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

    private const string Doc = "A detector exported by FastRcnn: image (N,3,H,W) preprocessed + rois (R,5) (level, x1, y1, x2, y2) in scaled pixels "
        + "(Faster R-CNN: im_info (3) instead, proposals (R,4) out) → scores (R,K+1) softmax, boxes (R,4(K+1)) decoded in scaled pixels, not clipped, "
        + "deltas (R,4(K+1)). See metadata_props fastrcnn.*.";

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
        if (model.Rpn is { } rpn)
        {
            trunk.Input("im_info", OnnxType.Float, 3L);
            Proposals(trunk, rpn, weights, features, "im_info", "proposals");
            trunk.Output("proposals", OnnxType.Float, "rois", 4L);
        }

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
        if (model.Architecture is not (DetectorArchitecture.FastRcnn or DetectorArchitecture.FasterRcnn))
            throw new NotSupportedException($"ONNX export covers Fast R-CNN and Faster R-CNN models; this one is {model.Architecture.Name()}");
        if (model.SvmStage is not null)
            throw new NotSupportedException("ONNX export does not cover a model with an SVM stage (its scores come from the SVMs, not the softmax)");
        if (model.Architecture == DetectorArchitecture.FasterRcnn && model.Rpn is null)
            throw new NotSupportedException("a Faster R-CNN model without a region proposal network cannot be exported");
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
        string features = Trunk(g, model, weights);
        string rois;
        if (model.Rpn is { } rpn)
        {
            g.Input("im_info", OnnxType.Float, 3L);
            string proposals = Proposals(g, rpn, weights, features, "im_info", "proposals");
            g.Output("proposals", OnnxType.Float, "rois", 4L);
            string level = g.Node("ConstantOfShape", [g.Node("Concat", [g.Node("Slice", [g.Node("Shape", [proposals]), g.Ints(0), g.Ints(1), g.Ints(0)]), g.Ints(1)],
                new Dictionary<string, object> { ["axis"] = 0L })]);
            rois = g.Node("Concat", [level, proposals], new Dictionary<string, object> { ["axis"] = 1L });
        }
        else
        {
            g.Input("rois", OnnxType.Float, "rois", 5L);
            rois = "rois";
        }
        int p = model.Spec.PooledSize;
        string pooled = g.Node("MaxRoiPool", [features, rois], new Dictionary<string, object>
        {
            ["pooled_shape"] = new long[] { p, p },
            ["spatial_scale"] = (float)model.Spec.SpatialScale,
        });
        var (scores, deltas) = Head(g, model, weights, pooled);
        g.Node("Identity", [scores], output: "scores");
        g.Node("Identity", [deltas], output: "deltas");
        Decode(g, model.Options.BoxCoder, g.Node("Slice", [rois, g.Ints(1), g.Ints(5), g.Ints(1)]), "deltas", k1, "boxes");
        g.Output("scores", OnnxType.Float, "rois", (long)k1);
        g.Output("boxes", OnnxType.Float, "rois", 4L * k1);
        g.Output("deltas", OnnxType.Float, "rois", 4L * k1);
        foreach (var (_, tensor) in weights) tensor.Dispose();
        return g;
    }

    /// <summary>
    /// Faster R-CNN's proposals for one image (<see cref="Modeling.Rpn.ProposalLayer"/>): the RPN head on the features,
    /// anchors of the feature map's size, decoded (weights 1), clipped to <c>im_info</c>'s height and width, boxes
    /// smaller than min size × <c>im_info</c>'s scale given −∞ objectness, <c>TopK</c> (pre-NMS top N),
    /// <c>NonMaxSuppression</c> (post-NMS top N) → (P,4) in the scaled image's pixels, best first.
    /// </summary>
    private static string Proposals(OnnxGraph g, Modeling.Rpn.RegionProposalNetwork rpn, Dictionary<string, Tensor> weights, string features, string imInfo, string output)
    {
        var test = rpn.TestProposalOptions ?? rpn.Options.ProposalOptions(training: false);
        var conv = new Dictionary<string, object> { ["kernel_shape"] = new long[] { 3, 3 }, ["pads"] = new long[] { 1, 1, 1, 1 } };
        string hidden = g.Node("Relu", [g.Node("Conv", [features, Weight(g, weights, "rpn.head.conv.weight"), Weight(g, weights, "rpn.head.conv.bias")], conv)]);
        string logits4 = g.Node("Conv", [hidden, Weight(g, weights, "rpn.head.cls_logits.weight"), Weight(g, weights, "rpn.head.cls_logits.bias")]);
        string deltas4 = g.Node("Conv", [hidden, Weight(g, weights, "rpn.head.bbox_pred.weight"), Weight(g, weights, "rpn.head.bbox_pred.bias")]);
        int a = rpn.Anchors.AnchorsPerCell;
        // (1,A,h,w) → (h·w·A) and (1,4A,h,w) → (h·w·A, 4), in the library's (h, w, A) order.
        string logits = g.Node("Reshape", [g.Node("Transpose", [logits4], new Dictionary<string, object> { ["perm"] = new long[] { 0, 2, 3, 1 } }), g.Ints(-1)]);
        string deltas = g.Node("Reshape", [g.Node("Transpose", [g.Node("Reshape", [deltas4, g.Ints(0, a, 4, -1)])],
            new Dictionary<string, object> { ["perm"] = new long[] { 0, 3, 1, 2 } }), g.Ints(-1, 4)]);

        // Anchors: cell centres (0.5 + x)·stride, (0.5 + y)·stride (exact in float32) ± the anchors' half sizes.
        string shape = g.Node("Shape", [features]);
        string Side(int axis)
        {
            string size = g.Node("Squeeze", [g.Node("Slice", [shape, g.Ints(axis), g.Ints(axis + 1), g.Ints(0)]), g.Ints(0)]);
            string index = g.Node("Cast", [g.Node("Range", [g.Long(0), size, g.Long(1)])], new Dictionary<string, object> { ["to"] = (long)OnnxType.Float });
            return g.Node("Add", [g.Node("Mul", [index, g.Scalar((float)rpn.Anchors.Stride)]), g.Scalar((float)(0.5 * rpn.Anchors.Stride))]);
        }
        string cy = g.Node("Reshape", [Side(2), g.Ints(-1, 1, 1)]), cx = g.Node("Reshape", [Side(3), g.Ints(1, -1, 1)]);
        var cell = rpn.Anchors.CellAnchors();                                        // (A,4) around 0
        var c = cell.data<float>().ToArray();
        cell.Dispose();
        string Half(int column) => g.Weight(g.Fresh("anchor_half"), [1, 1, a], Enumerable.Range(0, a).Select(i => MathF.Abs(c[4 * i + column])).ToArray());
        string halfW = Half(0), halfH = Half(1);
        string gridShape = g.Node("Concat", [g.Node("Slice", [shape, g.Ints(2), g.Ints(4), g.Ints(0)]), g.Ints(a)], new Dictionary<string, object> { ["axis"] = 0L });
        string Corner(string op, string centre, string half) =>
            g.Node("Unsqueeze", [g.Node("Expand", [g.Node(op, [centre, half]), gridShape]), g.Ints(3)]);
        string anchors = g.Node("Reshape", [g.Node("Concat", [Corner("Sub", cx, halfW), Corner("Sub", cy, halfH), Corner("Add", cx, halfW), Corner("Add", cy, halfH)],
            new Dictionary<string, object> { ["axis"] = 3L }), g.Ints(-1, 4)]);

        string decoded = g.Node("Reshape", [g.Node("Identity", [DecodeBoxes(g, Ops.BoxCoder.Unit, anchors, deltas, 1)]), g.Ints(-1, 4)]);
        string limits = g.Node("Gather", [imInfo, g.Ints(1, 0, 1, 0)], new Dictionary<string, object> { ["axis"] = 0L });   // W, H, W, H
        string boxes = g.Node("Min", [g.Node("Max", [decoded, g.Scalar(0f)]), limits]);
        string Column(int i) => g.Node("Slice", [boxes, g.Ints(i), g.Ints(i + 1), g.Ints(1)]);
        string minSize = g.Node("Mul", [g.Node("Gather", [imInfo, g.Ints(2)], new Dictionary<string, object> { ["axis"] = 0L }), g.Scalar((float)test.MinSize)]);
        string big = g.Node("And", [g.Node("GreaterOrEqual", [g.Node("Sub", [Column(2), Column(0)]), minSize]),
            g.Node("GreaterOrEqual", [g.Node("Sub", [Column(3), Column(1)]), minSize])]);
        string scores = g.Node("Where", [g.Node("Reshape", [big, g.Ints(-1)]), logits, g.Scalar(float.NegativeInfinity)]);
        string k = g.Node("Min", [g.Node("Shape", [scores]), g.Ints(test.PreNmsTopN)]);
        var top = g.Nodes("TopK", [scores, k], 2, new Dictionary<string, object> { ["largest"] = 1L, ["sorted"] = 1L });
        string topIndices = top[1];
        string topBoxes = g.Node("Gather", [boxes, topIndices], new Dictionary<string, object> { ["axis"] = 0L });
        string selected = g.Node("NonMaxSuppression", [g.Node("Unsqueeze", [topBoxes, g.Ints(0)]), g.Node("Reshape", [top[0], g.Ints(1, 1, -1)]),
            g.Ints(test.PostNmsTopN), g.Weight(g.Fresh("iou"), [1], [(float)test.NmsThreshold]), g.Weight(g.Fresh("score_min"), [1], [float.MinValue])]);
        string keep = g.Node("Reshape", [g.Node("Slice", [selected, g.Ints(2), g.Ints(3), g.Ints(1)]), g.Ints(-1)]);
        return g.Node("Gather", [topBoxes, keep], new Dictionary<string, object> { ["axis"] = 0L }, output: output);
    }

    /// <summary>The model's state dict as contiguous float32 CPU copies.</summary>
    private static Dictionary<string, Tensor> Weights(TwoStageModel model)
    {
        using var noGrad = no_grad();
        return model.state_dict().ToDictionary(e => e.Key, e => e.Value.detach().to_type(ScalarType.Float32).cpu().contiguous());
    }

    private static string Weight(OnnxGraph g, Dictionary<string, Tensor> weights, string name)
    {
        if (!weights.TryGetValue(name, out var t)) throw new InvalidOperationException($"the model has no parameter {name}");
        return g.Weight(name, t.shape, TensorMemory.Span<float>(t));
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
    /// <see cref="Ops.BoxCoder.Decode"/> in ONNX operators, in its float32 order: boxes (R,4) and deltas (R,4k) → boxes (R,4k),
    /// (cx − w/2, cy − h/2, cx + w/2, cy + h/2) with dw, dh clamped at the coder's clamp_log; not clipped.
    /// </summary>
    private static void Decode(OnnxGraph g, Ops.BoxCoder coder, string boxes, string deltas, int k, string output) =>
        g.Node("Identity", [DecodeBoxes(g, coder, boxes, deltas, k)], output: output);

    private static string DecodeBoxes(OnnxGraph g, Ops.BoxCoder coder, string boxes, string deltas, int k)
    {
        string Col(string input, int from, int to, int axis) => g.Node("Slice", [input, g.Ints(from), g.Ints(to), g.Ints(axis)]);
        string x1 = Col(boxes, 0, 1, 1), y1 = Col(boxes, 1, 2, 1), x2 = Col(boxes, 2, 3, 1), y2 = Col(boxes, 3, 4, 1);   // (R,1)
        string half = g.Scalar(0.5f);
        string pw = g.Node("Sub", [x2, x1]), ph = g.Node("Sub", [y2, y1]);
        string px = g.Node("Add", [x1, g.Node("Mul", [half, pw])]), py = g.Node("Add", [y1, g.Node("Mul", [half, ph])]);
        string d = g.Node("Reshape", [deltas, g.Ints(-1, k, 4)]);
        string Part(int c, double weight)
        {
            string column = g.Node("Reshape", [Col(d, c, c + 1, 2), g.Ints(-1, k)]);
            return weight == 1 ? column : g.Node("Div", [column, g.Scalar((float)weight)]);
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
        return g.Node("Reshape", [stacked, g.Ints(-1, 4L * k)]);
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
            .. model.Rpn is { } rpn ? new KeyValuePair<string, string>[] { new(OnnxMetadata.Rpn, Json(RpnJson(rpn))) } : [],
            new(OnnxMetadata.Graph, (model.Rpn is null
                    ? "inputs: image (levels,3,H,W) float32 preprocessed, rois (R,5) float32 (level, x1, y1, x2, y2) in scaled-image pixels; "
                    : "inputs: image (1,3,H,W) float32 preprocessed, im_info (3) float32 = (height, width, scale factor); proposals (R,4) out, in scaled-image pixels; ")
                + "outputs: scores (R,K+1) softmax, boxes (R,4(K+1)) decoded in scaled-image pixels (divide by the level's factor, clip to the image), deltas (R,4(K+1)) raw"),
        ];
    }

    private static JsonObject RpnJson(Modeling.Rpn.RegionProposalNetwork rpn)
    {
        var test = rpn.TestProposalOptions ?? rpn.Options.ProposalOptions(training: false);
        return new JsonObject
        {
            ["anchor_sizes"] = new JsonArray(rpn.Anchors.Sizes.Select(v => (JsonNode)JsonValue.Create(v)).ToArray()),
            ["aspect_ratios"] = new JsonArray(rpn.Anchors.AspectRatios.Select(v => (JsonNode)JsonValue.Create(v)).ToArray()),
            ["stride"] = rpn.Anchors.Stride,
            ["pre_nms_top_n"] = test.PreNmsTopN,
            ["post_nms_top_n"] = test.PostNmsTopN,
            ["nms_threshold"] = test.NmsThreshold,
            ["min_size"] = test.MinSize,
        };
    }
}
