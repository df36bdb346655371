using System.Runtime.InteropServices;
using FastRcnn.Ops;
using TorchSharp;

namespace FastRcnn.Runtime;

/// <summary>Process-wide CPU settings: thread counts and how freed native memory is kept.</summary>
public static class CpuRuntime
{
    private const int MallocTrimThreshold = -1, MallocMmapMax = -4; // glibc's mallopt parameters
    private const int GlibcDefaultMmapMax = 65536;

    /// <summary>Threads for libtorch's intra-op work and for this library's own kernels.</summary>
    public static void SetThreads(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        torch.set_num_threads(threads);
        Parallelism.Threads = threads;
    }

    /// <summary>
    /// Keep freed native memory in the process for reuse (glibc only; a no-op elsewhere). By default
    /// glibc maps every allocation above 32 MiB afresh and returns it on free, so each large tensor —
    /// a VGG16 conv activation, 2000 pooled RoIs — pays for its pages again, which on a VM costs more
    /// than filling them. Retaining memory works like PyTorch's caching allocator on the GPU: the
    /// process keeps its peak footprint. Returns whether the setting took effect.
    /// </summary>
    public static bool RetainFreedMemory(bool enable)
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            return enable
                ? Mallopt(MallocMmapMax, 0) == 1 && Mallopt(MallocTrimThreshold, int.MaxValue) == 1
                : Mallopt(MallocMmapMax, GlibcDefaultMmapMax) == 1 && Mallopt(MallocTrimThreshold, 128 * 1024) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false; // not glibc (e.g. musl): keep the defaults
        }
    }

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int Mallopt(int parameter, int value);
}
