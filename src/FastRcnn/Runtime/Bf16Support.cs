using System.Diagnostics;
using System.Runtime.Intrinsics.X86;
using static TorchSharp.torch;

namespace FastRcnn.Runtime;

/// <summary>
/// Whether this CPU computes bfloat16 natively, detected at run time: the <c>avx512_bf16</c> (AVX-512 BF16 dot
/// products) or <c>amx_bf16</c> (AMX tiles) flags of /proc/cpuinfo — the kernel's view, which includes whether it
/// enabled the AMX state — or, where /proc/cpuinfo cannot be read, the CPUID bits. libtorch's oneDNN and MKL kernels
/// use the same instructions for bfloat16 matrix products; without them bfloat16 is converted to float32 and back
/// around every product, which is slower than float32 alone. Native is not always faster: a CPU may execute its bfloat16
/// dot products at half the rate of its float32 FMAs (measured on an Intel Xeon with avx512_bf16 and no AMX: bfloat16
/// products at about half float32's speed), so <see cref="Precision.Auto"/> also asks <see cref="Pays"/>, a one-time
/// measurement that runs only where <see cref="IsNative"/> holds.
/// </summary>
public static class Bf16Support
{
    /// <summary>
    /// The environment variable that forces the float32 fallback: set to <c>1</c> (or <c>true</c>), <see cref="IsNative"/>
    /// is false whatever the CPU, so <see cref="Precision.Auto"/> runs float32.
    /// </summary>
    public const string ForceFallbackVariable = "FASTRCNN_FORCE_FP32";

    private static readonly Lazy<(bool Avx512, bool Amx)> Detected = new(Detect);
    private static volatile bool _fallbackForced = IsSet(Environment.GetEnvironmentVariable(ForceFallbackVariable));

    /// <summary>The CPU has AVX-512 BF16 (<c>avx512_bf16</c>: <c>vdpbf16ps</c>, bfloat16 dot products into float32).</summary>
    public static bool HasAvx512Bf16 => Detected.Value.Avx512;

    /// <summary>The CPU has AMX BF16 tiles (<c>amx_bf16</c>) and the kernel enabled them.</summary>
    public static bool HasAmxBf16 => Detected.Value.Amx;

    /// <summary>The CPU has bfloat16 instructions (<see cref="HasAvx512Bf16"/> or <see cref="HasAmxBf16"/>), whatever the override says.</summary>
    public static bool CpuHasBf16 => HasAvx512Bf16 || HasAmxBf16;

    /// <summary>
    /// Whether the float32 fallback is forced: <see cref="IsNative"/> is then false on every CPU. Starts from
    /// <see cref="ForceFallbackVariable"/>; set it (process-wide) to test or compare the fallback, or use <see cref="ForceFallback"/>.
    /// </summary>
    public static bool FallbackForced
    {
        get => _fallbackForced;
        set => _fallbackForced = value;
    }

    /// <summary>Whether bfloat16 runs natively here: <see cref="CpuHasBf16"/> and the fallback not forced.</summary>
    public static bool IsNative => CpuHasBf16 && !FallbackForced;

    /// <summary>The speed-up below which <see cref="Pays"/> is false: bfloat16 products must be at least this much faster.</summary>
    public const double MinimumSpeedup = 1.15;

    private static readonly Lazy<double> Measured = new(MeasureSpeedup);

    /// <summary>
    /// How much faster a bfloat16 matrix product of the box head's kind is than the float32 one on this CPU (float32 time /
    /// bfloat16 time; &gt; 1: faster), measured once per process on first use (a 256 × 2048 by 2048 → 1024 product, best of
    /// three after a warm-up, the two types alternating; tens of milliseconds). NaN where the CPU has no bfloat16 instructions:
    /// nothing is measured there.
    /// </summary>
    public static double MeasuredSpeedup => CpuHasBf16 ? Measured.Value : double.NaN;

    /// <summary>
    /// Whether bfloat16 pays here: <see cref="IsNative"/> and <see cref="MeasuredSpeedup"/> at least <see cref="MinimumSpeedup"/>.
    /// What <see cref="Precision.Auto"/> resolves by; false without measuring where bfloat16 is not native or the fallback is forced.
    /// </summary>
    public static bool Pays => IsNative && MeasuredSpeedup >= MinimumSpeedup;

    /// <summary>Forces the float32 fallback until the result is disposed (then restores the previous setting).</summary>
    public static IDisposable ForceFallback()
    {
        bool before = FallbackForced;
        FallbackForced = true;
        return new Restore(() => FallbackForced = before);
    }

    /// <summary>
    /// One line for <c>fastrcnn info</c> and benchmark reports, e.g. <c>native (avx512_bf16)</c>,
    /// <c>not native (no avx512_bf16 or amx_bf16)</c>, <c>fp32 fallback forced (avx512_bf16 present)</c>; with
    /// <paramref name="measure"/>, a native CPU's line adds <see cref="MeasuredSpeedup"/> (measuring it if not yet done).
    /// </summary>
    public static string Describe(bool measure = false)
    {
        string instructions = string.Join(" ", new[] { HasAvx512Bf16 ? "avx512_bf16" : null, HasAmxBf16 ? "amx_bf16" : null }.OfType<string>());
        if (FallbackForced) return CpuHasBf16 ? $"fp32 fallback forced ({instructions} present)" : "fp32 fallback forced (not native anyway)";
        if (!CpuHasBf16) return "not native (no avx512_bf16 or amx_bf16)";
        return measure || Measured.IsValueCreated
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"native ({instructions}), products {MeasuredSpeedup:F2}× fp32's speed")
            : $"native ({instructions})";
    }

    private static double MeasureSpeedup()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var generator = new Generator(0);
        var x = randn([256, 2048], generator: generator);
        var w = randn([1024, 2048], generator: generator);
        var (xLow, wLow) = (x.to_type(ScalarType.BFloat16), w.to_type(ScalarType.BFloat16));
        double Time(Tensor a, Tensor b)
        {
            var clock = Stopwatch.StartNew();
            using (nn.functional.linear(a, b)) { }
            return clock.Elapsed.TotalMilliseconds;
        }
        Time(x, w);
        Time(xLow, wLow);
        double fp32 = double.MaxValue, bf16 = double.MaxValue;
        for (int i = 0; i < 3; i++)
        {
            fp32 = Math.Min(fp32, Time(x, w));
            bf16 = Math.Min(bf16, Time(xLow, wLow));
        }
        return fp32 / bf16;
    }

    private static bool IsSet(string? value) =>
        value is not null && (value.Trim() == "1" || value.Trim().Equals("true", StringComparison.OrdinalIgnoreCase));

    private static (bool Avx512, bool Amx) Detect()
    {
        var features = FastRcnnInfo.CpuFeatures;
        if (features.Count > 0) return (features.Contains("avx512_bf16"), features.Contains("amx_bf16"));
        if (!X86Base.IsSupported || X86Base.CpuId(0, 0).Eax < 7) return (false, false);
        // CPUID leaf 7: sub-leaf 0 EDX bit 22 = AMX-BF16 (EAX: the last sub-leaf); sub-leaf 1 EAX bit 5 = AVX512_BF16.
        var (maxSubLeaf, _, _, edx0) = X86Base.CpuId(7, 0);
        int eax1 = maxSubLeaf >= 1 ? X86Base.CpuId(7, 1).Eax : 0;
        return ((eax1 & (1 << 5)) != 0, (edx0 & (1 << 22)) != 0);
    }

    private sealed class Restore(Action undo) : IDisposable
    {
        public void Dispose() => undo();
    }
}
