namespace FastRcnn.Proposals;

/// <summary>Preset strategy lists of selective search (Uijlings et al., IJCV 2013, §5.2).</summary>
public enum SelectiveSearchMode
{
    /// <summary>One strategy: HSV, k = 100, colour + texture + size + fill (the paper's best single strategy).</summary>
    Single,

    /// <summary>
    /// HSV and Lab × k ∈ {75, 150, 300} × {C+T+S+F, T+S+F}: 12 strategies. R-CNN and Fast R-CNN used
    /// k ∈ {50, 100} (8 strategies, <see cref="SelectiveSearchOptions.RcnnFast"/>); the k values here were chosen
    /// by measuring recall per box against OpenCV (docs/benchmarks-proposals.md).
    /// </summary>
    Fast,

    /// <summary>HSV, Lab, rgI, H, I × k ∈ {50, 100, 150, 300} × {C+T+S+F, T+S+F, F, S}: 80 strategies.</summary>
    Quality,
}

/// <summary>Which side of the image <see cref="SelectiveSearchOptions.ResizeTo"/> refers to.</summary>
public enum ResizeSide
{
    /// <summary>Scale so the longer side is ResizeTo pixels.</summary>
    Longest,

    /// <summary>Scale so the shorter side is ResizeTo pixels.</summary>
    Shortest,
}

/// <summary>How the boxes of all strategies are ordered (each value is multiplied by a random factor in (0, 1], smallest first).</summary>
public enum SelectiveSearchRanking
{
    /// <summary>
    /// The original code's: a region's position in its hierarchy counted from the last merge (the whole
    /// image is 1, the initial regions come last), so large regions lead.
    /// </summary>
    Position,

    /// <summary>
    /// OpenCV ximgproc's: the region's level (1 for an initial region, 1 + the larger child level for a
    /// merge), so fine regions and small groups lead.
    /// </summary>
    Level,
}

/// <summary>One diversification strategy: a colour space, a segmentation constant k and a similarity set.</summary>
public readonly record struct SelectiveSearchStrategy(ColorSpace ColorSpace, float K, SimilarityTerms Similarity);

/// <summary>
/// Settings of <see cref="SelectiveSearch"/>. <see cref="ColorSpaces"/>, <see cref="Ks"/> and
/// <see cref="SimilaritySets"/> default to those of <see cref="Mode"/>; the strategies are their
/// product, ordered colour space, then k, then similarity set.
/// </summary>
/// <remarks>
/// The defaults are not the paper's in three places, each measured on the Shapes test split and on annotated
/// photographs against OpenCV's fast mode (docs/benchmarks-proposals.md): Fast mode's k values
/// {75, 150, 300} instead of {50, 100}, <see cref="MinBoxSize"/> 10 instead of 20 (20 px lost one object in
/// six on Shapes, whose small objects are 13–20 px), and <see cref="DuplicateIoU"/> 0.9 instead of none (the
/// strategies repeat many boxes one pixel apart). <see cref="RcnnFast"/> gives the original settings.
/// </remarks>
public sealed record SelectiveSearchOptions
{
    /// <summary>R-CNN's and Fast R-CNN's Fast mode exactly: k ∈ {50, 100}, boxes under 20 px dropped, only identical boxes removed.</summary>
    public static SelectiveSearchOptions RcnnFast { get; } = new() { Ks = [50f, 100f], MinBoxSize = 20, DuplicateIoU = null };

    /// <summary>The preset the unset strategy lists come from (default <see cref="SelectiveSearchMode.Fast"/>).</summary>
    public SelectiveSearchMode Mode { get; init; } = SelectiveSearchMode.Fast;

    /// <summary>Colour spaces, or null for the mode's.</summary>
    public IReadOnlyList<ColorSpace>? ColorSpaces { get; init; }

    /// <summary>Segmentation constants k, or null for the mode's.</summary>
    public IReadOnlyList<float>? Ks { get; init; }

    /// <summary>Similarity sets, or null for the mode's.</summary>
    public IReadOnlyList<SimilarityTerms>? SimilaritySets { get; init; }

    /// <summary>Gaussian smoothing σ before segmentation (0.8; 0 = none).</summary>
    public float Sigma { get; init; } = 0.8f;

    /// <summary>Minimum segment size in pixels, or null for min_size = k (as the original code).</summary>
    public int? MinSegmentSize { get; init; }

