using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Ops;

/// <summary>
/// Greedy non-maximum suppression, bit-for-bit the same as torchvision 0.14's CPU
/// <c>torchvision.ops.nms</c> kernel. Shape shorthand: R boxes.
/// </summary>
/// <remarks>
/// Candidates are visited in a stable descending sort of the scores (equal scores: lower index
/// first). A kept box i suppresses every later box j whose float32 IoU, computed exactly as the
/// reference kernel does (<c>areas = (x2−x1)·(y2−y1)</c>; <c>w = max(0, min(x2)−max(x1))</c>,
/// likewise h; <c>inter = w·h</c>; <c>ovr = inter / (area_i + area_j − inter)</c>), is strictly
/// greater than the threshold. The sweep over later boxes is SIMD (<see cref="Vector{T}"/>) with
/// the same IEEE operations lane-wise (no FMA, no reciprocal), so keep lists match exactly,
/// ties included. Boxes are computed in float32 (other dtypes are converted); CPU tensors only.
/// </remarks>
public static class Nms
{
    /// <summary>
    /// Greedy NMS of <paramref name="boxes"/> (R,4) with <paramref name="scores"/> (R):
    /// int64 indices of the kept boxes in decreasing score order (ties: lower index first).
    /// </summary>
    public static Tensor Greedy(Tensor boxes, Tensor scores, double iouThreshold)
    {
        CheckInputs(boxes, scores);
        using var scope = NewDisposeScope();
        var order = scores.sort(0, descending: true, stable: true).Indices;
        var keep = Run(boxes, order, Array.Empty<long>(), iouThreshold);
        return keep.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Per-class greedy NMS: boxes (R,4) with different <paramref name="classIdx"/> (R, integer)
    /// never suppress each other; each class is suppressed exactly like <see cref="Greedy"/>.
    /// Returns int64 indices of the kept boxes sorted by decreasing score (ties: lower index first).
    /// </summary>
    public static Tensor Batched(Tensor boxes, Tensor scores, Tensor classIdx, double iouThreshold)
    {
        CheckInputs(boxes, scores);
        if (classIdx.dim() != 1 || classIdx.shape[0] != boxes.shape[0])
            throw new ArgumentException(
                $"classIdx must have shape ({boxes.shape[0]}), got {BoxOps.ShapeText(classIdx)}.", nameof(classIdx));
        using var scope = NewDisposeScope();
        var order = scores.sort(0, descending: true, stable: true).Indices;
        // Stable sort by class of the score order: each class becomes one contiguous segment that
        // is still in (score desc, index asc) order, i.e. exactly the order per-class NMS visits.
        var (classes, byClass) = classIdx.to_type(ScalarType.Int64).index_select(0, order).sort(0, stable: true);
        var perm = order.index_select(0, byClass);
        var keep = Run(boxes, perm, classes.data<long>().ToArray(), iouThreshold);
        // The final ordering: the global score order restricted to the kept boxes.
        var kept = zeros(boxes.shape[0], ScalarType.Bool);
        kept.index_fill_(0, keep, SafeScalars.True);
        var result = order.masked_select(kept.index_select(0, order));
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Runs NMS over <paramref name="perm"/> (visit order, int64): segments of equal
    /// <paramref name="segmentKeys"/> (or one segment when empty) are independent.
    /// Returns the kept original indices in visit order.
    /// </summary>
    private static Tensor Run(Tensor boxes, Tensor perm, long[] segmentKeys, double iouThreshold)
    {
        int n = checked((int)boxes.shape[0]);
        long[] permArr = perm.data<long>().ToArray();
        var soa = new float[4 * n];
        if (n > 0)
        {
            var sorted = boxes.to_type(ScalarType.Float32).index_select(0, perm).t().contiguous(); // (4,R)
            sorted.data<float>().CopyTo(soa);
        }
        var suppressed = SuppressInOrder(soa, n, segmentKeys, iouThreshold);
        var keep = new List<long>();
        for (int p = 0; p < n; p++)
            if (suppressed[p] == 0) keep.Add(permArr[p]);
        return tensor(keep.ToArray(), ScalarType.Int64);
    }

    /// <summary>
    /// Greedy suppression of <paramref name="n"/> boxes already in visit order, laid out as
    /// <paramref name="soa"/> = all x1, then all y1, all x2, all y2: segments of equal
    /// <paramref name="segmentKeys"/> (or one segment when empty) are independent. Returns a flag per
    /// position, 0 where the box is kept.
    /// </summary>
    internal static int[] SuppressInOrder(float[] soa, int n, ReadOnlySpan<long> segmentKeys, double iouThreshold)
    {
        var area = new float[n];
        for (int p = 0; p < n; p++)
            area[p] = (soa[2 * n + p] - soa[p]) * (soa[3 * n + p] - soa[n + p]);   // as torchvision: (x2-x1)*(y2-y1)
        var suppressed = new int[n];
        float thr = FloatThresholdBelow(iouThreshold);
        int start = 0;
        while (start < n)
        {
            int end = start + 1;
            if (segmentKeys.Length > 0)
                while (end < n && segmentKeys[end] == segmentKeys[start]) end++;
            else
                end = n;
            Suppress(soa, area, n, start, end, thr, suppressed);
            start = end;
        }
        return suppressed;
    }

    /// <summary>
    /// The largest float32 not above <paramref name="t"/> (t itself when t is a float32), so that for
    /// every float x, <c>x &gt; t</c> compared in double (as the C++ kernel compares its float IoU with
    /// its double threshold) ⇔ <c>x &gt; result</c> compared in float. NaN stays NaN (nothing suppressed).
    /// </summary>
    internal static float FloatThresholdBelow(double t)
    {
        float f = (float)t;
        return (double)f > t ? MathF.BitDecrement(f) : f;
    }

    /// <summary>Greedy suppression over sorted positions [start, end) of the SoA boxes.</summary>
    private static void Suppress(float[] soa, float[] area, int n, int start, int end, float thr, int[] suppressed)
    {
        var x1 = soa.AsSpan(0, n);
        var y1 = soa.AsSpan(n, n);
        var x2 = soa.AsSpan(2 * n, n);
        var y2 = soa.AsSpan(3 * n, n);

        ref float rx1 = ref MemoryMarshal.GetReference(x1);
        ref float ry1 = ref MemoryMarshal.GetReference(y1);
        ref float rx2 = ref MemoryMarshal.GetReference(x2);
        ref float ry2 = ref MemoryMarshal.GetReference(y2);
        ref float rar = ref MemoryMarshal.GetArrayDataReference(area);
        ref int rsup = ref MemoryMarshal.GetArrayDataReference(suppressed);
        int lanes = Vector<float>.Count;
        var zero = Vector<float>.Zero;
        var thrV = new Vector<float>(thr);

        for (int i = start; i < end; i++)
        {
            if (suppressed[i] != 0)
                continue;
            float ix1 = x1[i], iy1 = y1[i], ix2 = x2[i], iy2 = y2[i], iarea = area[i];
            var vx1 = new Vector<float>(ix1);
            var vy1 = new Vector<float>(iy1);
            var vx2 = new Vector<float>(ix2);
            var vy2 = new Vector<float>(iy2);
            var varea = new Vector<float>(iarea);
            int j = i + 1;
            if (Vector.IsHardwareAccelerated)
            {
                for (; j + lanes <= end; j += lanes)
                {
                    nuint o = (nuint)j;
                    var xx1 = StdMax(vx1, Vector.LoadUnsafe(ref rx1, o));
                    var yy1 = StdMax(vy1, Vector.LoadUnsafe(ref ry1, o));
                    var xx2 = StdMin(vx2, Vector.LoadUnsafe(ref rx2, o));
                    var yy2 = StdMin(vy2, Vector.LoadUnsafe(ref ry2, o));
                    var w = StdMax(zero, xx2 - xx1);
                    var h = StdMax(zero, yy2 - yy1);
                    var inter = w * h;
                    var ovr = inter / (varea + Vector.LoadUnsafe(ref rar, o) - inter);
                    var hit = Vector.GreaterThan(ovr, thrV);
                    ref int s = ref Unsafe.Add(ref rsup, j);
                    Vector.StoreUnsafe(Vector.LoadUnsafe(ref s) | hit, ref s);
                }
            }
            for (; j < end; j++)
            {
                float xx1 = ix1 < x1[j] ? x1[j] : ix1;      // std::max(ix1, x1[j])
                float yy1 = iy1 < y1[j] ? y1[j] : iy1;
                float xx2 = x2[j] < ix2 ? x2[j] : ix2;      // std::min(ix2, x2[j])
                float yy2 = y2[j] < iy2 ? y2[j] : iy2;
                float dw = xx2 - xx1, dh = yy2 - yy1;
                float w = 0f < dw ? dw : 0f;                // std::max(0, xx2 - xx1)
                float h = 0f < dh ? dh : 0f;
                float inter = w * h;
                float ovr = inter / (iarea + area[j] - inter);
                if (ovr > thr)
                    suppressed[j] = -1;
            }
        }
    }

    /// <summary>Lane-wise <c>std::max(a, b)</c>, i.e. <c>a &lt; b ? b : a</c> (same NaN/±0 behaviour).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> StdMax(Vector<float> a, Vector<float> b)
    {
        // maxps(x, y) = x > y ? x : y, so std::max(a, b) = maxps(b, a) (NaN/±0 included).
        if (Avx.IsSupported && Vector<float>.Count == 8)
            return Avx.Max(b.AsVector256(), a.AsVector256()).AsVector();
        return Vector.ConditionalSelect(Vector.LessThan(a, b), b, a);
    }

    /// <summary>Lane-wise <c>std::min(a, b)</c>, i.e. <c>b &lt; a ? b : a</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> StdMin(Vector<float> a, Vector<float> b)
    {
        // minps(x, y) = x < y ? x : y, so std::min(a, b) = minps(b, a).
        if (Avx.IsSupported && Vector<float>.Count == 8)
            return Avx.Min(b.AsVector256(), a.AsVector256()).AsVector();
        return Vector.ConditionalSelect(Vector.LessThan(b, a), b, a);
    }

    private static void CheckInputs(Tensor boxes, Tensor scores)
    {
        BoxOps.CheckBoxes(boxes, nameof(boxes));
        if (scores.dim() != 1 || scores.shape[0] != boxes.shape[0])
            throw new ArgumentException(
                $"scores must have shape ({boxes.shape[0]}), got {BoxOps.ShapeText(scores)}.", nameof(scores));
        if (boxes.device_type != DeviceType.CPU || scores.device_type != DeviceType.CPU)
            throw new ArgumentException("Nms runs on CPU tensors only.");
    }
}
