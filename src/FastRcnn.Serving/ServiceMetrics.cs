using System.Diagnostics;
using System.Globalization;

namespace FastRcnn.Serving;

/// <summary>
/// Counters of the detection endpoint for <c>GET /metrics</c>: requests, responses by status, errors (4xx and 5xx),
/// rejections (503), cancellations, and the latency of the last <see cref="Window"/> successful detections
/// (percentiles). Thread-safe.
/// </summary>
public sealed class ServiceMetrics
{
    /// <summary>Successful detections whose latency the percentiles are taken over.</summary>
    public const int Window = 2048;

    private readonly Lock _lock = new();
    private readonly double[] _latencies = new double[Window];
    private readonly SortedDictionary<int, long> _statuses = [];
    private readonly Stopwatch _uptime = Stopwatch.StartNew();
    private long _requests, _cancelled, _detected;
    private int _next, _count;

    /// <summary>A detection request arrived.</summary>
    public void RequestStarted() => Interlocked.Increment(ref _requests);

    /// <summary>A request ended with <paramref name="status"/>; a 200 adds <paramref name="latency"/> to the window.</summary>
    public void RequestEnded(int status, TimeSpan latency)
    {
        lock (_lock)
        {
            _statuses[status] = _statuses.GetValueOrDefault(status) + 1;
            if (status != 200) return;
            _detected++;
            _latencies[_next] = latency.TotalMilliseconds;
            _next = (_next + 1) % Window;
            _count = Math.Min(_count + 1, Window);
        }
    }

    /// <summary>The client went away before its answer.</summary>
    public void RequestCancelled() => Interlocked.Increment(ref _cancelled);

    /// <summary>The figures now.</summary>
    public MetricsSnapshot Snapshot()
    {
        double[] window;
        Dictionary<string, long> statuses;
        long detected;
        lock (_lock)
        {
            window = _latencies.AsSpan(0, _count).ToArray();
            statuses = _statuses.ToDictionary(p => p.Key.ToString(CultureInfo.InvariantCulture), p => p.Value);
            detected = _detected;
        }
        Array.Sort(window);
        long errors = statuses.Where(p => p.Key[0] is '4' or '5').Sum(p => p.Value);
        long rejected = statuses.GetValueOrDefault("503");
        return new MetricsSnapshot(_uptime.Elapsed, Interlocked.Read(ref _requests), detected, errors, rejected, Interlocked.Read(ref _cancelled),
            statuses, window.Length, Percentile(window, 0.50), Percentile(window, 0.95), Percentile(window, 0.99), window.Length > 0 ? window[^1] : 0);
    }

    /// <summary>The nearest-rank percentile <paramref name="q"/> of sorted values (0 for none).</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double q)
    {
        if (sorted.Count == 0) return 0;
        int rank = (int)Math.Ceiling(q * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }
}

/// <summary><see cref="ServiceMetrics"/> at one moment; latencies in milliseconds over the last <c>LatencyCount</c> successful detections.</summary>
public sealed record MetricsSnapshot(TimeSpan Uptime, long Requests, long Detected, long Errors, long Rejected, long Cancelled,
    IReadOnlyDictionary<string, long> Responses, int LatencyCount, double P50, double P95, double P99, double Max);