    /// <summary>
    /// Boxes narrower or lower than this many pixels of the working (possibly resized) image are dropped
    /// (10; the original's minBoxWidth is 20). The box of the whole image is always kept.
    /// </summary>
    public int MinBoxSize { get; init; } = 10;

    /// <summary>
    /// Near-duplicate removal: a box whose IoU with a better-ranked kept box is at least this is dropped
    /// (a greedy NMS in rank order; default 0.9); null keeps every distinct box (identical boxes are always dropped).
    /// </summary>
    public float? DuplicateIoU { get; init; } = 0.9f;

    /// <summary>
    /// Diversity first: boxes overlapping a better-ranked kept box with IoU ≥ this are moved behind all the
    /// others (keeping their order), so every prefix of the list is as spread out as possible; null (default) off.
    /// </summary>
    public float? DiverseIoU { get; init; }

    /// <summary>Keep at most this many boxes (the best ranked), or null for all.</summary>
    public int? MaxBoxes { get; init; }

    /// <summary>
    /// Run on a copy scaled so its <see cref="ResizeSide"/> is this many pixels (e.g. 500, as R-CNN), boxes
    /// mapped back to the input image; null (default) runs at full size.
    /// </summary>
    public int? ResizeTo { get; init; }

    /// <summary>
    /// The default of <see cref="MaxPixels"/>: 2.5 megapixels — above full HD (1920×1080 = 2.1 MP) and far above
    /// the detector's input (600 to 1000 px a side), so VOC, COCO and camera images up to that size are searched as
    /// they are; a 48-megapixel photo (8000×6000) is searched at 1825×1369 (measured with <c>fastrcnn proposals
    /// --threads 1</c>: 1.4 GB peak for the whole process, decoding included, and 14 s, instead of 11.2 GB and 91 s).
    /// </summary>
    public const long DefaultMaxPixels = 2_500_000;

    /// <summary>
    /// Images with more pixels (W·H, after <see cref="ResizeTo"/>) are searched on a copy scaled down to at most this
    /// many, keeping the aspect ratio, and the boxes are mapped back to the input image: selective search's time and
    /// memory grow with the pixel count (about 230 bytes a pixel), and proposals finer than the detector's input scale
    /// serve nothing. Default <see cref="DefaultMaxPixels"/>; null searches every image at full size.
    /// </summary>
    public long? MaxPixels { get; init; } = DefaultMaxPixels;

    /// <summary>The side <see cref="ResizeTo"/> applies to.</summary>
    public ResizeSide ResizeSide { get; init; } = ResizeSide.Longest;

    /// <summary>Whether <see cref="ResizeTo"/> may enlarge small images (default: only shrink).</summary>
    public bool AllowUpscale { get; init; }

    /// <summary>The order of the boxes (see <see cref="SelectiveSearchRanking"/>).</summary>
    public SelectiveSearchRanking Ranking { get; init; } = SelectiveSearchRanking.Position;

    /// <summary>Seed of the random factors of the ranking.</summary>
    public ulong Seed { get; init; }

    /// <summary>Run strategies in parallel (threads: <see cref="FastRcnn.Ops.Parallelism.Threads"/>). Results do not depend on it.</summary>
    public bool Parallel { get; init; } = true;

    /// <summary>The effective colour spaces.</summary>
    public IReadOnlyList<ColorSpace> EffectiveColorSpaces => ColorSpaces ?? Mode switch
    {
        SelectiveSearchMode.Single => [ColorSpace.Hsv],
        SelectiveSearchMode.Fast => [ColorSpace.Hsv, ColorSpace.Lab],
        _ => [ColorSpace.Hsv, ColorSpace.Lab, ColorSpace.RgI, ColorSpace.Hue, ColorSpace.Intensity],
    };

    /// <summary>The effective segmentation constants.</summary>
    public IReadOnlyList<float> EffectiveKs => Ks ?? Mode switch
    {
        SelectiveSearchMode.Single => [100f],
        SelectiveSearchMode.Fast => [75f, 150f, 300f],
        _ => [50f, 100f, 150f, 300f],
    };

