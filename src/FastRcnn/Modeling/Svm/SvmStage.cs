using System.Globalization;
using FastRcnn.IO;
using FastRcnn.Ops;
using static TorchSharp.torch;

namespace FastRcnn.Modeling.Svm;

/// <summary>
/// The post-hoc stage of R-CNN and SPPnet, trained: one linear SVM per class on scaled fc7 features and one ridge box
/// regressor per class on scaled pool5 features (<see cref="SvmStageTrainer"/>). At test time every proposal gets every
/// class's SVM score and every class's box, regressed once (<see cref="Score"/>); per-class NMS at 0.3 follows
/// (<see cref="Inference.DetectionPostprocessor"/>). Saved as one safetensors file (<see cref="Save"/>). Shape
/// shorthand: K classes, D7 fc7 width, D5 pool5 width, R proposals.
/// </summary>
public sealed class SvmStage : IDisposable
{
    /// <summary>The file name of the stage inside a model directory.</summary>
    public const string FileName = "svm_stage.safetensors";
    private const string Format = "fastrcnn-svm-stage";

    /// <summary>
    /// Postprocessing of SVM scores when the caller names none: scores above −1 (the margin; SVM scores are not
    /// probabilities, so the softmax's 0.05 would drop true detections scored just below 0), per-class NMS at 0.3
    /// (R-CNN's), at most 100 detections per image.
    /// </summary>
    public static Inference.PostprocessOptions DefaultPostprocess { get; } = new(ScoreThreshold: -1, NmsThreshold: 0.3, MaxDetections: 100);

    /// <summary>The stage from its parts (copied into tensors).</summary>
    public SvmStage(IReadOnlyList<LinearSvmModel> svms, float fc7Scale, IReadOnlyList<LinearMap> regressors, float pool5Scale)
    {
        if (svms.Count == 0 || svms.Count != regressors.Count)
            throw new ArgumentException($"need one SVM and one regressor per class, got {svms.Count} and {regressors.Count}");
        int d7 = svms[0].Weights.Length, d5 = regressors[0].Inputs;
        if (svms.Any(s => s.Weights.Length != d7) || regressors.Any(r => r.Inputs != d5 || r.Outputs != 4))
            throw new ArgumentException("every class's SVM and regressor need the same widths, and regressors 4 outputs");
        SvmWeights = tensor(svms.SelectMany(s => s.Weights).ToArray(), [svms.Count, d7]);
        SvmBias = tensor(svms.Select(s => s.Bias).ToArray(), [svms.Count]);
        RegressorWeights = tensor(regressors.SelectMany(r => r.Weights).ToArray(), [4L * regressors.Count, d5]);
        RegressorBias = tensor(regressors.SelectMany(r => r.Bias).ToArray(), [4L * regressors.Count]);
        Fc7Scale = fc7Scale;
        Pool5Scale = pool5Scale;
    }

    private SvmStage(Tensor svmWeights, Tensor svmBias, float fc7Scale, Tensor regressorWeights, Tensor regressorBias, float pool5Scale)
    {
        (SvmWeights, SvmBias, Fc7Scale, RegressorWeights, RegressorBias, Pool5Scale) = (svmWeights, svmBias, fc7Scale, regressorWeights, regressorBias, pool5Scale);
    }

    /// <summary>(K, D7) SVM weights on scaled fc7.</summary>
    public Tensor SvmWeights { get; }

    /// <summary>(K) SVM biases.</summary>
    public Tensor SvmBias { get; }

    /// <summary>The factor fc7 is multiplied by (<see cref="FeatureScaling"/>).</summary>
    public float Fc7Scale { get; }

    /// <summary>(4K, D5) box regressors on scaled pool5, class k's rows 4(k−1)…4k−1 giving (tx, ty, tw, th).</summary>
    public Tensor RegressorWeights { get; }

    /// <summary>(4K) regressor biases.</summary>
    public Tensor RegressorBias { get; }

    /// <summary>The factor pool5 is multiplied by.</summary>
    public float Pool5Scale { get; }

    /// <summary>K.</summary>
    public int NumClasses => (int)SvmWeights.shape[0];

    /// <summary>D7.</summary>
    public int Fc7Width => (int)SvmWeights.shape[1];

    /// <summary>D5.</summary>
    public int Pool5Width => (int)RegressorWeights.shape[1];

