using System.Diagnostics;
using FastRcnn.Ops;
using static TorchSharp.torch;

namespace FastRcnn.Benchmarks;

/// <summary>Quick median timings of the core operators (placeholder harness, extended below).</summary>
public static class SideBySide
{
    public static int Run(string[] args)
    {
        int repeats = 7;
        if (args.Contains("--keep-memory")) Console.WriteLine($"mallopt: {mallopt(-4, 0)} {mallopt(-1, int.MaxValue)}");
        var (features, rois) = Workloads.RoiPooling();
        if (args.Contains("--kernel"))
        {
            var cl = features.permute(0, 2, 3, 1).contiguous();
            var o = empty(2000, 512, 7, 7); var a = empty(new long[] { 2000, 512, 7, 7 }, int32);
            foreach (int t in new[] { 1, 2 })
            {
                Parallelism.Threads = t;
                var ms = new List<double>();
                var proc = Process.GetCurrentProcess();
                for (int i = 0; i < 7; i++) { proc.Refresh(); var cpu0 = proc.TotalProcessorTime; RoiPoolKernel.Forward(cl, rois, 512, 38, 63, 7, 7, 1f / 16, o, a); proc.Refresh(); ms.Add((proc.TotalProcessorTime - cpu0).TotalMilliseconds); }
                ms.Sort(); Console.WriteLine($"kernel threads={t}: CPU time min {ms[0]:F1} median {ms[3]:F1} ms");
            }
            return 0;
        }
        var fwd = Time(repeats, () => { using var s = NewDisposeScope(); RoiPool.Forward(features, rois, 7, 7, 1.0 / 16); });
        var (_, argmax) = RoiPool.Forward(features, rois, 7, 7, 1.0 / 16);
        var grad = randn(argmax.shape);
        var bwd = Time(repeats, () => { using var s = NewDisposeScope(); RoiPool.Backward(grad, argmax, rois, features.shape); });
        var both = Time(repeats, () =>
        {
            using var s = NewDisposeScope();
            var f = features.detach().requires_grad_();
            RoiPool.Apply(f, rois, 7, 7, 1.0 / 16).backward([grad]);
        });
        var alloc = Time(repeats, () => { using var s = NewDisposeScope(); empty(argmax.shape).fill_(0); empty(argmax.shape, int32).fill_(0); });
        Console.WriteLine($"alloc+touch 2x200MB {alloc:F1} ms");
        var allocHuge = Time(repeats, () => { using var s = NewDisposeScope(); var a = empty(argmax.shape); Huge(a); a.fill_(0); var b = empty(argmax.shape, int32); Huge(b); b.fill_(0); });
        Console.WriteLine($"alloc+madvise+touch 2x200MB {allocHuge:F1} ms");
        Console.WriteLine($"roi_pool forward {fwd:F1} ms, backward {bwd:F1} ms, autograd fwd+bwd {both:F1} ms");
        return 0;
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern int mallopt(int param, int value);
    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int madvise(IntPtr addr, UIntPtr length, int advice);
    private static unsafe void Huge(Tensor t)
    {
        fixed (byte* p = t.bytes)
        {
            long start = ((long)p + (2 << 20) - 1) & ~((2L << 20) - 1);
            long end = ((long)p + t.bytes.Length) & ~((2L << 20) - 1);
            if (end > start && madvise((IntPtr)start, (UIntPtr)(ulong)(end - start), 14) != 0) Console.WriteLine("madvise failed " + System.Runtime.InteropServices.Marshal.GetLastWin32Error());
        }
    }

    public static double Time(int repeats, Action action, int warmup = 2)
    {
        for (int i = 0; i < warmup; i++) action();
        var samples = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            var sw = Stopwatch.StartNew();
            action();
            samples[i] = sw.Elapsed.TotalMilliseconds;
        }
        Array.Sort(samples);
        return samples[repeats / 2];
    }
}
