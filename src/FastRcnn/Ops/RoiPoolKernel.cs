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
        const int chunk = 8;
        Parallel.For(0, (r + chunk - 1) / chunk, Parallelism.Options, block =>
        {
            Span<int> hs = stackalloc int[ph], he = stackalloc int[ph], ws = stackalloc int[pw], we = stackalloc int[pw];
            for (int i = block * chunk, last = Math.Min(r, i + chunk); i < last; i++)
            {
                float* row = roi + 5L * i;
                BinEdges(row[1], row[3], scale, pw, w, ws, we);
                BinEdges(row[2], row[4], scale, ph, h, hs, he);
                float* image = features + (long)row[0] * h * w * c;
                long outBase = (long)i * c * ph * pw;
                for (int y = 0; y < ph; y++)
                    for (int x = 0; x < pw; x++)
                        PoolBin(image, w, c, hs[y], he[y], ws[x], we[x], outp + outBase + y * pw + x,
                            argp + outBase + y * pw + x, ph * pw);
            }
        });
    }

    /// <summary>Max over one bin for all channels; writes channel k's result at out[k·stride].</summary>
    private static void PoolBin(float* image, int w, int c, int h0, int h1, int w0, int w1,
        float* outp, int* argp, int stride)
    {
        if (h1 <= h0 || w1 <= w0)
        {
            for (int k = 0; k < c; k++) { outp[(long)k * stride] = 0; argp[(long)k * stride] = -1; }
            return;
        }
        int lanes = Vector<float>.Count;
        int k0 = 0;
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
            for (int l = 0; l < lanes; l++)
            {
                outp[(long)(k0 + l) * stride] = best[l];
                argp[(long)(k0 + l) * stride] = bestIndex[l];
            }
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
            outp[(long)k * stride] = best;
            argp[(long)k * stride] = bestIndex;
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
