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
    /// <remarks>
    /// The kept memory is glibc's heap, which fragments under training's pattern of hundred-megabyte
    /// activations and gradients: measured on VGG16 training at 600×1000, the resident peak grows about
    /// 0.7 GB above the live peak (past PyTorch's), while the page faults saved are ~3 s of CPU per
    /// iteration. <c>fastrcnn train</c> therefore keeps memory for the small backbone only.
    /// </remarks>
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

    /// <summary>
    /// Asks libtorch to back every allocation of 2 MiB or more with transparent huge pages
    /// (<c>THP_MEM_ALLOC_ENABLE=1</c>: 2 MiB alignment and <c>madvise(MADV_HUGEPAGE)</c>), so a fresh
    /// activation faults in 2 MiB pages instead of 4 KiB ones: measured here, filling fresh 300 MB tensors
    /// costs 0.33 s of kernel time per GB instead of 0.54. It only takes effect when called before
    /// libtorch's first allocation (make it the first line of the program) and on Linux kernels whose
    /// <c>transparent_hugepage/enabled</c> is <c>madvise</c> or <c>always</c>. Returns whether the variable was set.
    /// </summary>
    public static bool UseTransparentHugePages()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            return SetEnv("THP_MEM_ALLOC_ENABLE", "1", 1) == 0;   // the C environment libtorch reads, not .NET's copy
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int SetEnv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int Mallopt(int parameter, int value);
}
