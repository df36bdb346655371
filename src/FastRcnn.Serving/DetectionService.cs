using System.Buffers;
using System.Diagnostics;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using FastRcnn.Imaging;
using FastRcnn.Inference;
using FastRcnn.Modeling;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace FastRcnn.Serving;

/// <summary>
/// The service behind <c>fastrcnn serve</c>: one model loaded once into a <see cref="DetectorPool"/>, and the handlers of
/// <c>POST /v1/detect</c>, <c>GET /v1/model</c>, <c>GET /healthz</c> and <c>GET /metrics</c> (docs/serve.md).
/// </summary>
public sealed class DetectionService : IDisposable
{
    // Messages quote names ('dog'): written as they are, not as \u0027 (the JSON is never embedded in HTML).
    private static readonly JsonSerializerOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonSerializerOptions Indented = new(Compact) { WriteIndented = true };
    private readonly string _modelJson;
    private readonly IReadOnlyList<string> _classNames;

    /// <summary>Loads the model of <paramref name="options"/> into <see cref="ServeOptions.Workers"/> detectors.</summary>
    /// <exception cref="ArgumentException">An option out of range.</exception>
    /// <exception cref="IOException">The model directory cannot be read.</exception>
    public DetectionService(ServeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        var info = ModelFiles.ReadInfo(options.ModelDirectory);
        Pool = new DetectorPool(() => Detector.Load(options.ModelDirectory, options.Detector), options.Workers,
            options.EffectiveThreadsPerWorker, options.QueueCapacity);
        _classNames = Pool.Prototype.ClassNames;
        _modelJson = DescribeModel(info, Pool.Prototype, options).ToJsonString(Indented);
    }

    public ServeOptions Options { get; }

    public DetectorPool Pool { get; }

    public ServiceMetrics Metrics { get; } = new();

    /// <summary>The detectors' options (every detector of the pool has the same).</summary>
    public DetectorOptions DetectorOptions => Pool.Prototype.Options;

    /// <summary>Logs requests that fail inside the service (500); null: none.</summary>
    public ILogger? Logger { get; set; }

    /// <summary><c>GET /v1/model</c>: architecture, backbone, classes, test scales, postprocessing, training record, service limits.</summary>
    public Task ModelAsync(HttpContext context) => WriteJsonAsync(context, 200, _modelJson);

    /// <summary><c>GET /healthz</c>.</summary>
    public Task HealthAsync(HttpContext context) =>
        WriteJsonAsync(context, 200, new JsonObject { ["status"] = "ok", ["workers"] = Pool.Workers }.ToJsonString(Compact));

