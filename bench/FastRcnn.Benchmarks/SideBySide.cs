using System.Diagnostics;
using FastRcnn.Ops;
using static TorchSharp.torch;

namespace FastRcnn.Benchmarks;

/// <summary>Quick median timings of the core operators (temporary harness).</summary>
public static class SideBySide
{
    public static int Run(string[] args)
    {
        int repeats = 9;
        if (args.Contains("--keep-memory")) Console.WriteLine($"mallopt: {mallopt(-4, 0)} {mallopt(-1, int.MaxValue)}");
        var (features, rois) = Workloads.RoiPooling();
        var grad = randn(new long[] { 2000, 512, 7, 7 }, generator: manual_seed(2));
        var inference = Time(repeats, () => { using var s = NewDisposeScope(); RoiPool.Apply(features, rois, 7, 7, 1.0 / 16); });
        var fwd = new List<double>(); var bwd = new List<double>();
        for (int i = 0; i < repeats + 2; i++)
        {
            using var s = NewDisposeScope();
            var f = features.detach().requires_grad_();
            var sw = Stopwatch.StartNew();
            var y = RoiPool.Apply(f, rois, 7, 7, 1.0 / 16);
            var t1 = sw.Elapsed.TotalMilliseconds;
            y.backward([grad]);
            var t2 = sw.Elapsed.TotalMilliseconds;
            if (i >= 2) { fwd.Add(t1); bwd.Add(t2 - t1); }
        }
        fwd.Sort(); bwd.Sort();
        Console.WriteLine($"roi_pool inference {inference:F1} ms; training forward {fwd[repeats / 2]:F1} ms, backward {bwd[repeats / 2]:F1} ms");
        return 0;
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern int mallopt(int param, int value);

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
