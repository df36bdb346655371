using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FastRcnn.Ops;

/// <summary>Out-of-place transpose of a small row-major matrix of 32-bit values (moved as raw bits).</summary>
internal static unsafe class Transpose
{
    /// <summary>dst[c·rows + r] = src[r·cols + c] for a rows×cols source.</summary>
    public static void Block(float* src, int rows, int cols, float* dst)
    {
        int r0 = 0;
        if (Avx.IsSupported)
        {
            for (; r0 + 8 <= rows; r0 += 8)
            {
                int c0 = 0;
                for (; c0 + 8 <= cols; c0 += 8) Tile8x8(src + (long)r0 * cols + c0, cols, dst + (long)c0 * rows + r0, rows);
                for (; c0 < cols; c0++)
                    for (int r = r0; r < r0 + 8; r++) dst[(long)c0 * rows + r] = src[(long)r * cols + c0];
            }
        }
        for (int r = r0; r < rows; r++)
            for (int c = 0; c < cols; c++) dst[(long)c * rows + r] = src[(long)r * cols + c];
    }

    /// <summary>Copies <paramref name="count"/> values with non-temporal stores where aligned, so a large
    /// output that will not be read soon bypasses the caches (no read-for-ownership of its lines).</summary>
    public static void CopyStreaming(float* src, float* dst, long count)
    {
        long i = 0;
        if (Avx.IsSupported)
        {
            for (; i < count && ((long)(dst + i) & 31) != 0; i++) dst[i] = src[i];
            for (; i + 8 <= count; i += 8) Avx.StoreAlignedNonTemporal(dst + i, Avx.LoadVector256(src + i));
            Sse.StoreFence();
        }
        for (; i < count; i++) dst[i] = src[i];
    }

    /// <summary>dst[i] = (short)src[i]: cell indices below 2^15, and -1, survive the narrowing.</summary>
    public static void NarrowToInt16(int* src, short* dst, long count)
    {
        long i = 0;
        int lanes = Vector<int>.Count;
        for (; i + 2 * lanes <= count; i += 2 * lanes)
            Vector.Narrow(Vector.Load(src + i), Vector.Load(src + i + lanes)).Store(dst + i);
        for (; i < count; i++) dst[i] = (short)src[i];
    }

    /// <summary>Transposes the 8×8 tile at src (row stride <paramref name="srcStride"/>) into dst.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile8x8(float* src, int srcStride, float* dst, int dstStride)
    {
        var a0 = Avx.LoadVector256(src);
        var a1 = Avx.LoadVector256(src + srcStride);
        var a2 = Avx.LoadVector256(src + 2 * srcStride);
        var a3 = Avx.LoadVector256(src + 3 * srcStride);
        var a4 = Avx.LoadVector256(src + 4 * srcStride);
        var a5 = Avx.LoadVector256(src + 5 * srcStride);
        var a6 = Avx.LoadVector256(src + 6 * srcStride);
        var a7 = Avx.LoadVector256(src + 7 * srcStride);
        // Interleave pairs of rows, then pairs of pairs, then swap 128-bit halves.
        var b0 = Avx.UnpackLow(a0, a1); var b1 = Avx.UnpackHigh(a0, a1);
        var b2 = Avx.UnpackLow(a2, a3); var b3 = Avx.UnpackHigh(a2, a3);
        var b4 = Avx.UnpackLow(a4, a5); var b5 = Avx.UnpackHigh(a4, a5);
        var b6 = Avx.UnpackLow(a6, a7); var b7 = Avx.UnpackHigh(a6, a7);
        var c0 = Avx.Shuffle(b0, b2, 0x44); var c1 = Avx.Shuffle(b0, b2, 0xEE);
        var c2 = Avx.Shuffle(b1, b3, 0x44); var c3 = Avx.Shuffle(b1, b3, 0xEE);
        var c4 = Avx.Shuffle(b4, b6, 0x44); var c5 = Avx.Shuffle(b4, b6, 0xEE);
        var c6 = Avx.Shuffle(b5, b7, 0x44); var c7 = Avx.Shuffle(b5, b7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(c0, c4, 0x20));
        Avx.Store(dst + dstStride, Avx.Permute2x128(c1, c5, 0x20));
        Avx.Store(dst + 2 * dstStride, Avx.Permute2x128(c2, c6, 0x20));
        Avx.Store(dst + 3 * dstStride, Avx.Permute2x128(c3, c7, 0x20));
        Avx.Store(dst + 4 * dstStride, Avx.Permute2x128(c0, c4, 0x31));
        Avx.Store(dst + 5 * dstStride, Avx.Permute2x128(c1, c5, 0x31));
        Avx.Store(dst + 6 * dstStride, Avx.Permute2x128(c2, c6, 0x31));
        Avx.Store(dst + 7 * dstStride, Avx.Permute2x128(c3, c7, 0x31));
    }
}
