using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FastRcnn.Data.Transforms;
using FastRcnn.IO;
using FastRcnn.Modeling.Backbones;
using FastRcnn.Ops;
using static TorchSharp.torch;

namespace FastRcnn.Modeling;

/// <summary>
/// What <c>model.json</c> records about a saved model: enough to rebuild the network and to predict
/// consistently (the box coder's normalisation travels with the weights, SPEC §5).
/// </summary>
/// <param name="Backbone">Backbone name (<see cref="BackboneFactory.Create(string, long)"/>).</param>
/// <param name="ClassNames">The K object class names; name i is class i+1 (class 0 is background).</param>
/// <param name="PixelPreprocessing">Name of the input convention (<see cref="Data.Transforms.PixelPreprocessing.FromName"/>).</param>
/// <param name="RoiPoolSize">PH = PW of RoI pooling.</param>
/// <param name="BoxCoder">Normalisation of the predicted deltas.</param>
/// <param name="Seed">Seed of the run that produced the model.</param>
/// <param name="TrainingConfig">The effective training configuration, free-form (null when none was given).</param>
public sealed record ModelInfo(
    string Backbone,
    IReadOnlyList<string> ClassNames,
    string PixelPreprocessing,
    int RoiPoolSize,
    BoxCoder BoxCoder,
    long Seed,
    JsonObject? TrainingConfig);

/// <summary>A model read back by <see cref="ModelFiles.Load"/> and its description.</summary>
public sealed record LoadedModel(FastRcnnModel Model, ModelInfo Info);

/// <summary>
/// A trained model as a directory: <c>model.safetensors</c> (every weight, under its state-dict name,
/// readable by Python's <c>safetensors</c>) and <c>model.json</c> (<see cref="ModelInfo"/>). Both are
/// written to a temporary name and renamed into place.
/// </summary>
public static class ModelFiles
{
    public const string WeightsFileName = "model.safetensors";
    public const string InfoFileName = "model.json";
    private const string Format = "fastrcnn-model";
    private const int Version = 1;

