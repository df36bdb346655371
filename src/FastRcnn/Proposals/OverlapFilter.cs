using System.Numerics;

namespace FastRcnn.Proposals;

/// <summary>
/// Near-duplicate removal for ranked boxes: a box is accepted unless its IoU with an already accepted
/// box is at least a threshold t (a greedy, score-free NMS in rank order). Selective search's hierarchies
/// repeat many boxes with a one-pixel difference across strategies; dropping those keeps the ranked list
/// diverse, so a fixed budget of top-ranked boxes covers more objects.
/// </summary>
/// <remarks>
/// IoU(a, b) ≥ t is tested without a division as inter·(1 + t) ≥ t·(|a| + |b|), in double precision (the
/// corners are whole pixels, so the products are exact and the test agrees with inter/union ≥ t). The
/// accepted boxes are kept in structure-of-arrays form and compared with <see cref="Vector{T}"/> lanes. Before that, a
/// candidate of width w can only overlap accepted boxes whose x1 lies within (1 − t)/t · w of its own
/// (IoU ≥ t needs the intersection to be ≥ t of each box, so the left edges differ by at most (1 − t) of
/// the wider box, which is ≤ w/t); the accepted boxes are therefore bucketed by x1 and only the buckets in
/// that window are scanned.
/// </remarks>
internal sealed class OverlapFilter
{
    private const int BucketWidth = 16;
    private readonly double _t;
    private readonly List<Bucket> _buckets;

    /// <summary>Creates an empty filter for images <paramref name="width"/> pixels wide and threshold <paramref name="iou"/> in (0, 1].</summary>
    public OverlapFilter(int width, float iou)
    {
        if (!(iou > 0 && iou <= 1)) throw new ArgumentOutOfRangeException(nameof(iou), iou, "The IoU threshold must be in (0, 1].");
        _t = iou;
        int count = width / BucketWidth + 1;
        _buckets = new List<Bucket>(count);
        for (int i = 0; i < count; i++) _buckets.Add(new Bucket());
    }

    /// <summary>Accepts the box (and remembers it) unless it overlaps an accepted box with IoU ≥ t.</summary>
    public bool TryAdd(PixelBox box)
    {
        if (Overlaps(box)) return false;
        Add(box);
        return true;
    }

    /// <summary>Whether an accepted box overlaps <paramref name="box"/> with IoU ≥ t.</summary>
    public bool Overlaps(PixelBox box)
    {
        double w = box.Width, x1 = box.X1;
        double reach = (1 - _t) / _t * w;
        int first = Math.Max(0, (int)((x1 - reach) / BucketWidth));
        int last = Math.Min(_buckets.Count - 1, (int)((x1 + reach) / BucketWidth));
        double area = box.Area, k = 1 + _t;
        for (int i = first; i <= last; i++)
            if (_buckets[i].Overlaps(box, area, _t, k)) return true;
        return false;
    }

    /// <summary>Remembers <paramref name="box"/> as accepted.</summary>
    public void Add(PixelBox box) => _buckets[Math.Clamp(box.X1 / BucketWidth, 0, _buckets.Count - 1)].Add(box, box.Area);

    private sealed class Bucket
    {
        private double[] _x1 = new double[16], _y1 = new double[16], _x2 = new double[16], _y2 = new double[16], _area = new double[16];
        private int _count;

        public void Add(PixelBox b, double area)
        {
            if (_count == _x1.Length)
            {
                int n = 2 * _count;
                Array.Resize(ref _x1, n);
                Array.Resize(ref _y1, n);
                Array.Resize(ref _x2, n);
                Array.Resize(ref _y2, n);
                Array.Resize(ref _area, n);
            }
            _x1[_count] = b.X1;
            _y1[_count] = b.Y1;
            _x2[_count] = b.X2;
            _y2[_count] = b.Y2;
            _area[_count] = area;
            _count++;
        }

        public bool Overlaps(PixelBox b, double area, double t, double k)
        {
            int i = 0;
            if (Vector.IsHardwareAccelerated && _count >= Vector<double>.Count)
            {
                var bx1 = new Vector<double>(b.X1);
                var by1 = new Vector<double>(b.Y1);
                var bx2 = new Vector<double>(b.X2);
                var by2 = new Vector<double>(b.Y2);
                var ba = new Vector<double>(area);
                var vk = new Vector<double>(k);
                var vt = new Vector<double>(t);
                for (; i <= _count - Vector<double>.Count; i += Vector<double>.Count)
                {
                    var iw = Vector.Max(Vector<double>.Zero, Vector.Min(bx2, new Vector<double>(_x2.AsSpan(i))) - Vector.Max(bx1, new Vector<double>(_x1.AsSpan(i))));
                    var ih = Vector.Max(Vector<double>.Zero, Vector.Min(by2, new Vector<double>(_y2.AsSpan(i))) - Vector.Max(by1, new Vector<double>(_y1.AsSpan(i))));
                    var inter = iw * ih;
                    if (Vector.GreaterThanOrEqualAny(inter * vk, vt * (ba + new Vector<double>(_area.AsSpan(i))))) return true;
                }
            }
            for (; i < _count; i++)
            {
                double iw = Math.Min(b.X2, _x2[i]) - Math.Max(b.X1, _x1[i]);
                double ih = Math.Min(b.Y2, _y2[i]) - Math.Max(b.Y1, _y1[i]);
                if (iw <= 0 || ih <= 0) continue;
                double inter = iw * ih;
                if (inter * k >= t * (area + _area[i])) return true;
            }
            return false;
        }
    }
}
