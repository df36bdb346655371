using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FastRcnn.Data.Transforms;
using FastRcnn.IO;
using FastRcnn.Modeling.Backbones;
using FastRcnn.Modeling.RoiHeads;
using FastRcnn.Ops;
using static TorchSharp.torch;

namespace FastRcnn.Modeling;

/// <summary>
/// What <c>model.json</c> records about a saved model: enough to rebuild the network and to predict
/// consistently (the box coder's normalisation travels with the weights, SPEC §5).
/// </summary>
/// <param name="Architecture">The member of the family (<c>architecture</c>; files of versions 1 and 2 are Fast R-CNN).</param>
/// <param name="Backbone">Backbone name (<see cref="BackboneFactory.Create(string, long)"/>).</param>
/// <param name="ClassNames">The K object class names; name i is class i+1 (class 0 is background).</param>
/// <param name="PixelPreprocessing">Name of the input convention (<see cref="Data.Transforms.PixelPreprocessing.FromName"/>).</param>
/// <param name="RoiPoolSize">PH = PW of RoI pooling.</param>
/// <param name="BoxCoder">Normalisation of the predicted deltas.</param>
/// <param name="Seed">Seed of the run that produced the model.</param>
/// <param name="TrainingConfig">The effective training configuration, free-form (null when none was given).</param>
public sealed record ModelInfo(
    DetectorArchitecture Architecture,
    string Backbone,
    IReadOnlyList<string> ClassNames,
    string PixelPreprocessing,
    int RoiPoolSize,
    BoxCoder BoxCoder,
    long Seed,
    JsonObject? TrainingConfig)
{
    /// <summary>Box-head layers factored by truncated SVD and their ranks (<c>box_head_ranks</c>; dense when the field is absent).</summary>
    public BoxHeadRanks HeadRanks { get; init; } = BoxHeadRanks.Dense;

    /// <summary>How the model was compressed (<c>compression</c>, free-form; null when it was not).</summary>
    public JsonObject? Compression { get; init; }

    /// <summary>The region proposal network's settings (<c>rpn</c>; Faster R-CNN only, else null).</summary>
    public Rpn.RpnOptions? Rpn { get; init; }

    /// <summary>The file format version it was read from (<see cref="ModelFiles.CurrentVersion"/> for new files).</summary>
    public int Version { get; init; } = ModelFiles.CurrentVersion;

    /// <summary>SHA-256 (hex) of <c>model.safetensors</c> as saved (<c>weights_sha256</c>; null in files of versions 1 and 2).</summary>
    public string? WeightsSha256 { get; init; }

    /// <summary>SHA-256 (hex) of the class names as saved, one per line (<c>classes_sha256</c>; null in versions 1 and 2).</summary>
    public string? ClassesSha256 { get; init; }

    /// <summary>SHA-256 of the SVM stage file (<see cref="Svm.SvmStage.FileName"/>; R-CNN), or null when the model has none.</summary>
    public string? SvmStageSha256 { get; init; }
}

/// <summary>A model read back by <see cref="ModelFiles.Load"/> and its description.</summary>
public sealed record LoadedModel(TwoStageModel Model, ModelInfo Info);

/// <summary>
/// A trained model as a directory: <c>model.safetensors</c> (every weight, under its state-dict name,
/// readable by Python's <c>safetensors</c>) and <c>model.json</c> (<see cref="ModelInfo"/>). Both are
/// written to a temporary name and renamed into place. Version 3 (written now) records the architecture and the
/// SHA-256 of the weights file and of the class list, both checked on load, so a corrupted weights file or an edited
/// class list is refused instead of predicting silently. Versions 1 (dense Fast R-CNN) and 2 (box head factored by
/// truncated SVD, <c>box_head_ranks</c>) still load, as Fast R-CNN models, and predict as they did.
/// </summary>
public static class ModelFiles
{
    public const string WeightsFileName = "model.safetensors";
    public const string InfoFileName = "model.json";
    private const string Format = "fastrcnn-model";
    private const int DenseVersion = 1, FactoredVersion = 2;

    /// <summary>The version of files written now: 3, with the architecture and the SHA-256 checks.</summary>
    public const int CurrentVersion = 3;