    /// <summary>Saves <paramref name="model"/> with its K <paramref name="classNames"/> into <paramref name="directory"/> (created when missing).</summary>
    public static void Save(string directory, FastRcnnModel model, IReadOnlyList<string> classNames, JsonObject? trainingConfig = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (classNames.Count != model.NumClasses)
            throw new ArgumentException($"The model has {model.NumClasses} classes but {classNames.Count} class names were given.", nameof(classNames));
        Directory.CreateDirectory(directory);
        var state = model.state_dict();
        SafeTensors.Write(Path.Combine(directory, WeightsFileName), state, new Dictionary<string, string> { ["format"] = "pt" });

        var coder = model.Options.BoxCoder;
        var json = new JsonObject
        {
            ["format"] = Format,
            ["version"] = Version,
            ["backbone"] = model.Spec.Name,
            ["classes"] = new JsonArray(classNames.Select(n => (JsonNode?)JsonValue.Create(n)).ToArray()),
            ["pixel_preprocessing"] = model.Pixels.Name,
            ["roi_pool_size"] = model.Spec.PooledSize,
            ["box_coder"] = new JsonObject
            {
                ["weights"] = new JsonArray(coder.WeightX, coder.WeightY, coder.WeightW, coder.WeightH),
                ["clamp_log"] = coder.ClampLog,
            },
            ["seed"] = model.Seed,
            ["training_config"] = trainingConfig?.DeepClone(),
        };
        string path = Path.Combine(directory, InfoFileName), temp = path + ".tmp";
        File.WriteAllText(temp, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Reads <c>model.json</c> of a model directory.</summary>
    /// <exception cref="FileNotFoundException">No model.json (the message names the path).</exception>
    /// <exception cref="InvalidDataException">A malformed model.json (the message names the file and the field).</exception>
    public static ModelInfo ReadInfo(string directory)
    {
        string path = Path.Combine(directory, InfoFileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such model description (is '{directory}' a saved model directory?)", path);
        InvalidDataException Bad(string what) => new($"{path}: {what}");
        JsonObject root;
        try { root = JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw Bad("empty file"); }
        catch (Exception e) when (e is JsonException or InvalidOperationException) { throw Bad($"not a JSON object ({e.Message})"); }
        try
        {
            if (root["format"]?.GetValue<string>() != Format) throw Bad($"\"format\" must be \"{Format}\"");
            int version = root["version"]!.GetValue<int>();
            if (version != Version) throw Bad($"unsupported version {version} (this build reads {Version})");
            var classes = root["classes"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
            if (classes.Count == 0) throw Bad("\"classes\" is empty");
            var coderNode = root["box_coder"]!.AsObject();
            var w = coderNode["weights"]!.AsArray().Select(n => n!.GetValue<double>()).ToArray();
            if (w.Length != 4) throw Bad($"\"box_coder.weights\" needs 4 numbers, got {w.Length}");
            var coder = new BoxCoder(w[0], w[1], w[2], w[3]) { ClampLog = coderNode["clamp_log"]?.GetValue<double>() ?? BoxCoder.DefaultClampLog };
            return new ModelInfo(
                root["backbone"]!.GetValue<string>(), classes, root["pixel_preprocessing"]!.GetValue<string>(),
                root["roi_pool_size"]!.GetValue<int>(), coder, root["seed"]?.GetValue<long>() ?? 0,
                root["training_config"] is JsonObject config ? (JsonObject)config.DeepClone() : null);
        }
        catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException)
        {
            throw Bad($"missing or malformed field ({e.Message})");
        }
    }

    /// <summary>Rebuilds a saved model: predictions equal those of the saved one bit for bit.</summary>
    /// <exception cref="FileNotFoundException">model.json or model.safetensors is missing.</exception>
    /// <exception cref="InvalidDataException">The files disagree with each other or with the backbone (the message names the file).</exception>
    public static LoadedModel Load(string directory)
    {
        var info = ReadInfo(directory);
        string infoPath = Path.Combine(directory, InfoFileName), weightsPath = Path.Combine(directory, WeightsFileName);
        PixelPreprocessing pixels;
        try { pixels = Data.Transforms.PixelPreprocessing.FromName(info.PixelPreprocessing); }
        catch (ArgumentException e) { throw new InvalidDataException($"{infoPath}: {e.Message}"); }
        Backbones.BackboneSpec spec;
        try { spec = BackboneFactory.Spec(info.Backbone); }
        catch (ArgumentException e) { throw new InvalidDataException($"{infoPath}: {e.Message}"); }
        if (spec.PooledSize != info.RoiPoolSize)
            throw new InvalidDataException($"{infoPath}: roi_pool_size {info.RoiPoolSize} differs from backbone '{spec.Name}' ({spec.PooledSize}).");
        if (!File.Exists(weightsPath)) throw new FileNotFoundException($"{weightsPath}: no such weights file", weightsPath);

        var contents = SafeTensors.Read(weightsPath);
        var file = contents.Tensors.ToDictionary(t => t.Key, t => t.Value);
        if (file.TryGetValue("predictor.cls_score.weight", out var clsScore) && clsScore.dim() == 2 && clsScore.shape[0] != info.ClassNames.Count + 1)
            throw new InvalidDataException(
                $"{weightsPath}: cls_score has {clsScore.shape[0]} outputs ({clsScore.shape[0] - 1} classes + background) " +
                $"but {infoPath} lists {info.ClassNames.Count} classes.");

        var options = new FastRcnnOptions { BoxCoder = info.BoxCoder, Pixels = pixels };
        var model = new FastRcnnModel(info.Backbone, info.ClassNames.Count, info.Seed, options);
        var state = model.state_dict();
        var missing = state.Keys.Where(k => !file.ContainsKey(k)).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"{weightsPath}: missing {missing.Count} weights of backbone '{info.Backbone}', e.g. {string.Join(", ", missing.Take(3))}.");
        var extra = file.Keys.Where(k => !state.ContainsKey(k)).ToList();
        if (extra.Count > 0)
            throw new InvalidDataException($"{weightsPath}: {extra.Count} tensors name nothing in backbone '{info.Backbone}', e.g. {string.Join(", ", extra.Take(3))}.");
        using (no_grad())
        {
            foreach (var (name, target) in state)
            {
                var value = file[name];
                if (!value.shape.SequenceEqual(target.shape))
                    throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                        $"{weightsPath}: '{name}' has shape [{string.Join(", ", value.shape)}], the model needs [{string.Join(", ", target.shape)}]."));
                target.copy_(value.to_type(target.dtype));
            }
        }
        foreach (var value in file.Values) value.Dispose();
        return new LoadedModel(model, info);
    }
}
