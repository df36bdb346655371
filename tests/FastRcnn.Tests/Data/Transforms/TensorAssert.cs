using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Data.Transforms;

/// <summary>Exact tensor comparisons for the transform tests.</summary>
internal static class TensorAssert
{
    /// <summary>True when <paramref name="a"/> and <paramref name="b"/> have the same shape, dtype and values (bit-exact, NaN ≠ NaN).</summary>
    public static bool Same(Tensor a, Tensor b) =>
        a.shape.SequenceEqual(b.shape) && a.dtype == b.dtype && a.eq(b).all().item<bool>();

    /// <summary>Asserts <see cref="Same"/>, printing shapes and the largest difference on failure.</summary>
    public static void Equal(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.Equal(expected.dtype, actual.dtype);
        if (!Same(expected, actual))
        {
            using var scope = NewDisposeScope();
            double maxDiff = (expected.to_type(ScalarType.Float64) - actual.to_type(ScalarType.Float64)).abs().max().item<double>();
            Assert.Fail($"Tensors differ; largest absolute difference {maxDiff}.");
        }
    }
}
