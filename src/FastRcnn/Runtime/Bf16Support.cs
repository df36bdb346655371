using System.Runtime.Intrinsics.X86;

namespace FastRcnn.Runtime;

/// <summary>
/// Whether this CPU computes bfloat16 natively, detected at run time: the <c>avx512_bf16</c> (AVX-512 BF16 dot
/// products) or <c>amx_bf16</c> (AMX tiles) flags of /proc/cpuinfo — the kernel's view, which includes whether it
/// enabled the AMX state — or, where /proc/cpuinfo cannot be read, the CPUID bits. libtorch's oneDNN and MKL kernels
/// use the same instructions for bfloat16 matrix products; without them bfloat16 is converted to float32 and back
/// around every product, which is slower than float32 alone. <see cref="Precision.Auto"/> reads <see cref="IsNative"/>.
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

    /// <summary>Forces the float32 fallback until the result is disposed (then restores the previous setting).</summary>
    public static IDisposable ForceFallback()
    {
        bool before = FallbackForced;
        FallbackForced = true;
        return new Restore(() => FallbackForced = before);
    }

    /// <summary>
    /// One line for <c>fastrcnn info</c> and benchmark reports, e.g. <c>native (avx512_bf16)</c>,
    /// <c>not native (no avx512_bf16 or amx_bf16)</c>, <c>fp32 fallback forced (avx512_bf16 present)</c>.
    /// </summary>
    public static string Describe()
    {
        string instructions = string.Join(" ", new[] { HasAvx512Bf16 ? "avx512_bf16" : null, HasAmxBf16 ? "amx_bf16" : null }.OfType<string>());
        if (FallbackForced) return CpuHasBf16 ? $"fp32 fallback forced ({instructions} present)" : "fp32 fallback forced (not native anyway)";
        return CpuHasBf16 ? $"native ({instructions})" : "not native (no avx512_bf16 or amx_bf16)";
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
