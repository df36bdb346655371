using FastRcnn.Ops;

namespace FastRcnn.Proposals;

/// <summary>
/// Selective search (Uijlings, van de Sande, Gevers &amp; Smeulders, IJCV 2013): class-agnostic object
/// proposals from a hierarchical grouping of a graph-based over-segmentation, diversified over colour
/// spaces, segmentation constants k and similarity sets (<see cref="SelectiveSearchOptions"/>).
/// </summary>
/// <remarks>
/// <para>Pipeline per image (optionally resized first, <see cref="SelectiveSearchOptions.ResizeTo"/>):
/// per colour space one conversion, one smoothed and bucket-sorted pixel graph and one set of per-pixel
/// histogram codes; per (colour space, k) one segmentation, its region features and adjacency; per
/// strategy one <see cref="HierarchicalGrouping"/>. The three stages run in parallel over their units.</para>
/// <para>Ranking (as the original, <see cref="SelectiveSearchRanking.Position"/>): in a hierarchy of M
/// regions listed in creation order, region j has position M − j (the whole image is 1, the initial regions
/// the largest numbers); its rank value is position × a random factor in (0, 1] drawn from a SplitMix64
/// stream seeded by (seed, strategy index) (OpenCV's <see cref="SelectiveSearchRanking.Level"/> uses the
/// region's level instead). All strategies' regions are sorted by increasing value (ties: strategy, then
/// creation order); boxes smaller than <see cref="SelectiveSearchOptions.MinBoxSize"/>, repeats of an
/// earlier box and (with <see cref="SelectiveSearchOptions.DuplicateIoU"/>) boxes overlapping a kept box
/// that much are dropped, and at most <see cref="SelectiveSearchOptions.MaxBoxes"/> are kept. The result
/// depends only on the image and the options, not on thread scheduling.</para>
/// </remarks>
public sealed class SelectiveSearch
{
    /// <summary>
    /// Bumped whenever the output for the same options — or for the same image file, whose bytes key the
    /// <see cref="ProposalCache"/> — changes (part of <see cref="SelectiveSearchOptions.Fingerprint"/>, so cached
    /// results of an older version are not reused). 3: images are decoded as displayed (EXIF orientation).
    /// </summary>
    public const int AlgorithmVersion = 3;

    /// <summary>Creates a runner; <paramref name="options"/> default to Fast mode.</summary>
    public SelectiveSearch(SelectiveSearchOptions? options = null)
    {
        Options = options ?? new SelectiveSearchOptions();
        Options.Validate();
        Strategies = Options.Strategies();
    }

    /// <summary>The settings.</summary>
    public SelectiveSearchOptions Options { get; }

    /// <summary>The strategies, in combination order.</summary>
    public IReadOnlyList<SelectiveSearchStrategy> Strategies { get; }

    /// <summary>Proposals for interleaved 8-bit RGB pixels (H·W·3, row-major), best first.</summary>
    public ProposalSet Run(ReadOnlySpan<byte> rgb, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (rgb.Length != 3L * width * height)
            throw new ArgumentException($"Expected {3L * width * height} RGB bytes for {width}×{height}, got {rgb.Length}.", nameof(rgb));
        var (w, h) = ImageResize.TargetSize(width, height, Options);
        byte[] work = w == width && h == height ? rgb.ToArray() : ImageResize.Rgb(rgb, width, height, w, h);
        var hierarchies = Hierarchies(work, w, h);
        return Rank(hierarchies, w, h, width, height);
    }

