namespace FastRcnn.Proposals;

/// <summary>
/// A binary max-heap of region pairs keyed by similarity, for <see cref="HierarchicalGrouping"/>.
/// Order: higher similarity first; equal similarities by lower a, then lower b, so the merge order
/// never depends on insertion history or runtime version.
/// </summary>
internal sealed class PairHeap(int capacity)
{
    private Entry[] _items = new Entry[Math.Max(4, capacity)];
    private int _count;

    private readonly record struct Entry(float Sim, int A, int B);

    public int Count => _count;

    public void Push(float sim, int a, int b)
    {
        if (_count == _items.Length) Array.Resize(ref _items, 2 * _items.Length);
        var e = new Entry(sim, a, b);
        int i = _count++;
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (!Before(e, _items[parent])) break;
            _items[i] = _items[parent];
            i = parent;
        }
        _items[i] = e;
    }

    public bool TryPop(out int a, out int b)
    {
        if (_count == 0)
        {
            a = b = -1;
            return false;
        }
        var top = _items[0];
        a = top.A;
        b = top.B;
        var last = _items[--_count];
        int i = 0;
        while (true)
        {
            int child = 2 * i + 1;
            if (child >= _count) break;
            if (child + 1 < _count && Before(_items[child + 1], _items[child])) child++;
            if (!Before(_items[child], last)) break;
            _items[i] = _items[child];
            i = child;
        }
        if (_count > 0) _items[i] = last;
        return true;
    }

    private static bool Before(in Entry x, in Entry y) =>
        x.Sim > y.Sim || (x.Sim == y.Sim && (x.A < y.A || (x.A == y.A && x.B < y.B)));
}
