using FastRcnn.IO;
using static TorchSharp.torch;

namespace FastRcnn.Modeling.Backbones;

/// <summary>A tensor of the file whose shape differs from the model parameter it names.</summary>
public sealed record ShapeMismatch(string FileName, string ModelName, long[] FileShape, long[] ModelShape)
{
    public override string ToString() =>
        $"{FileName} → {ModelName}: file [{string.Join(", ", FileShape)}], model [{string.Join(", ", ModelShape)}]";
}

/// <summary>
/// What an import did. <see cref="Loaded"/>: model parameters set from the file. <see cref="Missing"/>:
/// trunk and box-head parameters (<c>features.*</c>, <c>box_head.*</c>) the file did not provide (they keep
/// their initial values; the predictor is always trained from scratch and never listed).
/// <see cref="Unexpected"/>: file tensors that name nothing in the model (e.g. ImageNet's last
/// classifier layer). <see cref="ShapeMismatches"/>: tensors that name a parameter of another shape (not loaded).
/// </summary>
public sealed record WeightImportReport(
    string Path,
    IReadOnlyList<string> Loaded,
    IReadOnlyList<string> Missing,
    IReadOnlyList<string> Unexpected,
    IReadOnlyList<ShapeMismatch> ShapeMismatches)
{
    /// <summary>
    /// The least <see cref="TrunkShare"/> that <c>fastrcnn train --weights</c> accepts unless told
    /// <c>--allow-partial-weights</c>: 0.9. Weights for the backbone load completely (1.0); weights for another
    /// backbone match a tensor or two by name at most (small-shapesnet into VGG16: 1 of 26).
    /// </summary>
    public const double DefaultMinTrunkShare = 0.9;

    /// <summary>True when every trunk and box-head parameter came from the file.</summary>
    public bool IsComplete => Missing.Count == 0 && ShapeMismatches.Count == 0;

    /// <summary>The trunk's tensors (<c>features.*</c>): those loaded plus those missing.</summary>
    public int TrunkTensors => TrunkLoaded + Missing.Count(IsTrunk);

    /// <summary>Trunk tensors set from the file.</summary>
    public int TrunkLoaded => Loaded.Count(IsTrunk);

    /// <summary><see cref="TrunkLoaded"/> / <see cref="TrunkTensors"/>: how much of the trunk starts from the file (1 when complete).</summary>
    public double TrunkShare => TrunkTensors == 0 ? 1 : (double)TrunkLoaded / TrunkTensors;

    private static bool IsTrunk(string name) => name.StartsWith("features.", StringComparison.Ordinal);

    public override string ToString() =>
        $"{Path}: loaded {Loaded.Count}, missing {Missing.Count}, unexpected {Unexpected.Count}, shape mismatches {ShapeMismatches.Count}" +
        string.Concat(ShapeMismatches.Select(m => $"\n  {m}")) +
        (Missing.Count > 0 ? $"\n  missing: {string.Join(", ", Missing)}" : "");
}

/// <summary>Initialises a model's trunk and fc6/fc7 from ImageNet weights saved by torchvision.</summary>
public static class BackboneWeights
{
    /// <summary>
    /// Copies the tensors of a weights file with torchvision's names — safetensors, or a PyTorch <c>.pth</c> state
    /// dict such as torchvision's ImageNet downloads (<see cref="WeightFiles.Read"/>) — into <paramref name="model"/>:
    /// <c>features.*</c> to the trunk of the same name, and the classifier layers the backbone names
    /// (<see cref="BackboneSpec.TorchvisionFc6"/>, e.g. <c>classifier.0.*</c>) to <c>box_head.fc6.*</c> / <c>box_head.fc7.*</c>.
    /// Tensors already named as the model's state dict (<c>box_head.fc6.weight</c>, …) load as they are.
    /// Values are converted to float32; frozen flags are kept. Nothing crashes on partial matches: the
    /// report lists what loaded, what is missing, what was unexpected and which shapes differ.
    /// </summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Not a weights file, or none of its tensors names a model parameter (message names the file).</exception>
    public static WeightImportReport ImportTorchvision(TwoStageModel model, string weightsPath)
    {
        ArgumentNullException.ThrowIfNull(model);
        var contents = WeightFiles.Read(weightsPath);
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var loaded = new List<string>();
        var unexpected = new List<string>();
        var mismatches = new List<ShapeMismatch>();
        using (no_grad())
        {
            foreach (var (fileName, value) in contents.Tensors)
            {
                string? modelName = MapName(fileName, model.Spec);
                if (modelName is null || !parameters.TryGetValue(modelName, out var parameter))
                {
                    unexpected.Add(fileName);
                    continue;
                }
                if (!value.shape.SequenceEqual(parameter.shape))
                {
                    if (modelName == "box_head.fc6.weight" && ImportPyramidLevel(model, value, parameter))
                    {
                        loaded.Add(modelName);
                        continue;
                    }
                    mismatches.Add(new ShapeMismatch(fileName, modelName, value.shape, parameter.shape));
                    continue;
                }
                parameter.copy_(value.to_type(parameter.dtype));
                loaded.Add(modelName);
            }
        }
        foreach (var (_, value) in contents.Tensors) value.Dispose();
        if (loaded.Count == 0)
        {
            string detail = mismatches.Count > 0
                ? $"{mismatches.Count} tensors name model parameters but have other shapes, e.g. {mismatches[0]}"
                : $"its {contents.Tensors.Count} tensors (e.g. {string.Join(", ", unexpected.Take(3))}) name no parameter of backbone '{model.Spec.Name}'";
            throw new InvalidDataException($"{weightsPath}: no weights could be imported: {detail}.");
        }
        var missing = parameters.Keys
            .Where(n => n.StartsWith("features.", StringComparison.Ordinal) || n.StartsWith("box_head.", StringComparison.Ordinal))
            .Except(loaded).ToList();
        return new WeightImportReport(weightsPath, loaded, missing, unexpected, mismatches);
    }

