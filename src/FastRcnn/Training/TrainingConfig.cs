using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace FastRcnn.Training;

/// <summary>
/// <see cref="TrainingOptions"/> as JSON: snake_case names (<c>learning_rate</c>, <c>learning_rate_steps</c>,
/// <c>foreground_iou</c>, …), every option written, and on reading any subset accepted — unknown names are an
/// error (a misspelt option must not be ignored), and so is a name given twice. Options a <c>--config</c> file
/// (<see cref="Load(string, string?)"/>) leaves out keep the defaults of its backbone (<see cref="TrainingOptions.DefaultsFor"/>),
/// as on the command line; <see cref="FromJson"/> fills them with the properties' initial values (the paper's).
/// </summary>
public static class TrainingConfig
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        AllowDuplicateProperties = false,   // { "iterations": 100, "iterations": 0 } must not pick one silently
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false) },
    };

    /// <summary>The options as indented JSON text.</summary>
    public static string ToJson(TrainingOptions options) => JsonSerializer.Serialize(options, Json);

    /// <summary>The options as a JSON object (e.g. for <c>model.json</c>'s <c>training_config</c>).</summary>
    public static JsonObject ToJsonObject(TrainingOptions options) =>
        JsonSerializer.SerializeToNode(options, Json)!.AsObject();

    /// <summary>Options from JSON text; <paramref name="origin"/> names the source in errors.</summary>
    /// <exception cref="InvalidDataException">Malformed JSON, a wrong type or an unknown option (the message names <paramref name="origin"/>).</exception>
    public static TrainingOptions FromJson(string json, string origin = "training config")
    {
        try
        {
            return JsonSerializer.Deserialize<TrainingOptions>(json, Json)
                ?? throw new InvalidDataException($"{origin}: expected a JSON object, got null");
        }
        catch (JsonException e)
        {
            string where = e.Path is { Length: > 0 } p ? $" at {p}" : "";
            throw new InvalidDataException($"{origin}: invalid training configuration{where}: {e.Message}", e);
        }
    }

    /// <summary>Options from a JSON object (see <see cref="FromJson"/>).</summary>
    public static TrainingOptions FromJsonObject(JsonObject json, string origin = "training config") =>
        FromJson(json.ToJsonString(), origin);

    /// <summary>
    /// Reads a <c>--config</c> file over the defaults of its backbone: <paramref name="backbone"/> (the command
    /// line's, which wins), else the file's <c>"backbone"</c>, else <see cref="TrainingOptions.DefaultBackbone"/>;
    /// options the file leaves out keep <see cref="TrainingOptions.DefaultsFor"/> of that backbone, so a file
    /// without <c>"backbone"</c> means what the same options on the command line mean.
    /// </summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Not a valid configuration (the message names the file).</exception>
    /// <exception cref="ArgumentException">An unknown backbone.</exception>
    public static TrainingOptions Load(string path, string? backbone = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such training configuration file", path);
        string text = File.ReadAllText(path);
        var own = FromJson(text, path);   // syntax, types and names checked here, with the file named
        var given = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true })!.AsObject();
        var merged = ToJsonObject(TrainingOptions.DefaultsFor(backbone ?? (given.ContainsKey("backbone") ? own.Backbone : null)));
        foreach (var (name, value) in given) merged[name] = value?.DeepClone();
        return FromJsonObject(merged, path);
    }

    /// <summary>Writes the options to <paramref name="path"/> atomically (<see cref="FastRcnn.IO.AtomicFile"/>).</summary>
    public static void Save(string path, TrainingOptions options) => FastRcnn.IO.AtomicFile.WriteAllText(path, ToJson(options) + "\n");
}