    /// <summary>
    /// Scores and boxes of R proposals: SVM scores (R, K+1) (column 0, background, is −∞) and class-specific boxes
    /// (R, 4(K+1)) — each proposal regressed once by each class's regressor and clipped to the
    /// <paramref name="height"/>×<paramref name="width"/> image (block 0 is the proposal itself) — from its
    /// <paramref name="features"/> and <paramref name="proposals"/> (R,4) in the image's pixels.
    /// </summary>
    public (Tensor Scores, Tensor Boxes) Score(RegionFeatureSet features, Tensor proposals, long height, long width)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.Fc7.dim() != 2 || features.Fc7.shape[1] != Fc7Width || features.Pool5.dim() != 2 || features.Pool5.shape[1] != Pool5Width
            || features.Fc7.shape[0] != proposals.shape[0] || features.Pool5.shape[0] != proposals.shape[0])
            throw new ArgumentException($"the SVM stage takes fc7 (R,{Fc7Width}) and pool5 (R,{Pool5Width}) of R proposals, got " +
                $"{BoxOps.ShapeText(features.Fc7)}, {BoxOps.ShapeText(features.Pool5)} and {BoxOps.ShapeText(proposals)}");
        using var scope = NewDisposeScope();
        long r = proposals.shape[0];
        var scores = features.Fc7.to_type(ScalarType.Float32).Mul(Fc7Scale).matmul(SvmWeights.t()).Add(SvmBias);
        var background = SafeScalars.Full([r, 1], double.NegativeInfinity, ScalarType.Float32);
        var deltas = features.Pool5.to_type(ScalarType.Float32).Mul(Pool5Scale).matmul(RegressorWeights.t()).Add(RegressorBias);
        deltas = cat([zeros(r, 4, ScalarType.Float32), deltas], 1);
        var boxes = BoxCoder.Unit.DecodeClipped(deltas, proposals.to_type(ScalarType.Float32), height, width);
        return (cat([background, scores], 1).MoveToOuterDisposeScope(), boxes.MoveToOuterDisposeScope());
    }

    /// <summary>A copy with tensors of its own.</summary>
    public SvmStage Clone() => new(SvmWeights.clone(), SvmBias.clone(), Fc7Scale, RegressorWeights.clone(), RegressorBias.clone(), Pool5Scale);

    /// <summary>Writes the stage to <paramref name="path"/> (atomically).</summary>
    public void Save(string path)
    {
        using var fc7Scale = tensor(new[] { Fc7Scale });
        using var pool5Scale = tensor(new[] { Pool5Scale });
        SafeTensors.Write(path, new Dictionary<string, Tensor>
        {
            ["svm.weight"] = SvmWeights,
            ["svm.bias"] = SvmBias,
            ["svm.feature_scale"] = fc7Scale,
            ["bbox_reg.weight"] = RegressorWeights,
            ["bbox_reg.bias"] = RegressorBias,
            ["bbox_reg.feature_scale"] = pool5Scale,
        }, new Dictionary<string, string> { ["format"] = Format, ["num_classes"] = NumClasses.ToString(CultureInfo.InvariantCulture) });
    }

    /// <summary>Reads a stage <see cref="Save"/> wrote; a malformed file throws <see cref="InvalidDataException"/> naming it.</summary>
    public static SvmStage Load(string path)
    {
        var contents = SafeTensors.Read(path);
        var tensors = contents.Tensors.ToDictionary(t => t.Key, t => t.Value);
        InvalidDataException Bad(string what)
        {
            foreach (var t in tensors.Values) t.Dispose();
            return new InvalidDataException($"{path}: {what}");
        }
        if (!contents.Metadata.TryGetValue("format", out var format) || format != Format) throw Bad($"not an SVM stage (metadata format must be \"{Format}\")");
        string[] names = ["svm.weight", "svm.bias", "svm.feature_scale", "bbox_reg.weight", "bbox_reg.bias", "bbox_reg.feature_scale"];
        if (names.FirstOrDefault(n => !tensors.ContainsKey(n)) is string missing) throw Bad($"missing tensor '{missing}'");
        var (w, b, rw, rb) = (tensors["svm.weight"], tensors["svm.bias"], tensors["bbox_reg.weight"], tensors["bbox_reg.bias"]);
        if (w.dim() != 2 || b.dim() != 1 || b.shape[0] != w.shape[0] || rw.dim() != 2 || rw.shape[0] != 4 * w.shape[0]
            || rb.dim() != 1 || rb.shape[0] != rw.shape[0] || tensors["svm.feature_scale"].numel() != 1 || tensors["bbox_reg.feature_scale"].numel() != 1)
            throw Bad($"tensor shapes disagree (svm.weight {BoxOps.ShapeText(w)}, bbox_reg.weight {BoxOps.ShapeText(rw)})");
        float fc7Scale = tensors["svm.feature_scale"].to_type(ScalarType.Float32).item<float>();
        float pool5Scale = tensors["bbox_reg.feature_scale"].to_type(ScalarType.Float32).item<float>();
        tensors["svm.feature_scale"].Dispose();
        tensors["bbox_reg.feature_scale"].Dispose();
        return new SvmStage(w.to_type(ScalarType.Float32), b.to_type(ScalarType.Float32), fc7Scale, rw.to_type(ScalarType.Float32), rb.to_type(ScalarType.Float32), pool5Scale);
    }

    public void Dispose()
    {
        SvmWeights.Dispose();
        SvmBias.Dispose();
        RegressorWeights.Dispose();
        RegressorBias.Dispose();
    }
}
