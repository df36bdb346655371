using System.Globalization;
using System.Text.Json;
using FastRcnn.IO;
using FastRcnn.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Training;

/// <summary>Run totals carried across resumed sessions.</summary>
/// <param name="SkippedImages">Batch images that gave no RoI.</param>
/// <param name="SkippedBatches">Iterations without any RoI.</param>
/// <param name="Seconds">Training wall time.</param>
public sealed record TrainingTotals(int SkippedImages, int SkippedBatches, double Seconds);

/// <summary>
/// Everything needed to continue a run exactly (SPEC §11.9): the model's weights (<c>model.*</c>, state-dict
/// names), SGD's momentum buffers (<c>momentum.*</c>, by parameter name; absent before the first update), the
/// number of iterations done, the effective <see cref="TrainingOptions"/> (seed included), the class names and
/// the run totals — one safetensors file, written to a temporary name and renamed into place.
/// </summary>
/// <remarks>
/// No generator state is stored because none is carried: every draw of iteration i (data order, flips,
/// scales, RoI sampling, dropout) is derived from (seed, i) by <see cref="SeedSequence"/>.
/// </remarks>
public sealed record TrainingCheckpoint(
    string Path, long Iteration, TrainingOptions Options, IReadOnlyList<string> ClassNames, string Backbone, TrainingTotals Totals,
    IReadOnlyDictionary<string, Tensor> Weights, IReadOnlyDictionary<string, Tensor> Momentum) : IDisposable
{
    private const string Format = "fastrcnn-checkpoint";
    private const int Version = 1;

    /// <summary>The file name of the checkpoint after <paramref name="iteration"/> iterations: <c>checkpoint_0000500.safetensors</c>.</summary>
    public static string FileName(long iteration) => string.Create(CultureInfo.InvariantCulture, $"checkpoint_{iteration:D7}.safetensors");

    /// <summary>
    /// Writes <paramref name="model"/>'s weights and <paramref name="optimizer"/>'s momentum to <paramref name="path"/>.
    /// <paramref name="classNames"/> are the K object classes (background excluded).
    /// </summary>
    public static void Write(string path, TwoStageModel model, MomentumSgd optimizer, long iteration, TrainingOptions options,
        IReadOnlyList<string> classNames, TrainingTotals totals)
    {
        var tensors = new List<KeyValuePair<string, Tensor>>();
        foreach (var (name, value) in model.state_dict()) tensors.Add(new("model." + name, value));
        foreach (var (name, buffer) in optimizer.MomentumBuffers.OrderBy(b => b.Key, StringComparer.Ordinal))
            tensors.Add(new("momentum." + name, buffer));
        var metadata = new Dictionary<string, string>
        {
            ["format"] = Format,
            ["version"] = Version.ToString(CultureInfo.InvariantCulture),
            ["iteration"] = iteration.ToString(CultureInfo.InvariantCulture),
            ["backbone"] = model.Spec.Name,
            ["classes"] = JsonSerializer.Serialize(classNames),
            ["options"] = TrainingConfig.ToJson(options),
            ["totals"] = JsonSerializer.Serialize(totals),
            ["rng"] = "derived per iteration from (seed, iteration) by FastRcnn.Training.SeedSequence",
        };
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        SafeTensors.Write(path, tensors, metadata);
    }

    /// <summary>The newest <c>checkpoint_*.safetensors</c> in <paramref name="directory"/>, or null when there is none (or no directory).</summary>
    public static string? Newest(string directory) =>
        Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory, "checkpoint_*.safetensors").Order(StringComparer.Ordinal).LastOrDefault()
            : null;

    /// <summary>Reads a checkpoint.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Not a training checkpoint, or a malformed one (the message names the file).</exception>
    public static TrainingCheckpoint Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such checkpoint", path);
        var contents = SafeTensors.Read(path);
        InvalidDataException Bad(string what) => new($"{path}: {what}");
        var m = contents.Metadata;
        if (!m.TryGetValue("format", out var format) || format != Format)
            throw Bad($"not a training checkpoint (metadata \"format\" must be \"{Format}\"; a saved model directory is not a checkpoint)");
        try
        {
            int version = int.Parse(m["version"], CultureInfo.InvariantCulture);
            if (version != Version) throw Bad($"unsupported checkpoint version {version} (this build reads {Version})");
            var weights = new Dictionary<string, Tensor>();
            var momentum = new Dictionary<string, Tensor>();
            foreach (var (name, value) in contents.Tensors)
            {
                if (name.StartsWith("model.", StringComparison.Ordinal)) weights[name["model.".Length..]] = value;
                else if (name.StartsWith("momentum.", StringComparison.Ordinal)) momentum[name["momentum.".Length..]] = value;
                else throw Bad($"unexpected tensor '{name}'");
            }
            return new TrainingCheckpoint(path, long.Parse(m["iteration"], CultureInfo.InvariantCulture),
                TrainingConfig.FromJson(m["options"], $"{path} (options)"),
                JsonSerializer.Deserialize<string[]>(m["classes"]) ?? throw Bad("no class names"), m["backbone"],
                JsonSerializer.Deserialize<TrainingTotals>(m["totals"]) ?? throw Bad("no totals"), weights, momentum);
        }
        catch (Exception e) when (e is KeyNotFoundException or FormatException or JsonException or OverflowException)
        {
            throw Bad($"missing or malformed checkpoint metadata ({e.Message})");
        }
    }

    /// <summary>
    /// Copies the weights into <paramref name="model"/> and the momentum buffers into <paramref name="optimizer"/>
    /// (parameters without a stored buffer get none, as before their first update).
    /// </summary>
    /// <exception cref="InvalidDataException">The checkpoint does not fit the model (the message names the file and the tensor).</exception>
    public void Restore(TwoStageModel model, MomentumSgd optimizer)
    {
        if (!string.Equals(Backbone, model.Spec.Name, StringComparison.Ordinal))
            throw new InvalidDataException($"{Path}: the checkpoint is of backbone '{Backbone}', the model is '{model.Spec.Name}'.");
        var state = model.state_dict();
        var missing = state.Keys.Where(k => !Weights.ContainsKey(k)).ToList();
        if (missing.Count > 0 || Weights.Count != state.Count)
            throw new InvalidDataException($"{Path}: the checkpoint's {Weights.Count} weights do not match the model's {state.Count}" +
                (missing.Count > 0 ? $" (missing e.g. {string.Join(", ", missing.Take(3))})" : "") + ".");
        using (no_grad())
        {
            foreach (var (name, target) in state)
            {
                var value = Weights[name];
                if (!value.shape.SequenceEqual(target.shape))
                    throw new InvalidDataException($"{Path}: '{name}' has shape [{string.Join(", ", value.shape)}], the model needs [{string.Join(", ", target.shape)}] (other classes?).");
                target.copy_(value);
            }
        }
        try { optimizer.LoadMomentum(Momentum); }
        catch (ArgumentException e) { throw new InvalidDataException($"{Path}: {e.Message}."); }
    }

    public void Dispose()
    {
        foreach (var t in Weights.Values) t.Dispose();
        foreach (var t in Momentum.Values) t.Dispose();
    }
}