    /// <summary>
    /// Saves <paramref name="model"/> with its K <paramref name="classNames"/> into <paramref name="directory"/> (created
    /// when missing), recording <paramref name="trainingConfig"/> and <paramref name="compression"/> (free-form) in model.json.
    /// </summary>
    public static void Save(string directory, TwoStageModel model, IReadOnlyList<string> classNames,
        JsonObject? trainingConfig = null, JsonObject? compression = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (classNames.Count != model.NumClasses)
            throw new ArgumentException($"The model has {model.NumClasses} classes but {classNames.Count} class names were given.", nameof(classNames));
        Directory.CreateDirectory(directory);
        var state = model.state_dict();
        string weightsPath = Path.Combine(directory, WeightsFileName);
        SafeTensors.Write(weightsPath, state, new Dictionary<string, string> { ["format"] = "pt" });

        var coder = model.Options.BoxCoder;
        var ranks = model.BoxHead.Ranks;
        var json = new JsonObject
        {
            ["format"] = Format,
            ["version"] = CurrentVersion,
            ["architecture"] = model.Architecture.Name(),
            ["backbone"] = model.Spec.Name,
            ["classes"] = new JsonArray(classNames.Select(n => (JsonNode?)JsonValue.Create(n)).ToArray()),
            ["pixel_preprocessing"] = model.Pixels.Name,
            ["roi_pool_size"] = model.Spec.PooledSize,
            ["box_coder"] = new JsonObject
            {
                ["weights"] = new JsonArray(coder.WeightX, coder.WeightY, coder.WeightW, coder.WeightH),
                ["clamp_log"] = coder.ClampLog,
            },
            ["box_head_ranks"] = new JsonObject { ["fc6"] = ranks.Fc6, ["fc7"] = ranks.Fc7 },
            ["seed"] = model.Seed,
            ["weights_sha256"] = Sha256OfFile(weightsPath),
            ["classes_sha256"] = Sha256OfClasses(classNames),
            ["training_config"] = trainingConfig?.DeepClone(),
        };
        if (model.SvmStage is { } svm)
        {
            string svmPath = Path.Combine(directory, Svm.SvmStage.FileName);
            svm.Save(svmPath);
            json["svm_stage_sha256"] = Sha256OfFile(svmPath);
        }
        if (compression is not null) json["compression"] = compression.DeepClone();
        if (model.Rpn is { } rpn) json["rpn"] = JsonSerializer.SerializeToNode(rpn.Options, RpnJson);
        AtomicFile.WriteAllText(Path.Combine(directory, InfoFileName), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>
    /// <see cref="Save"/> into a directory that appears whole: everything is written under a temporary sibling
    /// name and renamed to <paramref name="directory"/>, so no reader sees half a model. An existing
    /// <paramref name="directory"/> is replaced only when it holds nothing but a model's two files (an earlier
    /// output); anything else there is an error, so that no other file is lost.
    /// </summary>
    /// <exception cref="IOException"><paramref name="directory"/> is a file or holds other files (the message names it).</exception>
    public static void SaveAsNewDirectory(string directory, TwoStageModel model, IReadOnlyList<string> classNames,
        JsonObject? trainingConfig = null, JsonObject? compression = null)
    {
        string path = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        string parent = Path.GetDirectoryName(path) ?? throw new IOException($"{path}: cannot write a model to a root directory");
        if (File.Exists(path)) throw new IOException($"{path}: is a file, not a model directory");
        if (Directory.Exists(path))
        {
            var others = Directory.EnumerateFileSystemEntries(path).Select(Path.GetFileName)
                .Where(n => n is not (WeightsFileName or InfoFileName or Svm.SvmStage.FileName)).Take(3).ToList();
            if (others.Count > 0)
                throw new IOException($"{path}: exists and holds more than a model (e.g. {string.Join(", ", others)}); choose another directory or remove it");
        }
        Directory.CreateDirectory(parent);
        string temp = Path.Combine(parent, $".{Path.GetFileName(path)}.tmp-{Guid.NewGuid():N}");
        try
        {
            Save(temp, model, classNames, trainingConfig, compression);
            if (Directory.Exists(path))
            {
                string old = temp + "-old";
                Directory.Move(path, old);
                Directory.Move(temp, path);
                Directory.Delete(old, recursive: true);
            }
            else
            {
                Directory.Move(temp, path);
            }
            AtomicFile.FlushDirectory(parent);
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
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
            if (version is not (DenseVersion or FactoredVersion or CurrentVersion))
                throw Bad($"unsupported version {version} (this build reads {DenseVersion} to {CurrentVersion}; a newer FastRcnn wrote it?)");
            var architecture = DetectorArchitecture.FastRcnn;
            if (version >= CurrentVersion)
            {
                try { architecture = DetectorArchitectures.Parse(root["architecture"]!.GetValue<string>()); }
                catch (ArgumentException e) { throw Bad($"\"architecture\": {e.Message}"); }
            }
            var classes = root["classes"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
            if (classes.Count == 0) throw Bad("\"classes\" is empty");
            var coderNode = root["box_coder"]!.AsObject();
            var w = coderNode["weights"]!.AsArray().Select(n => n!.GetValue<double>()).ToArray();
            if (w.Length != 4) throw Bad($"\"box_coder.weights\" needs 4 numbers, got {w.Length}");
            var coder = new BoxCoder(w[0], w[1], w[2], w[3]) { ClampLog = coderNode["clamp_log"]?.GetValue<double>() ?? BoxCoder.DefaultClampLog };
            string? Hash(string field)
            {
                if (version < CurrentVersion) return null;
                string hash = root[field]!.GetValue<string>();
                if (hash.Length != 64 || !hash.All(char.IsAsciiHexDigit)) throw Bad($"\"{field}\" must be 64 hex digits, got '{hash}'");
                return hash.ToLowerInvariant();
            }
            return new ModelInfo(
                architecture,
                root["backbone"]!.GetValue<string>(), classes, root["pixel_preprocessing"]!.GetValue<string>(),
                root["roi_pool_size"]!.GetValue<int>(), coder, root["seed"]?.GetValue<long>() ?? 0,
                root["training_config"] is JsonObject config ? (JsonObject)config.DeepClone() : null)
            {
                HeadRanks = ReadRanks(root["box_head_ranks"], Bad),
                Compression = root["compression"] is JsonObject compression ? (JsonObject)compression.DeepClone() : null,
                Version = version,
                Rpn = ReadRpn(root["rpn"], architecture, Bad),
                WeightsSha256 = Hash("weights_sha256"),
                SvmStageSha256 = root["svm_stage_sha256"] is null ? null : Hash("svm_stage_sha256"),
                ClassesSha256 = Hash("classes_sha256"),
            };
        }
        catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException)
        {
            throw Bad($"missing or malformed field ({e.Message})");
        }
    }

    /// <summary><c>box_head_ranks</c>: <c>{"fc6": t or null, "fc7": t or null}</c>; absent (files before factoring) = dense.</summary>
    private static BoxHeadRanks ReadRanks(JsonNode? node, Func<string, InvalidDataException> bad)
    {
        if (node is null) return BoxHeadRanks.Dense;
        if (node is not JsonObject ranks) throw bad("\"box_head_ranks\" must be an object {\"fc6\": rank or null, \"fc7\": rank or null}");
        var unknown = ranks.Select(p => p.Key).Where(k => k is not ("fc6" or "fc7")).ToList();
        if (unknown.Count > 0) throw bad($"\"box_head_ranks\" names no layer '{unknown[0]}' (fc6, fc7)");
        int? Rank(string layer)
        {
            int? rank = ranks[layer]?.GetValue<int>();
            if (rank < 1) throw bad($"\"box_head_ranks.{layer}\" must be a rank ≥ 1 or null, got {rank}");
            return rank;
        }
        return new BoxHeadRanks(Rank("fc6"), Rank("fc7"));
    }

    private static string RanksText(BoxHeadRanks ranks) =>
        $"fc6 {ranks.Fc6?.ToString(CultureInfo.InvariantCulture) ?? "dense"}, fc7 {ranks.Fc7?.ToString(CultureInfo.InvariantCulture) ?? "dense"}";

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
        if (info.ClassesSha256 is not null && Sha256OfClasses(info.ClassNames) != info.ClassesSha256)
            throw new InvalidDataException($"{infoPath}: the class list ({string.Join(", ", info.ClassNames)}) is not the one the model was saved with " +
                "(classes_sha256 differs): class names were reordered or edited, so predictions would carry the wrong names.");
        if (info.WeightsSha256 is not null && Sha256OfFile(weightsPath) != info.WeightsSha256)
            throw new InvalidDataException($"{weightsPath}: the file's SHA-256 differs from weights_sha256 in {infoPath}: the weights are corrupted or were replaced.");

        var contents = SafeTensors.Read(weightsPath);
        var file = contents.Tensors.ToDictionary(t => t.Key, t => t.Value);
        if (file.TryGetValue("predictor.cls_score.weight", out var clsScore) && clsScore.dim() == 2 && clsScore.shape[0] != info.ClassNames.Count + 1)
            throw new InvalidDataException(
                $"{weightsPath}: cls_score has {clsScore.shape[0]} outputs ({clsScore.shape[0] - 1} classes + background) " +
                $"but {infoPath} lists {info.ClassNames.Count} classes.");

        var options = new TwoStageOptions { Architecture = info.Architecture, BoxCoder = info.BoxCoder, Pixels = pixels, HeadRanks = info.HeadRanks, Rpn = info.Rpn };
        if (BoxHead.RankError(spec.Fc6Inputs, spec.Fc6Width, spec.Fc7Width, info.HeadRanks) is string rankError)
            throw new InvalidDataException($"{infoPath}: box_head_ranks: {rankError}.");
        var model = new TwoStageModel(info.Backbone, info.ClassNames.Count, info.Seed, options);
        var state = model.state_dict();
        var missing = state.Keys.Where(k => !file.ContainsKey(k)).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"{weightsPath}: missing {missing.Count} weights of backbone '{info.Backbone}', e.g. {string.Join(", ", missing.Take(3))}" +
                (missing.Any(k => k.StartsWith("box_head.", StringComparison.Ordinal)) ? $" (box head ranks from {infoPath}: {RanksText(info.HeadRanks)})." : "."));
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
        if (info.SvmStageSha256 is not null)
        {
            string svmPath = Path.Combine(directory, Svm.SvmStage.FileName);
            if (!File.Exists(svmPath)) throw new FileNotFoundException($"{svmPath}: no such SVM stage file ({infoPath} names one)", svmPath);
            if (Sha256OfFile(svmPath) != info.SvmStageSha256)
                throw new InvalidDataException($"{svmPath}: the file's SHA-256 differs from svm_stage_sha256 in {infoPath}: the SVM stage is corrupted or was replaced.");
            var stage = Svm.SvmStage.Load(svmPath);
            if (stage.NumClasses != model.NumClasses || stage.Fc7Width != model.Fc7Width || stage.Pool5Width != model.Pool5Width)
            {
                stage.Dispose();
                throw new InvalidDataException($"{svmPath}: {stage.NumClasses} classes, fc7 {stage.Fc7Width}, pool5 {stage.Pool5Width}; the model has {model.NumClasses}, {model.Fc7Width}, {model.Pool5Width}.");
            }
            model.SvmStage = stage;
        }
        return new LoadedModel(model, info);
    }

    private static readonly JsonSerializerOptions RpnJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary><c>rpn</c>: the RPN options of a Faster R-CNN model (required there), absent otherwise.</summary>
    private static Rpn.RpnOptions? ReadRpn(JsonNode? node, DetectorArchitecture architecture, Func<string, InvalidDataException> bad)
    {
        if (architecture != DetectorArchitecture.FasterRcnn)
            return node is null ? null : throw bad($"\"rpn\" is only for faster-rcnn models, this one is {architecture.Name()}");
        if (node is not JsonObject) throw bad("a faster-rcnn model needs its \"rpn\" settings (an object)");
        try
        {
            var options = node.Deserialize<Rpn.RpnOptions>(RpnJson) ?? throw bad("\"rpn\" is null");
            options.Validate();
            return options;
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw bad($"\"rpn\": {e.Message}");
        }
    }

    /// <summary>SHA-256 of a file's bytes, lower-case hex.</summary>
    public static string Sha256OfFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
    }

    /// <summary>SHA-256 of the class names, one per line (UTF-8, each followed by '\n'), lower-case hex.</summary>
    public static string Sha256OfClasses(IEnumerable<string> classNames) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes(string.Concat(classNames.Select(n => n + "\n")))));
}
