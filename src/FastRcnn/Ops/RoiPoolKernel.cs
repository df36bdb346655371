using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static TorchSharp.torch;

namespace FastRcnn.Ops;

/// <summary>
/// The CPU kernels behind <see cref="RoiPool"/>. Both passes read the features channels-last
/// (N, H, W, C), so one cell's channels are contiguous and a bin's maximum is taken for
/// 4·Vector&lt;float&gt;.Count channels at once, kept in registers across the bin's cells.
/// <list type="bullet">
/// <item>Forward: RoIs are split across threads; each RoI is pooled channels-last into a per-thread
/// workspace, transposed there to (C, PH·PW), and streamed into its block of the output with
/// non-temporal stores (the output is hundreds of megabytes that nothing reads back soon).</item>
/// <item>Backward: channels are split across threads, and each thread recomputes the argmax of its
/// channels (cheaper than writing, keeping and re-reading an R×C×PH×PW index tensor) and adds the
/// output gradient into the argmax cell. No two threads touch the same cell, and every cell sums its
/// contributions in (RoI, bin) order, so the result does not depend on the thread count.</item>
/// </list>
/// </summary>
internal static unsafe class RoiPoolKernel
{
    private static readonly int Lanes = Vector<float>.Count;

    /// <summary>Bin edges along one axis, per SPEC §4: [start, end) cells for each of <paramref name="bins"/> bins.</summary>
    public static void BinEdges(float lo, float hi, float scale, int bins, int size, Span<int> start, Span<int> end)
    {
        int s = (int)MathF.Round(lo * scale, MidpointRounding.AwayFromZero);
        int e = (int)MathF.Round(hi * scale, MidpointRounding.AwayFromZero);
        int length = Math.Max(e - s + 1, 1);
        float binSize = (float)length / bins;
        for (int p = 0; p < bins; p++)
        {
            start[p] = Math.Min(Math.Max((int)MathF.Floor(p * binSize) + s, 0), size);
            end[p] = Math.Min(Math.Max((int)MathF.Ceiling((p + 1) * binSize) + s, 0), size);
        }
    }

    /// <summary>
    /// Pools every RoI. <paramref name="argmax"/> (int32, or int16 when H·W &lt; 2^15) may be null when
    /// the indices are not wanted.
    /// </summary>
    public static void Forward(Tensor channelsLast, Tensor rois, Geometry g, Tensor output, Tensor? argmax)
    {
        float* features = TensorMemory.Pointer<float>(channelsLast);
        float* roi = TensorMemory.Pointer<float>(rois);
        float* outp = TensorMemory.Pointer<float>(output);
        bool narrow = argmax is not null && argmax.dtype == ScalarType.Int16;
        byte* argp = argmax is null ? null : TensorMemory.Pointer<byte>(argmax);
        int r = (int)rois.shape[0], c = g.Channels, bins = g.Bins;
        const int chunk = 4;
        Parallel.For(0, (r + chunk - 1) / chunk, Parallelism.Options,
            () => new Workspace(g),
            (block, _, ws) =>
            {
                fixed (float* max = ws.Max)
                fixed (float* transposed = ws.Transposed)
                fixed (int* index = ws.Index)
                {
                    for (int i = block * chunk, last = Math.Min(r, i + chunk); i < last; i++)
                    {
                        float* image = ws.Locate(features, roi + 5L * i, g);
                        for (int j = 0; j < bins; j++)
                        {
                            var (h0, h1, w0, w1) = ws.Bin(j, g);
                            PoolBin(image, g, h0, h1, w0, w1, 0, c, max + (long)j * c, argp == null ? null : index + (long)j * c);
                        }
                        long outBase = (long)i * c * bins;
                        Transpose.Block(max, bins, c, transposed);
                        Transpose.CopyStreaming(transposed, outp + outBase, (long)bins * c);
                        if (argp == null) continue;
                        Transpose.Block((float*)index, bins, c, transposed);
                        if (narrow) Transpose.NarrowToInt16((int*)transposed, (short*)argp + outBase, (long)bins * c);
                        else Transpose.CopyStreaming(transposed, (float*)argp + outBase, (long)bins * c);
                    }
                }
                return ws;
            },
            _ => { });
    }

    /// <summary>
    /// Adds each output gradient into dL/dx (channels-first, zero-initialised) at its bin's argmax cell.
    /// Channels are split across threads: no two threads touch the same cell, and every cell sums its
    /// contributions in (RoI, bin) order, so the result does not depend on the thread count.
    /// </summary>
    public static void Backward(Tensor gradOutput, Tensor argmax, Tensor batchIndex, Tensor gradInput)
    {
        if (argmax.dtype == ScalarType.Int16) Backward<short>(gradOutput, argmax, batchIndex, gradInput);
        else Backward<int>(gradOutput, argmax, batchIndex, gradInput);
    }

