using System.Numerics;
using static TorchSharp.torch;

namespace FastRcnn.Ops;

/// <summary>
/// The CPU kernels behind <see cref="RoiPool"/>. The forward reads the features channels-last
/// (N, H, W, C) so that one cell's C channels are contiguous and the bin maximum is taken for
/// Vector&lt;float&gt;.Count channels at once; RoIs are split across threads. The backward
/// scatters into the channels-first gradient; channels are split across threads, so no two
/// threads ever add into the same cell, and each cell sums its contributions in (RoI, bin) order.
/// </summary>
internal static unsafe class RoiPoolKernel
{
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

    public static void Forward(Tensor channelsLast, Tensor rois, int c, int h, int w, int ph, int pw,
        float scale, Tensor output, Tensor argmax)
    {
        float* features = TensorMemory.Pointer<float>(channelsLast);
        float* roi = TensorMemory.Pointer<float>(rois);
        float* outp = TensorMemory.Pointer<float>(output);
        int* argp = TensorMemory.Pointer<int>(argmax);
        int r = (int)rois.shape[0];
        int bins = ph * pw;
        const int chunk = 4;
        Parallel.For(0, (r + chunk - 1) / chunk, Parallelism.Options,
            () => new Workspace(bins * c, ph, pw),
            (block, _, ws) =>
            {
                for (int i = block * chunk, last = Math.Min(r, i + chunk); i < last; i++)
                {
                    float* row = roi + 5L * i;
                    BinEdges(row[1], row[3], scale, pw, w, ws.WStart, ws.WEnd);
                    BinEdges(row[2], row[4], scale, ph, h, ws.HStart, ws.HEnd);
                    float* image = features + (long)row[0] * h * w * c;
                    fixed (float* max = ws.Max)
                    fixed (int* index = ws.Index)
                    {
                        // Pool every bin channels-last into the workspace, then transpose it into
                        // this RoI's (C, PH·PW) block of the output with sequential writes.
                        for (int y = 0; y < ph; y++)
                            for (int x = 0; x < pw; x++)
                            {
                                int j = y * pw + x;
                                PoolBin(image, w, c, ws.HStart[y], ws.HEnd[y], ws.WStart[x], ws.WEnd[x], max + (long)j * c, index + (long)j * c);
                            }
                        long outBase = (long)i * c * bins;
                        Transpose.Block(max, bins, c, outp + outBase);
                        Transpose.Block((float*)index, bins, c, (float*)(argp + outBase));
                    }
                }
                return ws;
            },
            _ => { });
    }

    /// <summary>Per-thread scratch: one RoI's pooled values and argmax, channels-last, and its bin edges.</summary>
    private sealed class Workspace(int size, int ph, int pw)
    {
        public readonly float[] Max = GC.AllocateUninitializedArray<float>(size, pinned: true);
        public readonly int[] Index = GC.AllocateUninitializedArray<int>(size, pinned: true);
        public readonly int[] HStart = new int[ph], HEnd = new int[ph], WStart = new int[pw], WEnd = new int[pw];
    }

    /// <summary>Max over one bin for all C channels, written contiguously to max[0..C) and index[0..C).</summary>
    private static void PoolBin(float* image, int w, int c, int h0, int h1, int w0, int w1, float* max, int* index)
    {
        if (h1 <= h0 || w1 <= w0)
        {
            new Span<float>(max, c).Clear();
            new Span<int>(index, c).Fill(-1);
            return;
        }
        int lanes = Vector<float>.Count;
        int k0 = 0;
        // Four vectors of channels at a time: each cell's 4·lanes channels are one short contiguous
        // read, and the running maxima stay in registers across the bin's cells.
        for (; k0 + 4 * lanes <= c; k0 += 4 * lanes)
        {
            Vector<float> m0 = new(-float.MaxValue), m1 = m0, m2 = m0, m3 = m0;
            Vector<int> i0 = new(-1), i1 = i0, i2 = i0, i3 = i0;
            for (int y = h0; y < h1; y++)
            {
                float* cell = image + ((long)y * w + w0) * c + k0;
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
            m0.Store(max + k0); m1.Store(max + k0 + lanes); m2.Store(max + k0 + 2 * lanes); m3.Store(max + k0 + 3 * lanes);
            i0.Store(index + k0); i1.Store(index + k0 + lanes); i2.Store(index + k0 + 2 * lanes); i3.Store(index + k0 + 3 * lanes);
        }
        for (; k0 + lanes <= c; k0 += lanes)
        {
            var best = new Vector<float>(-float.MaxValue);
            var bestIndex = new Vector<int>(-1);
            for (int y = h0; y < h1; y++)
            {
                float* cell = image + ((long)y * w + w0) * c + k0;
                for (int x = w0; x < w1; x++, cell += c)
                {
                    var v = Vector.Load(cell);
                    var greater = Vector.GreaterThan(v, best);
                    best = Vector.ConditionalSelect(greater, v, best);
                    bestIndex = Vector.ConditionalSelect(greater, new Vector<int>(y * w + x), bestIndex);
                }
            }
            best.Store(max + k0);
            bestIndex.Store(index + k0);
        }
        for (int k = k0; k < c; k++)
        {
            float best = -float.MaxValue;
            int bestIndex = -1;
            for (int y = h0; y < h1; y++)
                for (int x = w0; x < w1; x++)
                {
                    float v = image[((long)y * w + x) * c + k];
                    if (v > best) { best = v; bestIndex = y * w + x; }
                }
            max[k] = best;
            index[k] = bestIndex;
        }
    }

    public static void Backward(Tensor gradOutput, Tensor argmax, Tensor batchIndex, Tensor gradInput)
    {
        float* g = TensorMemory.Pointer<float>(gradOutput);
        int* a = TensorMemory.Pointer<int>(argmax);
        int* b = TensorMemory.Pointer<int>(batchIndex);
        float* gi = TensorMemory.Pointer<float>(gradInput);
        int r = (int)argmax.shape[0], c = (int)argmax.shape[1];
        int bins = (int)(argmax.shape[2] * argmax.shape[3]);
        long plane = gradInput.shape[2] * gradInput.shape[3];
        int channelBlock = Math.Max(1, c / (4 * Parallelism.Options.MaxDegreeOfParallelism));
        Parallel.For(0, (c + channelBlock - 1) / channelBlock, Parallelism.Options, block =>
        {
            int k0 = block * channelBlock, k1 = Math.Min(c, k0 + channelBlock);
            for (int i = 0; i < r; i++)
            {
                float* imageGrad = gi + (long)b[i] * c * plane;
                long rowBase = ((long)i * c + k0) * bins;
                float* go = g + rowBase;
                int* am = a + rowBase;
                for (int k = k0; k < k1; k++, go += bins, am += bins)
                {
                    float* channelGrad = imageGrad + k * plane;
                    for (int j = 0; j < bins; j++)
                    {
                        int index = am[j];
                        if (index >= 0) channelGrad[index] += go[j];
                    }
                }
            }
        });
    }
}
