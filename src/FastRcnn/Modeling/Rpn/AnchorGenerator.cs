using static TorchSharp.torch;

namespace FastRcnn.Modeling.Rpn;

/// <summary>
/// The RPN's anchors (Faster R-CNN §3.1.1): at every cell of an h×w feature map of stride s, A = (sizes × aspect
/// ratios) reference boxes. An anchor of size σ and ratio r = height/width has <c>w = σ/√r</c>, <c>h = σ·√r</c>
/// (area σ²) and is centred on the cell's centre <c>((x + 0.5)·s, (y + 0.5)·s)</c>:
/// <c>(cx − w/2, cy − h/2, cx + w/2, cy + h/2)</c>, float32 in the continuous pixels of the scaled image (no "+1").
/// </summary>
/// <remarks>
/// <para>
/// Order: row-major over (y, x, a), i.e. anchor <c>(y·w + x)·A + a</c>, which is the order of an RPN head output
/// (N, A, h, w) permuted to (N, h, w, A) and flattened (<see cref="RpnHead.FlattenObjectness"/>). Within a cell,
/// a = ratioIndex·(number of sizes) + sizeIndex (ratio-major, as py-faster-rcnn's <c>generate_anchors</c> and
/// torchvision's <c>AnchorGenerator</c>).
/// </para>
/// <para>
/// py-faster-rcnn's base anchor is the inclusive pixel box (0, 0, 15, 15), centre 7.5 in pixel indices; with pixel i
/// covering [i, i + 1) in continuous coordinates that point is 8 = (0 + 0.5)·16, the centre used here. Its widths and
/// heights are rounded to whole pixels (and carry the "+1"), so its anchors differ from these by under a pixel; the
/// ones here are exact (σ², r).
/// </para>
/// Grids are cached per feature size and device; the returned tensors are the caller's to dispose.
/// </remarks>
public sealed class AnchorGenerator : IDisposable
{
    private readonly double[] _halfSizes;               // (A,2): half width, half height
    private readonly Dictionary<(long H, long W, string Device), Tensor> _cache = [];
    private readonly Lock _lock = new();

    /// <summary>Anchors of <paramref name="sizes"/> (σ, pixels) × <paramref name="aspectRatios"/> (h/w) on a grid of <paramref name="stride"/> pixels.</summary>
    public AnchorGenerator(IReadOnlyList<double> sizes, IReadOnlyList<double> aspectRatios, double stride)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        ArgumentNullException.ThrowIfNull(aspectRatios);
        if (sizes.Count == 0 || sizes.Any(s => !(s > 0) || double.IsInfinity(s)))
            throw new ArgumentException($"Anchor sizes must be positive and finite, got [{string.Join(", ", sizes)}].", nameof(sizes));
        if (aspectRatios.Count == 0 || aspectRatios.Any(r => !(r > 0) || double.IsInfinity(r)))
            throw new ArgumentException($"Anchor aspect ratios must be positive and finite, got [{string.Join(", ", aspectRatios)}].", nameof(aspectRatios));
        if (!(stride > 0) || double.IsInfinity(stride))
            throw new ArgumentException($"The feature stride must be positive, got {stride}.", nameof(stride));
        Sizes = sizes.ToArray();
        AspectRatios = aspectRatios.ToArray();
        Stride = stride;
        _halfSizes = new double[2 * AnchorsPerCell];
        int a = 0;
        foreach (double r in AspectRatios)
        {
            foreach (double s in Sizes)
            {
                _halfSizes[2 * a] = 0.5 * s / Math.Sqrt(r);
                _halfSizes[2 * a + 1] = 0.5 * s * Math.Sqrt(r);
                a++;
            }
        }
    }

    /// <summary>Anchor sizes σ in pixels (the square root of the area).</summary>
    public IReadOnlyList<double> Sizes { get; }

    /// <summary>Anchor aspect ratios r = height / width.</summary>
    public IReadOnlyList<double> AspectRatios { get; }

    /// <summary>Pixels per feature-map cell (1 / spatial scale).</summary>
    public double Stride { get; }

    /// <summary>A, anchors per feature-map cell.</summary>
    public int AnchorsPerCell => Sizes.Count * AspectRatios.Count;

    /// <summary>The A anchors of one cell centred on the origin, (A,4) float32, in cell order.</summary>
    public Tensor CellAnchors() => Build(1, 1, origin: 0);

    /// <summary>
    /// The anchors of an <paramref name="height"/>×<paramref name="width"/> feature map, (h·w·A, 4) float32 on
    /// <paramref name="device"/> (CPU when null), in (y, x, a) order. Cached; each call returns a new tensor
    /// sharing the cached storage (do not modify it in place).
    /// </summary>
    public Tensor Anchors(long height, long width, Device? device = null)
    {
        if (height < 0 || width < 0)
            throw new ArgumentException($"The feature map size must be non-negative, got {height}x{width} (hxw).");
        device ??= CPU;
        var key = (height, width, device.ToString());
        lock (_lock)
        {
            if (!_cache.TryGetValue(key, out var grid))
            {
                grid = Build(height, width, origin: 0.5 * Stride).to(device).DetachFromDisposeScope();
                _cache[key] = grid;
            }
            return grid.alias();
        }
    }

    /// <summary>The grid, cell (y, x) centred on (origin + x·stride, origin + y·stride).</summary>
    private Tensor Build(long height, long width, double origin)
    {
        int a = AnchorsPerCell;
        var values = new float[checked(height * width * a * 4)];
        int at = 0;
        for (long y = 0; y < height; y++)
        {
            double cy = origin + y * Stride;
            for (long x = 0; x < width; x++)
            {
                double cx = origin + x * Stride;
                for (int k = 0; k < a; k++)
                {
                    double halfW = _halfSizes[2 * k], halfH = _halfSizes[2 * k + 1];
                    values[at++] = (float)(cx - halfW);
                    values[at++] = (float)(cy - halfH);
                    values[at++] = (float)(cx + halfW);
                    values[at++] = (float)(cy + halfH);
                }
            }
        }
        using var scope = NewDisposeScope();
        return tensor(values, [height * width * a, 4], ScalarType.Float32).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var grid in _cache.Values) grid.Dispose();
            _cache.Clear();
        }
    }
}