    /// <summary>The effective similarity sets.</summary>
    public IReadOnlyList<SimilarityTerms> EffectiveSimilaritySets => SimilaritySets ?? Mode switch
    {
        SelectiveSearchMode.Single => [SimilarityTerms.All],
        SelectiveSearchMode.Fast => [SimilarityTerms.All, SimilarityTerms.Texture | SimilarityTerms.Size | SimilarityTerms.Fill],
        _ =>
        [
            SimilarityTerms.All, SimilarityTerms.Texture | SimilarityTerms.Size | SimilarityTerms.Fill,
            SimilarityTerms.Fill, SimilarityTerms.Size,
        ],
    };

    /// <summary>All strategies in the order their results are combined: colour space, then k, then similarity set.</summary>
    public IReadOnlyList<SelectiveSearchStrategy> Strategies()
    {
        var list = new List<SelectiveSearchStrategy>();
        foreach (var space in EffectiveColorSpaces)
            foreach (float k in EffectiveKs)
                foreach (var terms in EffectiveSimilaritySets)
                    list.Add(new SelectiveSearchStrategy(space, k, terms));
        return list;
    }

    /// <summary>
    /// Every setting that changes the output, spelled out with the algorithm version (the cache key of
    /// <see cref="ProposalCache"/>): the effective strategy lists, σ, the segment and box sizes, the
    /// duplicate threshold, the box cap, the resize settings, the pixel cap and the seed. <see cref="Parallel"/> is left
    /// out: results do not depend on it.
    /// </summary>
    public string Fingerprint()
    {
        static string F(float v) => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        return $"selective-search v{SelectiveSearch.AlgorithmVersion}; spaces={string.Join(",", EffectiveColorSpaces)}; " +
               $"ks={string.Join(",", EffectiveKs.Select(F))}; sets={string.Join(",", EffectiveSimilaritySets.Select(t => (int)t))}; " +
               $"sigma={F(Sigma)}; minseg={MinSegmentSize?.ToString() ?? "k"}; minbox={MinBoxSize}; " +
               $"dup={(DuplicateIoU is { } d ? F(d) : "none")}; diverse={(DiverseIoU is { } v ? F(v) : "none")}; max={MaxBoxes?.ToString() ?? "all"}; " +
               $"resize={ResizeTo?.ToString() ?? "none"}/{ResizeSide}/{(AllowUpscale ? "up" : "down")}; maxpixels={MaxPixels?.ToString() ?? "none"}; " +
               $"rank={Ranking}; seed={Seed}";
    }

    /// <summary>Throws <see cref="ArgumentException"/> for settings that cannot run.</summary>
    public void Validate()
    {
        if (EffectiveColorSpaces.Count == 0) throw new ArgumentException("At least one colour space is needed.");
        if (EffectiveKs.Count == 0 || EffectiveKs.Any(k => !(k > 0) || float.IsInfinity(k)))
            throw new ArgumentException("k values must be positive and finite, and at least one is needed.");
        if (EffectiveSimilaritySets.Count == 0 || EffectiveSimilaritySets.Any(s => (s & SimilarityTerms.All) == 0 || (s & ~SimilarityTerms.All) != 0))
            throw new ArgumentException("Similarity sets must be non-empty combinations of the four terms.");
        if (!(Sigma >= 0) || float.IsInfinity(Sigma)) throw new ArgumentException($"Sigma must be ≥ 0, got {Sigma}.");
        if (MinSegmentSize is < 1) throw new ArgumentException($"MinSegmentSize must be ≥ 1, got {MinSegmentSize}.");
        if (MinBoxSize < 0) throw new ArgumentException($"MinBoxSize must be ≥ 0, got {MinBoxSize}.");
        if (DuplicateIoU is { } d && !(d > 0 && d <= 1)) throw new ArgumentException($"DuplicateIoU must be in (0, 1], got {d}.");
        if (DiverseIoU is { } dv && !(dv > 0 && dv <= 1)) throw new ArgumentException($"DiverseIoU must be in (0, 1], got {dv}.");
        if (MaxBoxes is < 1) throw new ArgumentException($"MaxBoxes must be ≥ 1, got {MaxBoxes}.");
        if (ResizeTo is < 1) throw new ArgumentException($"ResizeTo must be ≥ 1, got {ResizeTo}.");
        if (MaxPixels is < 1) throw new ArgumentException($"MaxPixels must be ≥ 1, got {MaxPixels}.");
    }
}
