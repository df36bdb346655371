using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Ops;

/// <summary>
/// Tensor arithmetic with numbers that keeps its TorchSharp <see cref="Scalar"/>s alive until the native
/// call has returned, and cached Scalars for the common constants.
/// </summary>
/// <remarks>
/// <para>
/// TorchSharp 0.107's <see cref="Scalar"/> is a class owning a native value that its finalizer frees. When a
/// number becomes a Scalar on the fly — <c>t * 0.5</c>, <c>t.clamp(0, 255)</c>, <c>a + b</c> (which is
/// <c>a.add(b, 1)</c> inside TorchSharp), <c>x.mul(2.0.ToScalar())</c> — only the Scalar's handle is passed to
/// libtorch, and nothing keeps the managed object reachable during the call. If another thread triggers a GC
/// meanwhile (the trainer's prefetch thread, parallel tests, a progress renderer), the finalizer thread can free
/// the value while libtorch reads it: random "Unknown scalar type" or "Expected false to be true ... Scalar.h"
/// failures. A local variable is not enough (the JIT may treat it as dead after its last read); a
/// <c>using</c> declaration (its Dispose is a later use) or a static field is.
/// </para>
/// <para>
/// The analyzer in src/FastRcnn.Analyzers rejects the unsafe forms (FR0001: a Scalar created anywhere but in a
/// <c>using</c> or a static field; FR0002: a TorchSharp API that creates one internally). Use these helpers
/// instead of the operators with numbers, or a <c>using var s = value.ToScalar();</c> where one Scalar serves
/// several calls. Each helper calls the same TorchSharp method the operator calls, with a Scalar of the same
/// kind (an integer stays an integer Scalar, so integer tensors keep their dtype), so results are unchanged.
/// Tensor − tensor, tensor × tensor and tensor ÷ tensor are safe as operators; tensor + tensor is not.
/// </para>
/// </remarks>
public static class SafeScalars
{
    /// <summary>The integer 0.</summary>
    public static readonly Scalar Zero = 0.ToScalar();

    /// <summary>The integer 1 (the <c>alpha</c> of a plain addition).</summary>
    public static readonly Scalar One = 1.ToScalar();

    /// <summary>The integer 2 (the exponent of <see cref="Square"/>).</summary>
    public static readonly Scalar Two = 2.ToScalar();

    /// <summary>The boolean true.</summary>
    public static readonly Scalar True = true.ToScalar();

    /// <summary><c>a + b</c> (TorchSharp's <c>a.add(b)</c> with its alpha kept alive).</summary>
    public static Tensor Add(this Tensor a, Tensor b) => a.add(b, One);

    /// <summary>In-place <c>a += b</c>.</summary>
    public static Tensor Add_(this Tensor a, Tensor b) => a.add_(b, One);

    /// <summary><c>t + value</c>.</summary>
    public static Tensor Add(this Tensor t, double value) => With(value, s => t.add(s, One));

    /// <summary><c>t + value</c>, an integer (integer tensors stay integer).</summary>
    public static Tensor Add(this Tensor t, long value) => With(value, s => t.add(s, One));

    /// <summary>In-place <c>t += value</c>.</summary>
    public static Tensor Add_(this Tensor t, double value) => With(value, s => t.add_(s, One));

    /// <summary>In-place <c>t += value</c>, an integer.</summary>
    public static Tensor Add_(this Tensor t, long value) => With(value, s => t.add_(s, One));

    /// <summary><c>t − value</c>.</summary>
    public static Tensor Sub(this Tensor t, double value) => With(value, t.sub);

    /// <summary><c>t − value</c>, an integer.</summary>
    public static Tensor Sub(this Tensor t, long value) => With(value, t.sub);

    /// <summary><c>value − t</c> (as TorchSharp's operator: <c>−t + value</c>).</summary>
    public static Tensor RSub(this Tensor t, double value) => With(value, s => t.negative().add(s, One));

    /// <summary><c>t × value</c>.</summary>
    public static Tensor Mul(this Tensor t, double value) => With(value, t.mul);

    /// <summary><c>t × value</c>, an integer.</summary>
    public static Tensor Mul(this Tensor t, long value) => With(value, t.mul);

    /// <summary>In-place <c>t ×= value</c>.</summary>
    public static Tensor Mul_(this Tensor t, double value) => With(value, t.mul_);

    /// <summary>In-place <c>t ×= value</c>, an integer.</summary>
    public static Tensor Mul_(this Tensor t, long value) => With(value, t.mul_);

