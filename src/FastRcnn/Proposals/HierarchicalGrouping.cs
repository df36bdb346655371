namespace FastRcnn.Proposals;

/// <summary>
/// The result of one hierarchical grouping: every region ever formed, in creation order. Regions
/// 0 … n−1 are the segmentation's; merge i (0-based) creates region n + i from
/// <see cref="Children"/>[2i] and [2i+1]. With a connected adjacency graph there are exactly n − 1
/// merges and the last region covers the whole image.
/// </summary>
public sealed record Hierarchy(int InitialCount, PixelBox[] Boxes, int[] Levels, int[] Children)
{
    /// <summary>Regions formed in total, n + merges.</summary>
    public int Count => Boxes.Length;

    /// <summary>Merges performed.</summary>
    public int MergeCount => Children.Length / 2;
}

/// <summary>
/// Selective search's bottom-up grouping (Uijlings et al., IJCV 2013, Algorithm 1): starting from the
/// regions of a segmentation, repeatedly merge the most similar pair of adjacent regions a, b into
/// t = a ∪ b (|t| = |a| + |b|, BB(t) = BB(a ∪ b), histograms size-weighted), until no adjacent pair is
/// left. Regions are adjacent when two of their pixels are 4-neighbours. Levels: 1 for the initial
/// regions, 1 + max(level(a), level(b)) for a merge.
/// </summary>
/// <remarks>
/// The candidate pairs live in a max-heap keyed by similarity (ties: lower ids first) with lazy
/// invalidation: a popped pair whose members have been merged away is skipped (similarities of live
/// pairs never change). Neighbour lists are kept exact: merging a and b replaces them by t in the lists
/// of their neighbours. The merged region reuses a's histogram storage, so memory stays O(n).
/// </remarks>
public static class HierarchicalGrouping
{
    /// <summary>Groups the regions of <paramref name="segmentation"/> described by <paramref name="features"/>.</summary>
    public static Hierarchy Run(Segmentation segmentation, RegionFeatures features, SimilarityTerms terms)
    {
        ArgumentNullException.ThrowIfNull(segmentation);
        ArgumentNullException.ThrowIfNull(features);
        if (segmentation.RegionCount != features.Count) throw new ArgumentException("Segmentation and features differ in region count.");
        return Run(features, RegionAdjacency.FromLabels(segmentation), terms);
    }

    internal static Hierarchy Run(RegionFeatures f, RegionAdjacency adjacency, SimilarityTerms terms)
    {
        if (terms == SimilarityTerms.None) throw new ArgumentException("At least one similarity term is needed.", nameof(terms));
        int n = f.Count, total = Math.Max(1, 2 * n - 1);
        bool useColor = (terms & SimilarityTerms.Color) != 0, useTexture = (terms & SimilarityTerms.Texture) != 0;
        int cl = f.ColorLength, tl = f.TextureLength;
        var color = useColor ? (float[])f.ColorHistograms.Clone() : [];
        var texture = useTexture ? (float[])f.TextureHistograms.Clone() : [];

        var sizes = new long[total];
        var boxes = new PixelBox[total];
        var levels = new int[total];
        var slot = new int[total];
        var alive = new bool[total];
        var neighbours = new int[total][];
        var degree = new int[total];
        var mark = new int[total];
        for (int i = 0; i < n; i++)
        {
            sizes[i] = f.Sizes[i];
            boxes[i] = f.Boxes[i];
            levels[i] = 1;
            slot[i] = i;
            alive[i] = true;
            var nb = adjacency.Neighbours(i);
            neighbours[i] = nb.ToArray();
            degree[i] = nb.Length;
        }
        mark.AsSpan().Fill(-1);

        float Sim(int a, int b) => Similarity.Compute(terms, f.ImageSize,
            sizes[a], boxes[a],
            useColor ? color.AsSpan(slot[a] * cl, cl) : default, useTexture ? texture.AsSpan(slot[a] * tl, tl) : default,
            sizes[b], boxes[b],
            useColor ? color.AsSpan(slot[b] * cl, cl) : default, useTexture ? texture.AsSpan(slot[b] * tl, tl) : default);

        var heap = new PairHeap(adjacency.PairCount + 16);
        for (int a = 0; a < n; a++)
            foreach (int b in adjacency.Neighbours(a))
                if (a < b) heap.Push(Sim(a, b), a, b);

        var children = new List<int>(2 * Math.Max(0, n - 1));
        int next = n;
        var scratch = new List<int>();
        while (heap.TryPop(out int a, out int b))
        {
            if (!alive[a] || !alive[b]) continue;
            int t = next++;
            sizes[t] = sizes[a] + sizes[b];
            boxes[t] = PixelBox.Union(boxes[a], boxes[b]);
            levels[t] = 1 + Math.Max(levels[a], levels[b]);
            slot[t] = slot[a];
            float wa = (float)((double)sizes[a] / sizes[t]), wb = 1f - wa;
            if (useColor) Blend(color.AsSpan(slot[a] * cl, cl), color.AsSpan(slot[b] * cl, cl), wa, wb);
            if (useTexture) Blend(texture.AsSpan(slot[a] * tl, tl), texture.AsSpan(slot[b] * tl, tl), wa, wb);
            alive[a] = alive[b] = false;
            alive[t] = true;
            children.Add(a);
            children.Add(b);

            // Neighbours of t: those of a and b, each once; in their lists a and b become t.
            scratch.Clear();
            mark[a] = mark[b] = t;
            foreach (int src in (ReadOnlySpan<int>)[a, b])
            {
                for (int i = 0; i < degree[src]; i++)
                {
                    int c = neighbours[src][i];
                    if (mark[c] == t) continue;
                    mark[c] = t;
                    scratch.Add(c);
                    Replace(neighbours[c], ref degree[c], a, b, t);
                }
            }
            neighbours[a] = neighbours[b] = [];
            degree[a] = degree[b] = 0;
            neighbours[t] = scratch.ToArray();
            degree[t] = scratch.Count;
            foreach (int c in scratch) heap.Push(Sim(t, c), t, c);
        }
        int count = next;
        return new Hierarchy(n, boxes[..count], levels[..count], children.ToArray());
    }

    /// <summary>dst = wa·dst + wb·src.</summary>
    private static void Blend(Span<float> dst, ReadOnlySpan<float> src, float wa, float wb)
    {
        for (int i = 0; i < dst.Length; i++) dst[i] = wa * dst[i] + wb * src[i];
    }

    /// <summary>In a neighbour list, drops a and b and appends t once (t replaces the first of them found).</summary>
    private static void Replace(int[] list, ref int degree, int a, int b, int t)
    {
        int w = 0;
        bool placed = false;
        for (int i = 0; i < degree; i++)
        {
            int v = list[i];
            if (v == a || v == b)
            {
                if (placed) continue;
                v = t;
                placed = true;
            }
            list[w++] = v;
        }
        degree = w;
    }
}