    /// <summary>
    /// SPPnet from a network pre-trained with one pooled grid P×P: a dense fc6 weight (O, C·P·P) goes to the pyramid
    /// level of the same grid size (its columns of the (O, C·ΣL²) weight), the other levels' columns start at zero, so
    /// the fine-tuning starts from the pre-trained fc6's outputs. False when the model is no SPPnet or has no such level.
    /// </summary>
    private static bool ImportPyramidLevel(TwoStageModel model, Tensor value, Tensor parameter)
    {
        if (model.Spp is not { } spp || value.dim() != 2 || parameter.dim() != 2 || value.shape[0] != parameter.shape[0]) return false;
        int channels = model.Spec.OutputChannels;
        long offset = 0;
        foreach (int level in spp.Levels)
        {
            long width = (long)channels * level * level;
            if (width == value.shape[1])
            {
                parameter.zero_();
                parameter.narrow(1, offset, width).copy_(value.to_type(parameter.dtype));
                return true;
            }
            offset += width;
        }
        return false;
    }

    /// <summary>
    /// Writes <paramref name="model"/>'s trunk and fc6/fc7 (<c>features.*</c>, <c>box_head.*</c>) to
    /// <paramref name="path"/> as a weights file that <see cref="ImportTorchvision"/> loads into a new model of the
    /// same backbone — for any set of classes, since the predictor (<c>cls_score</c>, <c>bbox_pred</c>) is left
    /// out, as the paper leaves out ImageNet's fc8. With <paramref name="float16"/> the values are stored as
    /// float16 (half the size; the import converts back to float32). Written to a temporary name, then renamed.
    /// </summary>
    /// <exception cref="ArgumentException">The box head is factored by truncated SVD: export the dense model it came from.</exception>
    public static int Export(TwoStageModel model, string path, bool float16 = false, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!model.BoxHead.Ranks.IsDense)
            throw new ArgumentException("the model's fc6/fc7 are factored by truncated SVD; export the dense model it was compressed from");
        var tensors = new Dictionary<string, Tensor>();
        var meta = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>())
        {
            ["format"] = "fastrcnn-pretrained-weights",
            ["backbone"] = model.Spec.Name,
        };
        if (float16) meta["stored_as"] = "float16";
        try
        {
            using (no_grad())
            {
                foreach (var (name, parameter) in model.named_parameters())
                {
                    if (!name.StartsWith("features.", StringComparison.Ordinal) && !name.StartsWith("box_head.", StringComparison.Ordinal)) continue;
                    using var value = parameter.detach();
                    tensors[name] = float16 ? value.to_type(ScalarType.Float16) : value.clone();
                }
            }
            SafeTensors.Write(path, tensors, meta);
            return tensors.Count;
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    /// <summary>The model parameter a file tensor initialises, or null.</summary>
    internal static string? MapName(string fileName, BackboneSpec spec)
    {
        if (fileName.StartsWith("features.", StringComparison.Ordinal) || fileName.StartsWith("box_head.", StringComparison.Ordinal))
            return fileName;
        foreach (var (torchvision, ours) in new[] { (spec.TorchvisionFc6, "box_head.fc6"), (spec.TorchvisionFc7, "box_head.fc7") })
        {
            if (torchvision is not null && fileName.StartsWith(torchvision + ".", StringComparison.Ordinal))
                return ours + fileName[torchvision.Length..];
        }
        return null;
    }
}
