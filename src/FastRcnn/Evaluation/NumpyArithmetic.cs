namespace FastRcnn.Evaluation;

/// <summary>
/// numpy's floating-point arithmetic where the reference evaluation scripts depend on it, so that our
/// numbers equal theirs to the last bit: the threshold grids of <c>np.arange</c> and <c>np.linspace</c>
/// (which are not the exact decimals: <c>np.arange(0., 1.1, 0.1)[3]</c> is 0.30000000000000004) and the
/// order in which <c>np.sum</c>/<c>np.mean</c> add (pairwise, not left to right). Written from numpy 1.24's
/// C and Python code and checked against it value by value (see the tests).
/// </summary>
public static class NumpyArithmetic
{
    /// <summary>Elements <c>np.add.reduce</c> hands to one inner-loop call (numpy's default buffer size).</summary>
    private const int BufferSize = 8192;

    /// <summary>Below this many elements the pairwise sum adds with eight accumulators instead of splitting.</summary>
    private const int PairwiseBlock = 128;

    /// <summary>
    /// <c>np.arange(start, stop, step)</c> for doubles: ⌈(stop − start) / step⌉ values; the first is
    /// <paramref name="start"/>, element i ≥ 1 is start + i·δ with δ = (start + step) − start (numpy's <c>DOUBLE_fill</c>).
    /// </summary>
    public static double[] Arange(double start, double stop, double step)
    {
        if (step == 0 || !double.IsFinite(step)) throw new ArgumentOutOfRangeException(nameof(step));
        double count = Math.Ceiling((stop - start) / step);
        int length = count > 0 ? checked((int)count) : 0;
        var values = new double[length];
        if (length == 0) return values;
        values[0] = start;
        if (length == 1) return values;
        values[1] = start + step;
        double delta = values[1] - start;
        for (int i = 2; i < length; i++) values[i] = start + i * delta;
        return values;
    }

    /// <summary>
    /// <c>np.linspace(start, stop, num)</c> (endpoint included): step = (stop − start) / (num − 1),
    /// element i = i·step + start, and the last element is <paramref name="stop"/> itself.
    /// </summary>
    public static double[] Linspace(double start, double stop, int num)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(num);
        var values = new double[num];
        int div = num - 1;
        double delta = stop - start;
        if (div > 0)
        {
            double step = delta / div;
            for (int i = 0; i < num; i++) values[i] = step == 0 ? (double)i / div * delta + start : i * step + start;
            values[num - 1] = stop;
        }
        else if (num == 1)
        {
            values[0] = start;   // numpy: 0 · delta + start
        }
        return values;
    }

    /// <summary>
    /// <c>np.sum</c> of a contiguous float64 array: 0 plus, buffer by buffer of 8192 elements, numpy's
    /// pairwise sum of each (fewer than 8 elements left to right; up to 128 with eight interleaved partial
    /// sums; longer halves split at a multiple of 8).
    /// </summary>
    public static double Sum(ReadOnlySpan<double> values)
    {
        double total = 0;
        for (int offset = 0; offset < values.Length; offset += BufferSize)
            total += PairwiseSum(values.Slice(offset, Math.Min(BufferSize, values.Length - offset)));
        return total;
    }

    /// <summary><c>np.mean</c>: <see cref="Sum"/> divided by the count; NaN for no values (numpy warns and returns NaN).</summary>
    public static double Mean(ReadOnlySpan<double> values) => values.Length == 0 ? double.NaN : Sum(values) / values.Length;

    private static double PairwiseSum(ReadOnlySpan<double> a)
    {
        int n = a.Length;
        if (n < 8)
        {
            double res = 0;
            for (int i = 0; i < n; i++) res += a[i];
            return res;
        }
        if (n <= PairwiseBlock)
        {
            double r0 = a[0], r1 = a[1], r2 = a[2], r3 = a[3], r4 = a[4], r5 = a[5], r6 = a[6], r7 = a[7];
            int i = 8;
            for (; i < n - n % 8; i += 8)
            {
                r0 += a[i]; r1 += a[i + 1]; r2 += a[i + 2]; r3 += a[i + 3];
                r4 += a[i + 4]; r5 += a[i + 5]; r6 += a[i + 6]; r7 += a[i + 7];
            }
            double res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7));
            for (; i < n; i++) res += a[i];
            return res;
        }
        int half = n / 2;
        half -= half % 8;
        return PairwiseSum(a[..half]) + PairwiseSum(a[half..]);
    }
}