    private static void Backward<TIndex>(Tensor gradOutput, Tensor argmax, Tensor batchIndex, Tensor gradInput)
        where TIndex : unmanaged, IBinaryInteger<TIndex>
    {
        float* g = TensorMemory.Pointer<float>(gradOutput);
        TIndex* a = TensorMemory.Pointer<TIndex>(argmax);
        int* b = TensorMemory.Pointer<int>(batchIndex);
        float* gi = TensorMemory.Pointer<float>(gradInput);
        int r = (int)argmax.shape[0], c = (int)argmax.shape[1];
        int bins = (int)(argmax.shape[2] * argmax.shape[3]);
        long plane = gradInput.shape[2] * gradInput.shape[3];
        int channelBlock = Math.Max(1, c / (4 * Parallelism.Threads));
        Parallel.For(0, (c + channelBlock - 1) / channelBlock, Parallelism.Options, block =>
        {
            int k0 = block * channelBlock, k1 = Math.Min(c, k0 + channelBlock);
            for (int i = 0; i < r; i++)
            {
                float* imageGrad = gi + (long)b[i] * c * plane;
                long rowBase = ((long)i * c + k0) * bins;
                float* go = g + rowBase;
                TIndex* am = a + rowBase;
                for (int k = k0; k < k1; k++, go += bins, am += bins)
                {
                    float* channelGrad = imageGrad + k * plane;
                    for (int j = 0; j < bins; j++)
                    {
                        int cell = int.CreateTruncating(am[j]);
                        if (cell >= 0) channelGrad[cell] += go[j];
                    }
                }
            }
        });
    }

    /// <summary>Sizes shared by the kernels: C channels of an H×W map, PH×PW bins, the spatial scale.</summary>
    public readonly record struct Geometry(int Channels, int Height, int Width, int PooledHeight, int PooledWidth, float Scale)
    {
        public int Bins => PooledHeight * PooledWidth;
    }

    /// <summary>Per-thread scratch: pooled values and argmax channels-last (PH·PW × C), and bin edges.</summary>
    private sealed class Workspace(Geometry g)
    {
        public readonly float[] Max = GC.AllocateUninitializedArray<float>(g.Bins * g.Channels, pinned: true);
        public readonly float[] Transposed = GC.AllocateUninitializedArray<float>(g.Bins * g.Channels, pinned: true);
        public readonly int[] Index = GC.AllocateUninitializedArray<int>(g.Bins * g.Channels, pinned: true);
        private readonly int[] _hStart = new int[g.PooledHeight], _hEnd = new int[g.PooledHeight];
        private readonly int[] _wStart = new int[g.PooledWidth], _wEnd = new int[g.PooledWidth];

        /// <summary>Computes the RoI's bin edges; returns its image's channels-last features.</summary>
        public float* Locate(float* features, float* roi, Geometry g)
        {
            BinEdges(roi[1], roi[3], g.Scale, g.PooledWidth, g.Width, _wStart, _wEnd);
            BinEdges(roi[2], roi[4], g.Scale, g.PooledHeight, g.Height, _hStart, _hEnd);
            return features + (long)roi[0] * g.Height * g.Width * g.Channels;
        }

        public (int H0, int H1, int W0, int W1) Bin(int j, Geometry g)
        {
            int y = j / g.PooledWidth, x = j - y * g.PooledWidth;
            return (_hStart[y], _hEnd[y], _wStart[x], _wEnd[x]);
        }
    }

    /// <summary>
    /// Max and first argmax (flat h·W + w) over one bin for channels [k0, k1), written to
    /// max[0..k1-k0) and, unless <paramref name="index"/> is null, index[0..k1-k0). Empty bins give 0 and -1.
    /// Channels go 64 at a time with AVX-512, then 4·Vector&lt;float&gt;.Count at a time, then one by one.
    /// </summary>
    private static void PoolBin(float* image, Geometry g, int h0, int h1, int w0, int w1, int k0, int k1, float* max, int* index)
    {
        int n = k1 - k0;
        if (h1 <= h0 || w1 <= w0)
        {
            new Span<float>(max, n).Clear();
            if (index != null) new Span<int>(index, n).Fill(-1);
            return;
        }
        int c = g.Channels, w = g.Width;
        int k = k0;
        if (Avx512F.IsSupported)
            for (; k + 64 <= k1; k += 64)
            {
                if (index == null) BinMax512(image + k, c, w, h0, h1, w0, w1, max + (k - k0));
                else BinArgmax512(image + k, c, w, h0, h1, w0, w1, max + (k - k0), index + (k - k0));
            }
        for (; k + 4 * Lanes <= k1; k += 4 * Lanes)
            BinArgmax4(image + k, c, w, h0, h1, w0, w1, max + (k - k0), index == null ? null : index + (k - k0));
        for (; k < k1; k++)
        {
            float best = -float.MaxValue;
            int bestIndex = -1;
            for (int y = h0; y < h1; y++)
                for (int x = w0; x < w1; x++)
                {
                    float v = image[((long)y * w + x) * c + k];
                    if (v > best) { best = v; bestIndex = y * w + x; }
                }
            max[k - k0] = best;
            if (index != null) index[k - k0] = bestIndex;
        }
    }

