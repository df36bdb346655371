using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Ops;

/// <summary>Raw access to the storage of contiguous CPU tensors, for the hand-written kernels.</summary>
internal static unsafe class TensorMemory
{
    /// <summary>Pointer to the first element. The tensor must be contiguous, on the CPU and of type
    /// <typeparamref name="T"/>; the pointer is valid while the tensor is alive (native memory does not move).</summary>
    public static T* Pointer<T>(Tensor tensor) where T : unmanaged
    {
        if (tensor.device_type != DeviceType.CPU)
            throw new ArgumentException($"expected a CPU tensor, got {tensor.device_type}");
        if (!tensor.is_contiguous())
            throw new ArgumentException("expected a contiguous tensor");
        if (tensor.element_size() != sizeof(T))
            throw new ArgumentException($"expected {sizeof(T)}-byte elements, got {tensor.dtype}");
        if (tensor.numel() == 0) return null;
        return (T*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(tensor.bytes));
    }
}