    /// <summary><c>GET /metrics</c>: requests, responses by status, errors, latency percentiles, queue length.</summary>
    public Task MetricsAsync(HttpContext context)
    {
        var m = Metrics.Snapshot();
        var json = new JsonObject
        {
            ["uptime_s"] = Math.Round(m.Uptime.TotalSeconds, 3),
            ["requests"] = m.Requests,
            ["detected"] = m.Detected,
            ["errors"] = m.Errors,
            ["rejected"] = m.Rejected,
            ["cancelled"] = m.Cancelled,
            ["responses"] = new JsonObject(m.Responses.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))),
            ["latency_ms"] = new JsonObject
            {
                ["window"] = m.LatencyCount, ["p50"] = Math.Round(m.P50, 2), ["p95"] = Math.Round(m.P95, 2),
                ["p99"] = Math.Round(m.P99, 2), ["max"] = Math.Round(m.Max, 2),
            },
            ["queue_length"] = Pool.QueueLength,
            ["busy_workers"] = Pool.Busy,
            ["admitted"] = Pool.Admitted,
            ["workers"] = Pool.Workers,
            ["queue_capacity"] = Pool.QueueCapacity,
        };
        return WriteJsonAsync(context, 200, json.ToJsonString(Indented));
    }

    /// <summary>
    /// <c>POST /v1/detect</c>: the image as the raw body or the file of a multipart form; detections filtered by the
    /// request's <see cref="DetectionParameters"/>, the image size, the proposal count and the time per stage.
    /// </summary>
    public async Task DetectAsync(HttpContext context)
    {
        var clock = Stopwatch.StartNew();
        var cancel = context.RequestAborted;
        Metrics.RequestStarted();
        int status;
        string body;
        try
        {
            using var admission = Pool.TryAdmit();
            if (admission is null)
            {
                context.Response.Headers.RetryAfter = Options.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                throw new ApiException(503, "busy",
                    $"all {Pool.Workers} detector(s) are busy and the queue of {Pool.QueueCapacity} is full; retry after {Options.RetryAfterSeconds} s");
            }
            var (image, name, parameters) = await ReadRequestAsync(context.Request, cancel);
            ImageHeader header;
            using (ImageIO.LimitPixels(Options.MaxImagePixels))
                header = ImageIO.ReadHeader(image, name);   // a decompression bomb is refused here, before any pixels are allocated
            long queued = Stopwatch.GetTimestamp();
            var outcome = await Pool.RunAsync(admission, detector =>
            {
                var waited = Stopwatch.GetElapsedTime(queued);
                long start = Stopwatch.GetTimestamp();
                RgbImage decoded;
                using (ImageIO.LimitPixels(Options.MaxImagePixels))
                    decoded = ImageIO.Decode(image, name);
                var decodeTime = Stopwatch.GetElapsedTime(start);
                return (Result: detector.Detect(decoded), Waited: waited, Decode: decodeTime);
            }, cancel).WaitAsync(cancel);
            status = 200;
            body = Respond(header, outcome.Result, parameters, outcome.Waited, outcome.Decode, clock.Elapsed).ToJsonString(Compact);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && cancel.IsCancellationRequested)
        {
            Metrics.RequestCancelled();   // the client is gone: nobody to answer
            return;
        }
        catch (ApiException e)
        {
            (status, body) = (e.Status, Error(e.Code, e.Message));
        }
        catch (ImageDecodeException e)
        {
            (status, body) = (400, Error(e.Failure switch
            {
                ImageDecodeFailure.TooManyPixels => "too_many_pixels",
                ImageDecodeFailure.Truncated => "truncated_image",
                ImageDecodeFailure.Corrupt => "corrupt_image",
                _ => "not_an_image",
            }, e.Message));
        }
        catch (Exception e) when (e is InvalidDataException or IOException && !cancel.IsCancellationRequested)
        {
            (status, body) = (400, Error("bad_request", $"the request could not be read: {e.Message}"));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Logger?.LogError(e, "detection failed");
            (status, body) = (500, Error("internal_error", $"detection failed: {e.Message}"));
        }
        Metrics.RequestEnded(status, clock.Elapsed);
        try { await WriteJsonAsync(context, status, body); }
        catch (Exception e) when (e is IOException or OperationCanceledException) { /* the client went away */ }
    }

    private async Task<(byte[] Image, string Name, DetectionParameters Parameters)> ReadRequestAsync(HttpRequest request, CancellationToken cancel)
    {
        byte[] body = await ReadBodyAsync(request, cancel);
        if (!IsMultipart(request))
        {
            if (body.Length == 0) throw new ApiException(400, "no_image", "the request body is empty: send the image as the body or as the file of a multipart form");
            return (body, "the request body", DetectionParameters.Parse(name => request.Query[name], _classNames));
        }
        request.Body = new MemoryStream(body, writable: false);
        var form = await request.ReadFormAsync(cancel);
        var file = form.Files.GetFile("image") ?? form.Files.FirstOrDefault()
            ?? throw new ApiException(400, "no_image", "the multipart form has no file: send the image as the field 'image'");
        var image = new byte[file.Length];
        await using (var stream = file.OpenReadStream())
            await stream.ReadExactlyAsync(image, cancel);
        if (image.Length == 0) throw new ApiException(400, "no_image", $"the uploaded file '{file.FileName}' is empty");
        var parameters = DetectionParameters.Parse(name => form.TryGetValue(name, out var v) ? v : request.Query[name], _classNames);
        return (image, $"upload '{file.FileName}'", parameters);
    }

    private static bool IsMultipart(HttpRequest request) =>
        MediaTypeHeaderValue.TryParse(request.ContentType, out var type) && type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase);

    /// <summary>The body, refused with 413 once it passes <see cref="ServeOptions.MaxBodyBytes"/> (from Content-Length, or while reading).</summary>
    private async Task<byte[]> ReadBodyAsync(HttpRequest request, CancellationToken cancel)
    {
        long max = Options.MaxBodyBytes;
        if (request.ContentLength > max) throw TooLarge(request.ContentLength.Value);
        // The server's own limit (Kestrel's 30 MB) gives way to this one.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = null;
        using var buffer = new MemoryStream();
        byte[] chunk = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int n;
            while ((n = await request.Body.ReadAsync(chunk, cancel)) > 0)
            {
                if (buffer.Length + n > max) throw TooLarge(null);
                buffer.Write(chunk, 0, n);
            }
        }
        finally { ArrayPool<byte>.Shared.Return(chunk); }
        return buffer.ToArray();
    }

    private ApiException TooLarge(long? length) => new(413, "body_too_large",
        $"the request body {(length is { } l ? $"is {l} bytes" : "passes the limit")}; at most {Options.MaxBodyBytes} bytes are accepted");

    private static JsonObject Respond(ImageHeader header, DetectionResult result, DetectionParameters p, TimeSpan waited, TimeSpan decode, TimeSpan total)
    {
        IEnumerable<DetectedObject> kept = result.Objects;
        if (p.ScoreThreshold is { } threshold) kept = kept.Where(o => o.Score >= threshold);
        if (p.Classes is { } classes) kept = kept.Where(o => classes.Contains(o.ClassName));
        if (p.MaxDetections is { } max) kept = kept.Take(max);
        var t = result.Times;
        return new JsonObject
        {
            ["image"] = new JsonObject { ["width"] = header.Width, ["height"] = header.Height, ["format"] = header.Format },
            ["proposals"] = result.ProposalCount,
            ["detections"] = new JsonArray(kept.Select(o => (JsonNode)new JsonObject
            {
                ["class"] = o.ClassName,
                ["class_index"] = o.ClassIndex,
                ["score"] = o.Score,
                ["box"] = new JsonArray(o.Box.X1, o.Box.Y1, o.Box.X2, o.Box.Y2),
            }).ToArray()),
            ["times_ms"] = new JsonObject
            {
                ["queue"] = Ms(waited), ["decode"] = Ms(decode), ["proposals"] = Ms(t.Proposals), ["conv"] = Ms(t.Conv),
                ["roi_pooling"] = Ms(t.RoiPooling), ["fc6"] = Ms(t.Fc6), ["fc7"] = Ms(t.Fc7), ["outputs"] = Ms(t.Outputs),
                ["nms"] = Ms(t.Nms), ["detector"] = Ms(t.Total), ["total"] = Ms(total),
            },
        };
    }

    private static double Ms(TimeSpan t) => Math.Round(t.TotalMilliseconds, 2);

    private static JsonObject DescribeModel(ModelInfo info, Detector detector, ServeOptions options)
    {
        var o = detector.Options;
        var post = o.Postprocess ?? new PostprocessOptions();
        return new JsonObject
        {
            ["model"] = Path.GetFullPath(options.ModelDirectory),
            ["architecture"] = info.Architecture.Name(),
            ["backbone"] = info.Backbone,
            ["classes"] = new JsonArray(info.ClassNames.Select(c => (JsonNode?)c).ToArray()),
            ["proposals"] = detector.NeedsProposals ? "selective search" : "region proposal network",
            ["test_scales"] = new JsonArray(o.EffectiveScales.Select(s => (JsonNode?)s).ToArray()),
            ["max_size"] = o.MaxSize,
            ["score_threshold"] = post.ScoreThreshold,
            ["nms_threshold"] = post.NmsThreshold,
            ["max_detections"] = post.MaxDetections,
            ["compression"] = info.Compression?.DeepClone(),
            ["training"] = new JsonObject
            {
                ["seed"] = info.Seed,
                ["config"] = info.TrainingConfig?.DeepClone(),
                ["weights_sha256"] = info.WeightsSha256,
                ["model_file_version"] = info.Version,
            },
            ["service"] = new JsonObject
            {
                ["workers"] = options.Workers,
                ["threads_per_worker"] = options.EffectiveThreadsPerWorker,
                ["queue_capacity"] = options.QueueCapacity,
                ["max_body_bytes"] = options.MaxBodyBytes,
                ["max_image_pixels"] = options.MaxImagePixels,
            },
        };
    }

    private static string Error(string code, string message) =>
        new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } }.ToJsonString(Compact);

    private static async Task WriteJsonAsync(HttpContext context, int status, string json)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(json, context.RequestAborted);
    }

    /// <summary>Finishes the queued work and disposes the detectors.</summary>
    public void Dispose() => Pool.Dispose();
}
