using FastRcnn.Imaging;
using FastRcnn.Inference;

namespace FastRcnn.Serving;

/// <summary>How <c>fastrcnn serve</c> runs a model (<see cref="DetectionServer"/>).</summary>
/// <param name="ModelDirectory">A model directory written by <c>fastrcnn train</c> (any architecture).</param>
/// <param name="Detector">
/// How every detector of the pool detects (scales, postprocessing, proposals): passed as it is to
/// <see cref="FastRcnn.Inference.Detector.Load"/>, so whatever a detector option selects reaches the service unchanged.
/// Null: the defaults. A request's <c>score_threshold</c> and <c>max_detections</c> filter the detections these
/// options keep (threshold 0.05, top 100 by default); they cannot add to them.
/// </param>
/// <param name="Workers">Detectors in the pool: requests detected at the same time.</param>
/// <param name="ThreadsPerWorker">libtorch and kernel threads of each detector; 0: the processors shared among the workers.</param>
/// <param name="QueueCapacity">Requests that may wait for a free detector; beyond them a request gets 503 with <c>Retry-After</c>.</param>
/// <param name="MaxBodyBytes">The largest request body (the image, or the whole multipart form); larger gets 413.</param>
/// <param name="MaxImagePixels">The most pixels an image may declare in its header (<see cref="ImageIO.MaxPixels"/>); more gets 400 before decoding.</param>
/// <param name="RetryAfterSeconds">The <c>Retry-After</c> of a 503.</param>
public sealed record ServeOptions(
    string ModelDirectory,
    DetectorOptions? Detector = null,
    int Workers = 1,
    int ThreadsPerWorker = 0,
    int QueueCapacity = 16,
    long MaxBodyBytes = ServeOptions.DefaultMaxBodyBytes,
    long MaxImagePixels = ImageIO.DefaultMaxPixels,
    int RetryAfterSeconds = 1)
{
    /// <summary>The default of <see cref="MaxBodyBytes"/>: 20 MiB.</summary>
    public const long DefaultMaxBodyBytes = 20L << 20;

    /// <summary>Threads of each detector: <see cref="ThreadsPerWorker"/>, or the processors divided among the workers (at least 1).</summary>
    public int EffectiveThreadsPerWorker => ThreadsPerWorker > 0 ? ThreadsPerWorker : Math.Max(1, Environment.ProcessorCount / Math.Max(1, Workers));

    /// <summary>Throws <see cref="ArgumentException"/> naming the first value out of range.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ModelDirectory)) throw new ArgumentException("no model directory given");
        if (Workers < 1) throw new ArgumentException($"workers must be ≥ 1, got {Workers}");
        if (ThreadsPerWorker < 0) throw new ArgumentException($"threads per worker must be ≥ 0 (0: automatic), got {ThreadsPerWorker}");
        if (QueueCapacity < 0) throw new ArgumentException($"the queue capacity must be ≥ 0, got {QueueCapacity}");
        if (MaxBodyBytes < 1) throw new ArgumentException($"the body limit must be ≥ 1 byte, got {MaxBodyBytes}");
        if (MaxImagePixels < 1) throw new ArgumentException($"the image pixel limit must be ≥ 1, got {MaxImagePixels}");
        if (RetryAfterSeconds < 1) throw new ArgumentException($"Retry-After must be ≥ 1 s, got {RetryAfterSeconds}");
    }
}