    // The SIMD bodies: each cell's group of channels is one short contiguous read, the running
    // maxima stay in registers across the bin's cells, and a lane only moves on a strict '>', so the
    // first maximum in row-major order wins and NaN never does — the reference's semantics exactly.
    // (Avx512F.Max(v, m) is vmaxps: v > m ? v : m, the same select in one instruction.)

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BinMax512(float* image, int c, int w, int h0, int h1, int w0, int w1, float* max)
    {
        Vector512<float> m0 = Vector512.Create(-float.MaxValue), m1 = m0, m2 = m0, m3 = m0;
        for (int y = h0; y < h1; y++)
        {
            float* cell = image + ((long)y * w + w0) * c;
            for (int x = w0; x < w1; x++, cell += c)
            {
                m0 = Avx512F.Max(Vector512.Load(cell), m0);
                m1 = Avx512F.Max(Vector512.Load(cell + 16), m1);
                m2 = Avx512F.Max(Vector512.Load(cell + 32), m2);
                m3 = Avx512F.Max(Vector512.Load(cell + 48), m3);
            }
        }
        m0.Store(max); m1.Store(max + 16); m2.Store(max + 32); m3.Store(max + 48);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BinArgmax512(float* image, int c, int w, int h0, int h1, int w0, int w1, float* max, int* index)
    {
        Vector512<float> m0 = Vector512.Create(-float.MaxValue), m1 = m0, m2 = m0, m3 = m0;
        Vector512<int> i0 = Vector512.Create(-1), i1 = i0, i2 = i0, i3 = i0;
        for (int y = h0; y < h1; y++)
        {
            float* cell = image + ((long)y * w + w0) * c;
            for (int x = w0; x < w1; x++, cell += c)
            {
                var at = Vector512.Create(y * w + x);
                var v0 = Vector512.Load(cell);
                var v1 = Vector512.Load(cell + 16);
                var v2 = Vector512.Load(cell + 32);
                var v3 = Vector512.Load(cell + 48);
                var g0 = Vector512.GreaterThan(v0, m0);
                var g1 = Vector512.GreaterThan(v1, m1);
                var g2 = Vector512.GreaterThan(v2, m2);
                var g3 = Vector512.GreaterThan(v3, m3);
                m0 = Vector512.ConditionalSelect(g0, v0, m0);
                m1 = Vector512.ConditionalSelect(g1, v1, m1);
                m2 = Vector512.ConditionalSelect(g2, v2, m2);
                m3 = Vector512.ConditionalSelect(g3, v3, m3);
                i0 = Vector512.ConditionalSelect(g0.AsInt32(), at, i0);
                i1 = Vector512.ConditionalSelect(g1.AsInt32(), at, i1);
                i2 = Vector512.ConditionalSelect(g2.AsInt32(), at, i2);
                i3 = Vector512.ConditionalSelect(g3.AsInt32(), at, i3);
            }
        }
        m0.Store(max); m1.Store(max + 16); m2.Store(max + 32); m3.Store(max + 48);
        i0.Store(index); i1.Store(index + 16); i2.Store(index + 32); i3.Store(index + 48);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BinArgmax4(float* image, int c, int w, int h0, int h1, int w0, int w1, float* max, int* index)
    {
        int lanes = Lanes;
        Vector<float> m0 = new(-float.MaxValue), m1 = m0, m2 = m0, m3 = m0;
        Vector<int> i0 = new(-1), i1 = i0, i2 = i0, i3 = i0;
        for (int y = h0; y < h1; y++)
        {
            float* cell = image + ((long)y * w + w0) * c;
            for (int x = w0; x < w1; x++, cell += c)
            {
                var at = new Vector<int>(y * w + x);
                var v0 = Vector.Load(cell);
                var v1 = Vector.Load(cell + lanes);
                var v2 = Vector.Load(cell + 2 * lanes);
                var v3 = Vector.Load(cell + 3 * lanes);
                var g0 = Vector.GreaterThan(v0, m0);
                var g1 = Vector.GreaterThan(v1, m1);
                var g2 = Vector.GreaterThan(v2, m2);
                var g3 = Vector.GreaterThan(v3, m3);
                m0 = Vector.ConditionalSelect(g0, v0, m0);
                m1 = Vector.ConditionalSelect(g1, v1, m1);
                m2 = Vector.ConditionalSelect(g2, v2, m2);
                m3 = Vector.ConditionalSelect(g3, v3, m3);
                i0 = Vector.ConditionalSelect(g0, at, i0);
                i1 = Vector.ConditionalSelect(g1, at, i1);
                i2 = Vector.ConditionalSelect(g2, at, i2);
                i3 = Vector.ConditionalSelect(g3, at, i3);
            }
        }
        m0.Store(max); m1.Store(max + lanes); m2.Store(max + 2 * lanes); m3.Store(max + 3 * lanes);
        if (index == null) return;
        i0.Store(index); i1.Store(index + lanes); i2.Store(index + 2 * lanes); i3.Store(index + 3 * lanes);
    }
}
