using System.Globalization;
using System.Text.RegularExpressions;
using FastRcnn.Imaging;
using FastRcnn.Training;

namespace FastRcnn.Benchmarks;

/// <summary>
/// <c>distributed</c>: reads runs of <c>fastrcnn train</c> made in one process and under <c>mpiexec</c> (docs/distributed.md)
/// and reports, per run, the median seconds per iteration (iteration 1 left out), the allreduce and wait times the run
/// printed (its console output saved as <c>&lt;run&gt;.txt</c> beside the run folder), the final loss; with
/// <c>--plot FILE</c> the total loss of every run over the iterations in one PNG; with <c>--model</c> the scaling model:
/// ring allreduce of B gradient bytes over P machines, <c>2(P−1)/P · B / bandwidth + 2(P−1)·latency</c>, after a compute
/// time t per iteration (N images per machine, global batch P·N), speed-up <c>P · t / (t + allreduce)</c> in images per second.
/// <code>dotnet run --project bench/FastRcnn.Benchmarks -c Release -- distributed RUN_DIR… [--plot FILE] [--model NAME=SECONDS:BYTES …]</code>
/// </summary>
public static class DistributedReport
{
    /// <summary>Latency of one message in the model (a TCP round over a switch).</summary>
    private const double LatencySeconds = 50e-6;

    public static int Run(string[] args)
    {
        var runs = new List<string>();
        var models = new List<(string Name, double Seconds, double Bytes)>();
        string? plot = null;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--plot") plot = args[++i];
            else if (args[i] == "--model")
            {
                while (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    var m = Regex.Match(args[++i], @"^(.+)=([0-9.eE+-]+):([0-9.eE+-]+)$");
                    if (!m.Success) throw new ArgumentException($"--model takes NAME=SECONDS:BYTES, got '{args[i]}'");
                    models.Add((m.Groups[1].Value, double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), double.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture)));
                }
            }
            else runs.Add(args[i]);
        }
        var curves = new List<ChartSeries>();
        double maxLoss = 0;
        long maxIteration = 1;
        foreach (var run in runs)
        {
            var steps = TrainingLog.Load(Path.Combine(run, TrainingLog.FileName)).Steps;
            var seconds = steps.Where(s => s.Iteration > 1).Select(s => s.Seconds).Order().ToArray();
            double median = seconds.Length == 0 ? double.NaN : seconds[seconds.Length / 2];
            // The console output, its lines joined (the progress display wraps long lines when redirected).
            string printed = File.Exists(run.TrimEnd('/') + ".txt") ? Regex.Replace(File.ReadAllText(run.TrimEnd('/') + ".txt"), @"\s*\n\s*", " ") : "";
            var allreduce = Regex.Match(printed, @"allreduce: ([0-9.]+) MB per iteration, ([0-9.]+) ms per iteration on average \(and ([0-9.]+) ms waiting");
            string exchange = allreduce.Success
                ? $", allreduce {allreduce.Groups[1].Value} MB in {allreduce.Groups[2].Value} ms, waiting {allreduce.Groups[3].Value} ms per iteration"
                : "";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{Path.GetFileName(run.TrimEnd('/'))}: {steps.Count} iterations, median {median:F3} s per iteration, final loss {steps[^1].Loss:F4}{exchange}"));
            curves.Add(new ChartSeries(Path.GetFileName(run.TrimEnd('/')), steps.Select(s => (double)s.Iteration).ToArray(), steps.Select(s => s.Loss).ToArray()));
            maxLoss = Math.Max(maxLoss, steps.Max(s => s.Loss));
            maxIteration = Math.Max(maxIteration, steps[^1].Iteration);
        }
        if (plot is not null && curves.Count > 0)
        {
            new LineChart("total loss: one process against MPI ranks", "iteration", "loss", 1, maxIteration, 0, Math.Ceiling(maxLoss * 1.1 * 10) / 10)
                .WritePng(plot, curves);
            Console.WriteLine($"wrote {plot}");
        }
        foreach (var (name, seconds, bytes) in models)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"\n{name}: compute {seconds:F3} s per iteration, {bytes / 1e6:F1} MB of gradients (model, not a measurement)"));
            Console.WriteLine("| machines | allreduce 10 Gbit/s | speed-up 10 Gbit/s | allreduce 25 Gbit/s | speed-up 25 Gbit/s |");
            Console.WriteLine("|---:|---:|---:|---:|---:|");
            foreach (int p in new[] { 2, 4, 8, 16 })
            {
                double t10 = RingAllReduceSeconds(bytes, p, 10e9), t25 = RingAllReduceSeconds(bytes, p, 25e9);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {p} | {1000 * t10:F0} ms | {p * seconds / (seconds + t10):F2}× | {1000 * t25:F0} ms | {p * seconds / (seconds + t25):F2}× |"));
            }
        }
        return 0;
    }

    /// <summary>Ring allreduce (reduce-scatter then allgather): each machine sends and receives 2(P−1)/P of the bytes in 2(P−1) messages.</summary>
    public static double RingAllReduceSeconds(double bytes, int machines, double bitsPerSecond) =>
        2.0 * (machines - 1) / machines * bytes * 8 / bitsPerSecond + 2 * (machines - 1) * LatencySeconds;
}
