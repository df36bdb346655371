namespace FastRcnn.Proposals;

/// <summary>
/// The region adjacency graph of a label image in compressed-sparse-row form: regions a ≠ b are
/// adjacent when some pixel of a and some pixel of b are 4-neighbours. Because the pixel grid is
/// 4-connected, this graph is connected for any segmentation of a whole image.
/// </summary>
internal sealed class RegionAdjacency
{
    private readonly int[] _start;
    private readonly int[] _list;

    private RegionAdjacency(int[] start, int[] list)
    {
        _start = start;
        _list = list;
    }

    /// <summary>Number of regions.</summary>
    public int RegionCount => _start.Length - 1;

    /// <summary>Number of unordered adjacent pairs.</summary>
    public int PairCount => _list.Length / 2;

    /// <summary>The neighbours of region r, increasing.</summary>
    public ReadOnlySpan<int> Neighbours(int r) => _list.AsSpan(_start[r], _start[r + 1] - _start[r]);

    public static RegionAdjacency FromLabels(Segmentation seg)
    {
        int w = seg.Width, h = seg.Height, r = seg.RegionCount;
        var labels = seg.Labels;
        var pairs = new List<long>();
        long lastH = -1;
        for (int y = 0; y < h; y++)
        {
            int row = y * w;
            long lastV = -1;
            for (int x = 0; x < w; x++)
            {
                int l = labels[row + x];
                if (x + 1 < w)
                {
                    int m = labels[row + x + 1];
                    if (m != l)
                    {
                        long key = Key(l, m);
                        if (key != lastH) pairs.Add(lastH = key);   // runs along a boundary repeat the pair
                    }
                }
                if (y + 1 < h)
                {
                    int m = labels[row + w + x];
                    if (m != l)
                    {
                        long key = Key(l, m);
                        if (key != lastV) pairs.Add(lastV = key);
                    }
                }
            }
        }
        var sorted = pairs.ToArray();
        Array.Sort(sorted);
        var degree = new int[r + 1];
        int unique = 0;
        for (int i = 0; i < sorted.Length; i++)
        {
            if (i > 0 && sorted[i] == sorted[i - 1]) continue;
            sorted[unique++] = sorted[i];
            degree[(int)(sorted[i] >> 32)]++;
            degree[(int)sorted[i]]++;
        }
        var start = new int[r + 1];
        for (int i = 0; i < r; i++) start[i + 1] = start[i] + degree[i];
        var fill = start[..r];
        var list = new int[2 * unique];
        for (int i = 0; i < unique; i++)                // sorted pairs → each list comes out increasing
        {
            int a = (int)(sorted[i] >> 32), b = (int)sorted[i];
            list[fill[b]++] = a;
        }
        for (int i = 0; i < unique; i++)
        {
            int a = (int)(sorted[i] >> 32), b = (int)sorted[i];
            list[fill[a]++] = b;
        }
        return new RegionAdjacency(start, list);
    }

    private static long Key(int a, int b) => a < b ? ((long)a << 32) | (uint)b : ((long)b << 32) | (uint)a;
}
