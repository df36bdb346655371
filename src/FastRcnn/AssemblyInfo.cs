using System.Reflection;
using TorchSharp;

namespace FastRcnn;

/// <summary>
/// Library-wide facts: this library's version, the TorchSharp and libtorch it runs on, and the CPU
/// (<c>fastrcnn info</c> prints them).
/// </summary>
public static class FastRcnnInfo
{
    /// <summary>The instruction-set extensions <see cref="CpuFeatures"/> reports when the CPU has them (the names of /proc/cpuinfo's flags).</summary>
    public static IReadOnlyList<string> ReportedCpuFeatures { get; } =
        ["sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "avx512_fp16",
         "avx_vnni", "amx_tile", "amx_int8", "amx_bf16", "amx_fp16", "asimd", "sve", "sve2", "bf16", "i8mm"];

    /// <summary>The library's version, as the package is versioned (e.g. <c>0.1.0</c>, with <c>+commit</c> when built from git).</summary>
    public static string Version =>
        typeof(FastRcnnInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(FastRcnnInfo).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    /// <summary>The version of the TorchSharp assembly in use.</summary>
    public static string TorchSharpVersion => typeof(torch).Assembly.GetName().Version?.ToString() ?? "?";

    /// <summary>The version of the native libtorch TorchSharp loaded (loads it on first use).</summary>
    public static string LibTorchVersion => torch.__version__;

    /// <summary>The CPU's model name (Linux: /proc/cpuinfo), or null where it cannot be read.</summary>
    public static string? CpuModel => CpuInfoField("model name") ?? CpuInfoField("Model name");

    /// <summary>
    /// The extensions of <see cref="ReportedCpuFeatures"/> this CPU has (Linux: the flags of /proc/cpuinfo), in that
    /// order; empty where /proc/cpuinfo cannot be read. libtorch picks its kernels (AVX2, AVX-512, AMX) from the same.
    /// </summary>
    public static IReadOnlyList<string> CpuFeatures
    {
        get
        {
            string? flags = CpuInfoField("flags") ?? CpuInfoField("Features");
            if (flags is null) return [];
            var present = flags.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
            return ReportedCpuFeatures.Where(present.Contains).ToArray();
        }
    }

    /// <summary>The value of the first "<paramref name="name"/> : value" line of /proc/cpuinfo, or null.</summary>
    private static string? CpuInfoField(string name)
    {
        try
        {
            if (!File.Exists("/proc/cpuinfo")) return null;
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
            {
                int colon = line.IndexOf(':');
                if (colon > 0 && line.AsSpan(0, colon).Trim().SequenceEqual(name))
                    return line[(colon + 1)..].Trim();
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No readable /proc/cpuinfo: nothing to report.
        }
        return null;
    }
}