    /// <summary>The hierarchy of every strategy on the working image, in strategy order.</summary>
    internal Hierarchy[] Hierarchies(byte[] rgb, int w, int h)
    {
        var spaces = Options.EffectiveColorSpaces;
        var ks = Options.EffectiveKs;
        var sets = Options.EffectiveSimilaritySets;

        var graphs = new GraphSegmentation.SortedGraph[spaces.Count];
        var pixels = new PixelFeatures[spaces.Count];
        For(spaces.Count, i =>
        {
            var image = ColorSpaces.Convert(rgb, w, h, spaces[i]);
            graphs[i] = GraphSegmentation.BuildGraph(image, Options.Sigma);
            pixels[i] = PixelFeatures.Compute(image);
        });

        int segCount = spaces.Count * ks.Count;
        var features = new RegionFeatures[segCount];
        var adjacency = new RegionAdjacency[segCount];
        For(segCount, u =>
        {
            int i = u / ks.Count;
            float k = ks[u % ks.Count];
            int minSize = Options.MinSegmentSize ?? Math.Max(1, (int)k);
            var seg = GraphSegmentation.Segment(graphs[i], k, minSize);
            features[u] = RegionFeatures.Compute(seg, pixels[i]);
            adjacency[u] = RegionAdjacency.FromLabels(seg);
        });

        var result = new Hierarchy[segCount * sets.Count];
        For(result.Length, s =>
        {
            int u = s / sets.Count;
            result[s] = HierarchicalGrouping.Run(features[u], adjacency[u], sets[s % sets.Count]);
        });
        return result;
    }

    private void For(int count, Action<int> body)
    {
        if (Options.Parallel && count > 1)
            Parallel.For(0, count, Parallelism.Options, body);
        else
            for (int i = 0; i < count; i++) body(i);
    }

    private readonly record struct Candidate(float Value, int Strategy, int Index);

    private ProposalSet Rank(Hierarchy[] hierarchies, int w, int h, int width, int height)
    {
        int total = hierarchies.Sum(x => x.Count);
        var ranking = Options.Ranking;
        var candidates = new Candidate[total];
        int n = 0;
        for (int s = 0; s < hierarchies.Length; s++)
        {
            var rng = new SplitMix64(Options.Seed ^ (0x9E3779B97F4A7C15UL * (ulong)(s + 1)));
            int m = hierarchies[s].Count;
            var levels = hierarchies[s].Levels;
            for (int j = 0; j < m; j++)
            {
                float key = ranking == SelectiveSearchRanking.Level ? levels[j] : m - j;
                candidates[n++] = new Candidate(key * rng.NextUnit(), s, j);
            }
        }
        Array.Sort(candidates, static (a, b) =>
            a.Value != b.Value ? a.Value.CompareTo(b.Value)
            : a.Strategy != b.Strategy ? a.Strategy.CompareTo(b.Strategy)
            : a.Index.CompareTo(b.Index));

        int minSide = Math.Min(Options.MinBoxSize, Math.Min(w, h));
        int cap = Options.MaxBoxes ?? int.MaxValue;
        var seen = new HashSet<PixelBox>();
        var near = Options.DuplicateIoU is { } iou ? new OverlapFilter(w, iou) : null;
        var diverse = Options.DiverseIoU is { } div ? new OverlapFilter(w, div) : null;
        var deferred = new List<PixelBox>();
        var boxes = new List<float>();
        float sx = width / (float)w, sy = height / (float)h;
        foreach (var c in candidates)
        {
            if (boxes.Count / 4 >= cap) break;
            var box = hierarchies[c.Strategy].Boxes[c.Index];
            if (box.Width < minSide || box.Height < minSide || !seen.Add(box)) continue;
            if (near is not null && near.Overlaps(box)) continue;
            if (diverse is not null && diverse.Overlaps(box))
            {
                deferred.Add(box);
                continue;
            }
            near?.Add(box);
            diverse?.Add(box);
            Emit(box);
        }
        foreach (var box in deferred)
        {
            if (boxes.Count / 4 >= cap) break;
            if (near is not null && !near.TryAdd(box)) continue;
            Emit(box);
        }

        void Emit(PixelBox box)
        {
            boxes.Add(Math.Min(box.X1 * sx, width));
            boxes.Add(Math.Min(box.Y1 * sy, height));
            boxes.Add(Math.Min(box.X2 * sx, width));
            boxes.Add(Math.Min(box.Y2 * sy, height));
        }
        return new ProposalSet(boxes.ToArray(), boxes.Count / 4, width, height, hierarchies.Length);
    }

    /// <summary>SplitMix64 (Steele et al. 2014): a tiny, fully specified generator, so ranks are reproducible everywhere.</summary>
    private struct SplitMix64(ulong seed)
    {
        private ulong _state = seed;

        /// <summary>A uniform float in (0, 1]: (⌊x / 2^40⌋ + 1) / 2^24.</summary>
        public float NextUnit()
        {
            ulong z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            return ((z >> 40) + 1) * (1f / (1 << 24));
        }
    }
}
