using System.Globalization;
using System.Text.Json.Nodes;
using FastRcnn.Modeling;
using FastRcnn.Modeling.RoiHeads;
using static TorchSharp.torch;

namespace FastRcnn.Compression;

/// <summary>How one fully connected layer is truncated: to a rank t, or to the smallest rank that keeps a share of ‖W‖_F² = Σσ².</summary>
public sealed record LayerTruncation
{
    private LayerTruncation(int? rank, double? energy) => (Rank, Energy) = (rank, energy);

    /// <summary>The rank t to keep, or null when <see cref="Energy"/> chooses it.</summary>
    public int? Rank { get; }

    /// <summary>The share of Σσ² to keep, in (0, 1], or null when <see cref="Rank"/> is given.</summary>
    public double? Energy { get; }

    /// <summary>Keep the <paramref name="rank"/> largest singular values (1 ≤ t ≤ min(u, v), checked against the layer).</summary>
    public static LayerTruncation ToRank(int rank)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rank, 1);
        return new(rank, null);
    }

    /// <summary>Keep the fewest singular values whose σ² hold at least <paramref name="fraction"/> of Σσ².</summary>
    public static LayerTruncation ToEnergy(double fraction)
    {
        if (!(fraction > 0 && fraction <= 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "the energy fraction must be in (0, 1]");
        return new(null, fraction);
    }

    public override string ToString() => Rank is int t
        ? string.Create(CultureInfo.InvariantCulture, $"rank {t}")
        : string.Create(CultureInfo.InvariantCulture, $"energy {Energy:0.####}");
}

/// <summary>
/// Which box-head layers to factor by truncated SVD (SPEC §7), and how. The defaults are the paper's
/// (fc6 t = 1024, fc7 t = 256, for VGG16's 25088×4096 and 4096×4096); null leaves a layer as it is.
/// </summary>
public sealed record SvdCompressionOptions
{
    /// <summary>fc6's truncation (default rank 1024), or null to leave it.</summary>
    public LayerTruncation? Fc6 { get; init; } = LayerTruncation.ToRank(1024);

    /// <summary>fc7's truncation (default rank 256), or null to leave it.</summary>
    public LayerTruncation? Fc7 { get; init; } = LayerTruncation.ToRank(256);

    /// <summary>The truncation of <paramref name="layer"/>, or null.</summary>
    public LayerTruncation? this[BoxHeadLayer layer] => layer == BoxHeadLayer.Fc6 ? Fc6 : Fc7;
}

/// <summary>What truncating one layer W (u×v, bias u) did.</summary>
/// <param name="Layer">The layer.</param>
/// <param name="Outputs">u.</param>
/// <param name="Inputs">v.</param>
/// <param name="Setting">The requested truncation.</param>
/// <param name="RankBefore">The layer's rank in the input model, or null when it was dense.</param>
/// <param name="Rank">The kept rank t.</param>
/// <param name="ParametersBefore">u·v + u when dense, t₀·(u + v) + u when already factored at t₀.</param>
/// <param name="ParametersAfter">t·(u + v) + u.</param>
/// <param name="DiscardedEnergy">Σ_{i &gt; t} σ_i² = ‖W − U_t Σ_t V_tᵀ‖_F², W being the layer of the input model.</param>
/// <param name="TotalEnergy">Σ σ_i² = ‖W‖_F².</param>
public sealed record LayerCompressionReport(
    BoxHeadLayer Layer, int Outputs, int Inputs, LayerTruncation Setting, int? RankBefore, int Rank,
    long ParametersBefore, long ParametersAfter, double DiscardedEnergy, double TotalEnergy)
{
    /// <summary>The layer's name, <c>fc6</c> or <c>fc7</c>.</summary>
    public string Name => BoxHead.Name(Layer);

    /// <summary>The share of ‖W‖_F² the discarded singular values held (0 for a zero matrix).</summary>
    public double DiscardedEnergyFraction => TotalEnergy > 0 ? DiscardedEnergy / TotalEnergy : 0;

    /// <summary>The share of ‖W‖_F² the kept singular values hold.</summary>
    public double KeptEnergyFraction => 1 - DiscardedEnergyFraction;

    /// <summary>The record of this layer in model.json's <c>compression.layers</c>.</summary>
    public JsonObject ToJson() => new()
    {
        ["shape"] = new JsonArray(Outputs, Inputs),
        ["requested"] = Setting.Rank is int t ? new JsonObject { ["rank"] = t } : new JsonObject { ["energy"] = Setting.Energy },
        ["rank_before"] = RankBefore,
        ["rank"] = Rank,
        ["parameters_before"] = ParametersBefore,
        ["parameters_after"] = ParametersAfter,
        ["energy_kept"] = KeptEnergyFraction,
    };
}

