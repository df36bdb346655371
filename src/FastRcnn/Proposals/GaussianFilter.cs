using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FastRcnn.Proposals;

/// <summary>
/// Separable Gaussian filtering of float planes (H×W, row-major) with replicated borders:
/// the smoothing of the graph segmentation and the Gaussian derivatives of the texture features.
/// Kernels are full, odd-length arrays k[0..2r] applied as <c>out[x] = Σ_j k[j]·in[x + j − r]</c>.
/// </summary>
internal static class GaussianFilter
{
    /// <summary>
    /// Felzenszwalb–Huttenlocher's smoothing mask: g(i) = exp(−i²/2σ²) for |i| ≤ ⌈4σ⌉, normalised
    /// so the full kernel sums to 1 (σ = 0.8 → 9 taps).
    /// </summary>
    public static float[] Smoothing(float sigma)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sigma);
        int r = (int)MathF.Ceiling(sigma * 4f);
        var k = new float[2 * r + 1];
        double sum = 0;
        for (int i = -r; i <= r; i++) sum += Math.Exp(-0.5 * i * i / (sigma * (double)sigma));
        for (int i = -r; i <= r; i++) k[i + r] = (float)(Math.Exp(-0.5 * i * i / (sigma * (double)sigma)) / sum);
        return k;
    }

    /// <summary>
    /// First derivative of a Gaussian: k(i) ∝ i·exp(−i²/2σ²) for |i| ≤ ⌈3σ⌉, scaled so a unit ramp
    /// (in[x] = x) gives exactly 1 (Σ i·k(i) = 1); positive where the signal increases.
    /// </summary>
    public static float[] Derivative(float sigma)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sigma);
        int r = Math.Max(1, (int)MathF.Ceiling(sigma * 3f));
        var k = new float[2 * r + 1];
        double moment = 0;
        for (int i = -r; i <= r; i++) moment += i * (i * Math.Exp(-0.5 * i * i / (sigma * (double)sigma)));
        for (int i = -r; i <= r; i++) k[i + r] = (float)(i * Math.Exp(-0.5 * i * i / (sigma * (double)sigma)) / moment);
        return k;
    }

    /// <summary>dst = ky ∗ (kx ∗ src) (rows with kx, then columns with ky); tmp holds H·W floats.</summary>
    public static void Separable(ReadOnlySpan<float> src, Span<float> dst, Span<float> tmp, int width, int height, float[] kx, float[] ky)
    {
        int n = width * height;
        if (src.Length < n || dst.Length < n || tmp.Length < n) throw new ArgumentException("Planes are smaller than H·W.");
        int rx = kx.Length / 2;
        var pad = new float[width + 2 * rx];
        for (int y = 0; y < height; y++)
            Horizontal(src.Slice(y * width, width), tmp.Slice(y * width, width), pad, kx);
        Vertical(tmp, dst, width, height, ky);
    }

    private static void Horizontal(ReadOnlySpan<float> row, Span<float> outRow, float[] pad, float[] k)
    {
        int w = row.Length, r = k.Length / 2;
        for (int i = 0; i < r; i++)
        {
            pad[i] = row[0];
            pad[r + w + i] = row[w - 1];
        }
        row.CopyTo(pad.AsSpan(r));
        ref float p = ref MemoryMarshal.GetArrayDataReference(pad);
        ref float o = ref MemoryMarshal.GetReference(outRow);
        int x = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; x <= w - Vector<float>.Count; x += Vector<float>.Count)
            {
                var acc = Vector<float>.Zero;
                for (int j = 0; j < k.Length; j++)
                    acc += new Vector<float>(k[j]) * Vector.LoadUnsafe(ref Unsafe.Add(ref p, x + j));
                acc.StoreUnsafe(ref Unsafe.Add(ref o, x));
            }
        }
        for (; x < w; x++)
        {
            float acc = 0;
            for (int j = 0; j < k.Length; j++) acc += k[j] * Unsafe.Add(ref p, x + j);
            Unsafe.Add(ref o, x) = acc;
        }
    }

    private static void Vertical(ReadOnlySpan<float> src, Span<float> dst, int w, int h, float[] k)
    {
        int r = k.Length / 2;
        ref float s = ref MemoryMarshal.GetReference(src);
        for (int y = 0; y < h; y++)
        {
            ref float o = ref MemoryMarshal.GetReference(dst.Slice(y * w, w));
            int x = 0;
            if (Vector.IsHardwareAccelerated)
            {
                for (; x <= w - Vector<float>.Count; x += Vector<float>.Count)
                {
                    var acc = Vector<float>.Zero;
                    for (int j = 0; j < k.Length; j++)
                    {
                        int yy = Math.Clamp(y + j - r, 0, h - 1);
                        acc += new Vector<float>(k[j]) * Vector.LoadUnsafe(ref Unsafe.Add(ref s, yy * w + x));
                    }
                    acc.StoreUnsafe(ref Unsafe.Add(ref o, x));
                }
            }
            for (; x < w; x++)
            {
                float acc = 0;
                for (int j = 0; j < k.Length; j++)
                    acc += k[j] * Unsafe.Add(ref s, Math.Clamp(y + j - r, 0, h - 1) * w + x);
                Unsafe.Add(ref o, x) = acc;
            }
        }
    }
}
