using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Ops;

/// <summary>Raw access to the storage of contiguous CPU tensors, for the hand-written kernels.</summary>
internal static unsafe class TensorMemory
{
    private const long HugePage = 2 << 20;
    private const int MadvHugePage = 14;

    [DllImport("libc", EntryPoint = "madvise")]
    private static extern int Madvise(IntPtr address, UIntPtr length, int advice);

    /// <summary>
    /// An uninitialised tensor that is about to be filled, for outputs of hundreds of megabytes: on
    /// Linux it asks for transparent huge pages, so that first writes fault in 2 MiB pages instead of
    /// 4 KiB ones (on a VM, fresh 4 KiB pages cost more than the kernel's own work). Elsewhere, or
    /// when the kernel declines, it is a plain <c>empty</c>.
    /// </summary>
    public static Tensor EmptyLarge(long[] shape, ScalarType dtype)
    {
        var tensor = empty(shape, dtype);
        long bytes = tensor.numel() * tensor.element_size();
        if (bytes >= 4 * HugePage && OperatingSystem.IsLinux())
        {
            long start = ((long)Pointer<byte>(tensor) + HugePage - 1) & ~(HugePage - 1);
            long end = ((long)Pointer<byte>(tensor) + bytes) & ~(HugePage - 1);
            _ = Madvise((IntPtr)start, (UIntPtr)(ulong)(end - start), MadvHugePage); // advisory: failure is harmless
        }
        return tensor;
    }

    /// <summary>The elements of a contiguous CPU tensor of type <typeparamref name="T"/> as a span (no copy; valid while the tensor is alive).</summary>
    public static Span<T> Span<T>(Tensor tensor) where T : unmanaged => new(Pointer<T>(tensor), checked((int)tensor.numel()));

    /// <summary>Pointer to the first element. The tensor must be contiguous, on the CPU and of type
    /// <typeparamref name="T"/>; the pointer is valid while the tensor is alive (native memory does not move).</summary>
    public static T* Pointer<T>(Tensor tensor) where T : unmanaged
    {
        if (tensor.device_type != DeviceType.CPU)
            throw new ArgumentException($"expected a CPU tensor, got {tensor.device_type}");
        if (!tensor.is_contiguous())
            throw new ArgumentException("expected a contiguous tensor");
        if (sizeof(T) != 1 && tensor.element_size() != sizeof(T))
            throw new ArgumentException($"expected {sizeof(T)}-byte elements, got {tensor.dtype}");
        if (tensor.numel() == 0) return null;
        return (T*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(tensor.bytes));
    }
}
