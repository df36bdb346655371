using System.Diagnostics;
using FastRcnn.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Ops;

public class SafeScalarsTests
{
    private static float[] Floats(Tensor t) => t.to_type(ScalarType.Float32).data<float>().ToArray();

    private static long[] Longs(Tensor t) => t.data<long>().ToArray();

    [Fact]
    public void Integer_values_keep_integer_tensors_integer()
    {
        using var scope = NewDisposeScope();
        var t = tensor(new long[] { -2, 0, 3, 7 });
        Assert.Equal(new long[] { -1, 1, 4, 8 }, Longs(t.Add(1)));
        Assert.Equal(new long[] { -3, -1, 2, 6 }, Longs(t.Sub(1)));
        Assert.Equal(new long[] { -4, 0, 6, 14 }, Longs(t.Mul(2)));
        Assert.Equal(new long[] { 1, 0, 0, 1 }, Longs(t.Remainder(3)));        // Python's sign convention
        Assert.Equal(new long[] { 0, 0, 3, 5 }, Longs(t.Clamp(0, 5)));
        Assert.Equal(new long[] { -2, 0, 3, 3 }, Longs(t.ClampMax(3)));
        Assert.Equal(new long[] { 4, 0, 9, 49 }, Longs(t.Square()));
        Assert.Equal(new long[] { 0, 1, 2 }, Longs(SafeScalars.Arange(3)));
        Assert.Equal(new long[] { 5, 5 }, Longs(SafeScalars.Full([2], 5L)));
        Assert.Equal(new[] { -1f, 0, 1.5f, 3.5f }, Floats(t.Div(2)));          // true division, as the operator
        Assert.Equal(ScalarType.Float32, t.Div(2).dtype);
        Assert.Equal(new[] { false, false, true, true }, t.Gt(0).data<bool>().ToArray());
        Assert.Equal(new[] { false, false, true, false }, t.Eq(3).data<bool>().ToArray());
    }

    [Fact]
    public void Floating_values_keep_float32_tensors_float32()
    {
        using var scope = NewDisposeScope();
        var t = tensor(new[] { -1f, 0.5f, 2f });
        foreach (var result in new[] { t.Add(0.5), t.Sub(0.5), t.RSub(1.0), t.Mul(0.5), t.Div(4.0), t.Clamp(0.0, 1.0), t.ClampMin(0.0), t.ClampMax(1.0) })
            Assert.Equal(ScalarType.Float32, result.dtype);
        Assert.Equal(new[] { -0.5f, 1f, 2.5f }, Floats(t.Add(0.5)));
        Assert.Equal(new[] { 2f, 0.5f, -1f }, Floats(t.RSub(1.0)));
        Assert.Equal(new[] { -0.25f, 0.125f, 0.5f }, Floats(t.Div(4.0)));
        Assert.Equal(new[] { 0f, 0.5f, 1f }, Floats(t.Clamp(0.0, 1.0)));
        Assert.Equal(new[] { 1f, 0.25f, 4f }, Floats(t.Square()));
        Assert.Equal(new[] { false, true, true }, t.Ge(0.5).data<bool>().ToArray());
        Assert.Equal(new[] { true, false, false }, t.Lt(0.5).data<bool>().ToArray());
        Assert.Equal(ScalarType.Float64, SafeScalars.Arange(2, dtype: ScalarType.Float64).dtype);
    }

    [Fact]
    public void Tensor_sums_and_in_place_forms()
    {
        using var scope = NewDisposeScope();
        var a = tensor(new[] { 1f, 2f });
        var b = tensor(new[] { 10f, 20f });
        Assert.Equal(new[] { 11f, 22f }, Floats(a.Add(b)));
        Assert.Equal(new[] { 1f, 2f }, Floats(a));                             // Add is not in place
        a.Add_(b).Mul_(2).Div_(4).Add_(1);
        Assert.Equal(new[] { 6.5f, 12f }, Floats(a));
        a.Fill_(float.NaN);
        Assert.True(a.isnan().all().item<bool>());
        var bytes = SafeScalars.Full([3], 7, ScalarType.Byte).Fill_(9);
        Assert.Equal(ScalarType.Byte, bytes.dtype);
        Assert.Equal(new byte[] { 9, 9, 9 }, bytes.data<byte>().ToArray());
    }

    /// <summary>
    /// The failure mode: a temporary Scalar finalized while libtorch reads it. Here the box coder and pairwise
    /// IoU (every training iteration runs them) loop for a few seconds while another thread forces collections
    /// and finalizers non-stop. With a temporary Scalar left to the finalizer, such a loop fails about once
    /// every 200 iterations ("Expected false to be true ... Scalar.h", "Unknown scalar type").
    /// </summary>
    [Fact]
    public void Hot_paths_survive_garbage_collections_on_another_thread()
    {
        using var stop = new CancellationTokenSource();
        long collections = 0;
        var collector = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                Interlocked.Increment(ref collections);
            }
        }) { IsBackground = true, Name = "GC hammer" };

        using var scope = NewDisposeScope();
        var generator = manual_seed(1);
        var corner = rand(64, 2, generator: generator).Mul(100);
        var size = rand(64, 2, generator: generator).Mul(50).Add(1);
        var proposals = cat([corner, corner.Add(size)], 1);
        var gt = cat([corner.Add(1), corner.Add(size).Add(2)], 1);

        var failures = new List<string>();
        long iterations = 0;
        collector.Start();
        var clock = Stopwatch.StartNew();
        try
        {
            while (clock.Elapsed < TimeSpan.FromSeconds(3))
            {
                try
                {
                    using var step = NewDisposeScope();
                    var deltas = BoxCoder.FixedStd.Encode(proposals, gt);
                    var decoded = BoxCoder.FixedStd.Decode(deltas, proposals);
                    float iou = BoxOps.PairwiseIoU(decoded, gt).diag().min().item<float>();
                    if (!(iou > 0.999f)) failures.Add($"decoded boxes off: IoU {iou}");
                }
                catch (Exception e)
                {
                    failures.Add(e.Message.Split('\n')[0]);
                }
                iterations++;
            }
        }
        finally
        {
            stop.Cancel();
            collector.Join();
        }
        Assert.True(iterations > 0 && Interlocked.Read(ref collections) > 0, $"{iterations} iterations, {collections} collections");
        Assert.True(failures.Count == 0, $"{failures.Count} of {iterations} iterations failed; first: {failures.FirstOrDefault()}");
    }
}