    /// <summary><c>t ÷ value</c> (true division).</summary>
    public static Tensor Div(this Tensor t, double value) => With(value, s => t.div(s));

    /// <summary><c>t ÷ value</c>, an integer (true division: integer tensors give floating point).</summary>
    public static Tensor Div(this Tensor t, long value) => With(value, s => t.div(s));

    /// <summary>In-place <c>t ÷= value</c>.</summary>
    public static Tensor Div_(this Tensor t, double value) => With(value, s => t.div_(s));

    /// <summary>In-place <c>t ÷= value</c>, an integer (true division).</summary>
    public static Tensor Div_(this Tensor t, long value) => With(value, s => t.div_(s));

    /// <summary><c>t mod value</c> (Python's remainder, like the <c>%</c> operator).</summary>
    public static Tensor Remainder(this Tensor t, long value) => With(value, t.remainder);

    /// <summary><c>t²</c> (TorchSharp's <c>square()</c>, i.e. <c>pow(2)</c>, with its exponent kept alive).</summary>
    public static Tensor Square(this Tensor t) => t.pow(Two);

    /// <summary><c>t</c> clamped to [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static Tensor Clamp(this Tensor t, double min, double max) => With(min, lo => With(max, hi => t.clamp(lo, hi)));

    /// <summary><c>t</c> clamped to [<paramref name="min"/>, <paramref name="max"/>], integers.</summary>
    public static Tensor Clamp(this Tensor t, long min, long max) => With(min, lo => With(max, hi => t.clamp(lo, hi)));

    /// <summary><c>t</c> clamped below at <paramref name="min"/>.</summary>
    public static Tensor ClampMin(this Tensor t, double min) => With(min, t.clamp_min);

    /// <summary><c>t</c> clamped above at <paramref name="max"/>.</summary>
    public static Tensor ClampMax(this Tensor t, double max) => With(max, t.clamp_max);

    /// <summary><c>t</c> clamped above at <paramref name="max"/>, an integer.</summary>
    public static Tensor ClampMax(this Tensor t, long max) => With(max, t.clamp_max);

    /// <summary><c>t == value</c>, elementwise.</summary>
    public static Tensor Eq(this Tensor t, double value) => With(value, t.eq);

    /// <summary><c>t == value</c>, elementwise, an integer.</summary>
    public static Tensor Eq(this Tensor t, long value) => With(value, t.eq);

    /// <summary><c>t ≥ value</c>, elementwise.</summary>
    public static Tensor Ge(this Tensor t, double value) => With(value, t.ge);

    /// <summary><c>t &gt; value</c>, elementwise, an integer.</summary>
    public static Tensor Gt(this Tensor t, long value) => With(value, t.gt);

    /// <summary><c>t &lt; value</c>, elementwise.</summary>
    public static Tensor Lt(this Tensor t, double value) => With(value, t.lt);

    /// <summary>Fills <c>t</c> with <paramref name="value"/> in place.</summary>
    public static Tensor Fill_(this Tensor t, double value) => With(value, t.fill_);

    /// <summary>Fills <c>t</c> with the integer <paramref name="value"/> in place.</summary>
    public static Tensor Fill_(this Tensor t, long value) => With(value, t.fill_);

    /// <summary><c>torch.full(size, value, dtype)</c>.</summary>
    public static Tensor Full(long[] size, double value, ScalarType? dtype = null) => With(value, s => full(size, s, dtype));

    /// <summary><c>torch.full(size, value, dtype)</c> with an integer value (an int64 tensor unless <paramref name="dtype"/> says otherwise).</summary>
    public static Tensor Full(long[] size, long value, ScalarType? dtype = null) => With(value, s => full(size, s, dtype));

    /// <summary><c>torch.arange(stop)</c>: 0, 1, …, stop − 1 (int64 unless <paramref name="dtype"/> says otherwise).</summary>
    public static Tensor Arange(long stop, ScalarType? dtype = null, Device? device = null) =>
        With(stop, s => arange(Zero, s, One, dtype, device));

    // The using keeps the Scalar reachable until the call has returned.
    private static Tensor With(double value, Func<Scalar, Tensor> call)
    {
        using var s = value.ToScalar();
        return call(s);
    }

    private static Tensor With(long value, Func<Scalar, Tensor> call)
    {
        using var s = value.ToScalar();
        return call(s);
    }
}
