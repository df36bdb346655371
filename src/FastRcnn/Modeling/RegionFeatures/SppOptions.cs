using FastRcnn.Modeling.Backbones;

namespace FastRcnn.Modeling.RegionFeatures;

/// <summary>
/// SPPnet's choices (He et al. 2014; SPEC §13): the spatial pyramid's levels (each an L×L grid of max-pooling bins,
/// concatenated, so fc6 takes C·ΣL² inputs), and the image scales its conv features are computed at, each window
/// pooled from the scale where its scaled area is closest to <see cref="CanonicalSize"/>². The defaults are the
/// paper's: levels 6×6, 3×3, 2×2, 1×1 (50 bins; 512·50 = 25600 fc6 inputs on VGG16), scales {480, 576, 688, 864, 1200},
/// canonical size 224 (the ImageNet input). <see cref="For"/> gives a backbone's values.
/// </summary>
public sealed record SppOptions
{
    /// <summary>The pyramid levels L (L×L bins each), finest first: 6, 3, 2, 1.</summary>
    public IReadOnlyList<int> Levels { get; init; } = [6, 3, 2, 1];

    /// <summary>The shorter sides s of the test scales (one for single-scale testing): 480, 576, 688, 864, 1200.</summary>
    public IReadOnlyList<int> Scales { get; init; } = [480, 576, 688, 864, 1200];

    /// <summary>Cap on the longer side of a scaled image (2000, as for the paper's multi-scale set).</summary>
    public int MaxSize { get; init; } = 2000;

    /// <summary>Each window is pooled from the scale where its scaled area is closest to this side squared (224).</summary>
    public double CanonicalSize { get; init; } = 224;

    /// <summary>Bins per channel, ΣL² (50 for 6, 3, 2, 1).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int Bins => Levels.Sum(l => l * l);

    /// <summary>
    /// The options for backbone <paramref name="spec"/>. The paper's for the ImageNet-sized trunks. For <c>small</c>,
    /// whose windows on Shapes span about 2–20 feature cells (not the 13×13 conv5 map of a 224-px window the paper's
    /// levels were made for), four levels 5×5, 3×3, 2×2, 1×1 (39 bins): the finest is the 5×5 grid the small network was
    /// pre-trained with, so fc6 starts from its pre-trained weights on that level (<see cref="BackboneWeights.ImportTorchvision"/>);
    /// the scales are the paper's five scaled by 5/6 so the smallest is the Shapes training side 400
    /// ({400, 480, 576, 720, 1000}, max 1666), and the canonical size is 96, the side the small network was
    /// pre-trained on (the role 224 plays for ImageNet networks; docs/pretraining.md).
    /// </summary>
    public static SppOptions For(BackboneSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.Name == "small"
            ? new SppOptions { Levels = [5, 3, 2, 1], Scales = [400, 480, 576, 720, 1000], MaxSize = 1666, CanonicalSize = 96 }
            : new SppOptions();
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming what cannot work.</summary>
    public void Validate()
    {
        if (Levels.Count == 0 || Levels.Any(l => l < 1))
            throw new ArgumentException($"spp levels must be at least one positive grid size, got [{string.Join(", ", Levels)}].");
        if (Levels.Distinct().Count() != Levels.Count)
            throw new ArgumentException($"spp levels must differ from each other, got [{string.Join(", ", Levels)}].");
        if (Scales.Count == 0 || Scales.Any(s => s < 1))
            throw new ArgumentException($"spp scales must be at least one positive side, got [{string.Join(", ", Scales)}].");
        if (MaxSize < 1) throw new ArgumentException($"spp max_size must be positive, got {MaxSize}.");
        if (!(CanonicalSize > 0) || !double.IsFinite(CanonicalSize)) throw new ArgumentException($"spp canonical_size must be positive, got {CanonicalSize}.");
    }

    /// <summary>Value equality over the lists too.</summary>
    public bool Equals(SppOptions? other) =>
        other is not null && Levels.SequenceEqual(other.Levels) && Scales.SequenceEqual(other.Scales) && MaxSize == other.MaxSize &&
        CanonicalSize.Equals(other.CanonicalSize);

    public override int GetHashCode() => HashCode.Combine(Bins, Scales.Sum(), MaxSize, CanonicalSize);
}