/// <summary>What <see cref="ModelCompression.Compress"/> did, layer by layer.</summary>
public sealed record CompressionReport(IReadOnlyList<LayerCompressionReport> Layers)
{
    /// <summary>Parameters of the compressed layers before.</summary>
    public long ParametersBefore => Layers.Sum(l => l.ParametersBefore);

    /// <summary>Parameters of the compressed layers after.</summary>
    public long ParametersAfter => Layers.Sum(l => l.ParametersAfter);

    /// <summary>The <c>compression</c> record of model.json: <c>{"method": "truncated-svd", "layers": {"fc6": {…}, …}}</c>.</summary>
    public JsonObject ToJson() => new()
    {
        ["method"] = "truncated-svd",
        ["layers"] = new JsonObject(Layers.Select(l => KeyValuePair.Create(l.Name, (JsonNode?)l.ToJson()))),
    };
}

/// <summary>A compressed copy of a model (the caller disposes it) and what was done.</summary>
public sealed record CompressedModel(TwoStageModel Model, CompressionReport Report);

/// <summary>
/// Truncated SVD of a trained model's box head (SPEC §7): each chosen fc layer W (u×v, bias b) becomes
/// Σ_t V_tᵀ (v → t, no bias) followed by U_t (t → u, bias b), with no fine-tuning afterwards.
/// </summary>
/// <remarks>
/// A layer that is already factored (rank t₀) is factored again from its product U_t₀·Σ_t₀V_t₀ᵀ: a smaller
/// rank truncates it further; a larger rank is an error (that matrix has rank ≤ t₀, so more columns would
/// add parameters and nothing else); an energy fraction picks at most t₀. Layers without a setting are
/// copied as they are, like every other weight.
/// </remarks>
public static class ModelCompression
{
    /// <summary>A new model equal to <paramref name="model"/> except for the factored layers, and the report.</summary>
    /// <exception cref="ArgumentException">No layer is chosen, or a rank does not fit its layer (the message names the layer, its shape and the allowed ranks).</exception>
    public static CompressedModel Compress(TwoStageModel model, SvdCompressionOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        var head = model.BoxHead;
        var layers = Enum.GetValues<BoxHeadLayer>().Where(l => options[l] is not null).ToList();
        if (layers.Count == 0) throw new ArgumentException("no layer to compress: give fc6's or fc7's truncation");
        foreach (var layer in layers) CheckRank(head, layer, options[layer]!);

        var factors = new List<(BoxHeadLayer Layer, FactoredWeight Factor)>();
        try
        {
            var reports = new List<LayerCompressionReport>();
            var ranks = head.Ranks;
            foreach (var layer in layers)
            {
                var setting = options[layer]!;
                var (u, v) = head.Shape(layer);
                int? before = head.Ranks[layer];
                using var weight = head.Weight(layer);
                using var bias = head.Bias(layer);
                var factor = TruncatedSvd.Factor(weight, bias,
                    s => setting.Rank ?? Math.Min(TruncatedSvd.RankKeeping(s, setting.Energy!.Value), before ?? int.MaxValue));
                factors.Add((layer, factor));
                reports.Add(new LayerCompressionReport(layer, u, v, setting, before, factor.Rank,
                    (long)(before is int t0 ? t0 * ((long)u + v) : (long)u * v) + u, factor.ParameterCount,
                    factor.DiscardedEnergy, factor.TotalEnergy));
                ranks = ranks.With(layer, factor.Rank);
            }

            var compressed = new TwoStageModel(model.Spec.Name, model.NumClasses, model.Seed, model.Options with { HeadRanks = ranks });
            CopyMatchingWeights(model, compressed);
            foreach (var (layer, factor) in factors)
                compressed.BoxHead.SetFactors(layer, factor.First, factor.Second, factor.Bias!);
            compressed.SetFrozenPrefixes(model.FrozenPrefixes);
            compressed.SvmStage = model.SvmStage?.Clone();   // R-CNN: its SVMs and regressors score the factored fc7 and the same pool5
            if (!model.training) compressed.eval();
            return new CompressedModel(compressed, new CompressionReport(reports));
        }
        finally
        {
            foreach (var (_, factor) in factors) factor.Dispose();
        }
    }

    /// <summary>
    /// Loads the model directory <paramref name="source"/>, compresses it and writes a complete model directory
    /// to <paramref name="destination"/> (<see cref="ModelFiles.SaveAsNewDirectory"/>: all at once), keeping class
    /// names, preprocessing, box coder, seed and training configuration, and recording the compression (with the
    /// source's own record as <c>previous</c> when it was compressed before).
    /// </summary>
    /// <exception cref="FileNotFoundException">The source is no model directory.</exception>
    /// <exception cref="InvalidDataException">The source's files are malformed (the message names the file).</exception>
    /// <exception cref="ArgumentException">A setting does not fit the model, or the destination is the source (the message names the directory).</exception>
    /// <exception cref="IOException">The destination holds other files.</exception>
    public static CompressionReport CompressDirectory(string source, string destination, SvdCompressionOptions options)
    {
        string sourcePath = Path.TrimEndingDirectorySeparator(Path.GetFullPath(source));
        string destinationPath = Path.TrimEndingDirectorySeparator(Path.GetFullPath(destination));
        if (string.Equals(sourcePath, destinationPath, StringComparison.Ordinal))
            throw new ArgumentException($"{destinationPath}: the output must be another directory than the model");
        var loaded = ModelFiles.Load(source);
        using var model = loaded.Model;
        CompressedModel compressed;
        try { compressed = Compress(model, options); }
        catch (ArgumentException e) { throw new ArgumentException($"{Path.Combine(sourcePath, ModelFiles.WeightsFileName)}: {e.Message}", e); }
        using var result = compressed.Model;
        var record = compressed.Report.ToJson();
        record["source"] = sourcePath;
        if (loaded.Info.Compression is { } previous) record["previous"] = previous.DeepClone();
        ModelFiles.SaveAsNewDirectory(destination, result, loaded.Info.ClassNames, loaded.Info.TrainingConfig, record);
        return compressed.Report;
    }

    private static void CheckRank(BoxHead head, BoxHeadLayer layer, LayerTruncation setting)
    {
        if (setting.Rank is not int t) return;
        var (u, v) = head.Shape(layer);
        string name = BoxHead.Name(layer);
        int limit = Math.Min(u, v);
        if (t > limit)
            throw new ArgumentException($"{name} is {u}×{v}: its rank must be from 1 to {limit}, got {t}");
        if (head.Ranks[layer] is int before && t > before)
            throw new ArgumentException(
                $"{name} is already factored at rank {before}: a rank above that ({t}) would add parameters and no accuracy; give at most {before}");
    }

    /// <summary>Copies every weight of <paramref name="from"/> whose name and shape <paramref name="to"/> shares (all but re-shaped head layers).</summary>
    private static void CopyMatchingWeights(TwoStageModel from, TwoStageModel to)
    {
        var source = from.state_dict();
        using var noGrad = no_grad();
        foreach (var (name, target) in to.state_dict())
        {
            if (source.TryGetValue(name, out var value) && value.shape.SequenceEqual(target.shape))
                target.copy_(value);
        }
    }
}
