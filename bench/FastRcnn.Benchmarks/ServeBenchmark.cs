using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using FastRcnn.Imaging;
using FastRcnn.Inference;
using FastRcnn.Runtime;
using FastRcnn.Serving;

namespace FastRcnn.Benchmarks;

/// <summary>
/// <c>serve</c>: the detection service under load, on loopback only. A <see cref="DetectionServer"/> on Kestrel at
/// <c>127.0.0.1</c> with <c>--workers</c> detectors, and for each concurrency (default 1, 4, 16) that many clients
/// posting the images round-robin until <c>--requests</c> answers or <c>--seconds</c> have passed: requests/s,
/// p50/p95/p99 latency, errors (any answer but 200), the server's own detector time, and the ratio to the detector's
/// own images/s (one <see cref="Detector"/>, decode + detect, one image after another, as <c>fastrcnn detect</c>),
/// measured just before and just after each row. Last, <c>--bad</c> bad requests (not an image, truncated, a decompression bomb, too large,
/// unknown class) between good ones, with the process's resident memory before and after: no request may leak.
/// <c>--write FILE</c> puts the tables into a marked section of FILE.
/// </summary>
public static class ServeBenchmark
{
    private sealed record Options(string Model, string Images, int[] Concurrency, int Requests, double Seconds, int[] Workers, int ImageCount,
        int BaselineImages, int Bad, string? Write);

    private sealed record Load(int Workers, int Concurrency, int Answered, int Errors, double Seconds, double P50, double P95, double P99,
        double ServerDetectorMs)
    {
        public double PerSecond => Answered / Seconds;

        public double DetectorBefore { get; init; }

        public double DetectorAfter { get; init; }

        /// <summary>requests/s over the mean images/s of the detector alone just before and just after the row.</summary>
        public double Ratio => PerSecond / ((DetectorBefore + DetectorAfter) / 2);
    }

    public static int Run(string[] args)
    {
        CpuRuntime.RetainFreedMemory(true);   // as the fastrcnn command does
        var options = Parse(args);
        string loadAtStart = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
        var files = Directory.EnumerateFiles(options.Images).Where(f => f.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal).ToArray();
        if (files.Any(f => Path.GetFileName(f).StartsWith("test_", StringComparison.Ordinal)))   // a Shapes folder: its test split
            files = files.Where(f => Path.GetFileName(f).StartsWith("test_", StringComparison.Ordinal)).ToArray();
        var images = files.Take(options.ImageCount).Select(File.ReadAllBytes).ToArray();
        if (images.Length == 0) throw new ArgumentException($"no .jpg or .png images in {options.Images}");

        // The detector alone is measured before every row and after the last (the machine is shared: its speed drifts);
        // each row's ratio is to the mean of the two measurements around it.
        using var alone = Detector.Load(options.Model);
        for (int i = 0; i < 2; i++) alone.Detect(ImageIO.Decode(images[i % images.Length]));   // warm-up
        var detectorRuns = new List<double>();
        double Baseline()
        {
            double perSecond = DetectorImagesPerSecond(alone, images, options.BaselineImages);
            Console.Error.WriteLine($"[serve] the detector alone: {perSecond:F2} images/s");
            detectorRuns.Add(perSecond);
            return perSecond;
        }

        var loads = new List<Load>();
        (double Before, double After, int Bad, int Good, int Wrong)? memory = null;
        foreach (int workers in options.Workers)
        {
            var serve = new ServeOptions(options.Model, Workers: workers, QueueCapacity: Math.Max(16, options.Concurrency.Max()));
            var server = DetectionServer.Create(serve, ["http://127.0.0.1:0"]);
            try
            {
                server.App.StartAsync().GetAwaiter().GetResult();
                string address = server.Addresses.Single();
                using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = new Uri(address), Timeout = TimeSpan.FromMinutes(5) };
                foreach (int concurrency in options.Concurrency)
                {
                    double before = Baseline();
                    Console.Error.WriteLine($"[serve] {workers} worker(s), concurrency {concurrency} ...");
                    var load = RunLoad(client, images, workers, concurrency, options).GetAwaiter().GetResult() with { DetectorBefore = before };
                    Console.Error.WriteLine($"[serve]   {load.PerSecond:F2} req/s, p50 {load.P50:F0} ms, p95 {load.P95:F0} ms, p99 {load.P99:F0} ms, {load.Errors} errors");
                    loads.Add(load);
                }
                if (memory is null && options.Bad > 0)
                {
                    Console.Error.WriteLine($"[serve] {options.Bad} bad requests between good ones, resident memory ...");
                    memory = BadRequests(client, images, options.Bad).GetAwaiter().GetResult();
                }
            }
            finally { server.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
        }
        Baseline();
        for (int i = 0; i < loads.Count; i++) loads[i] = loads[i] with { DetectorAfter = detectorRuns[i + 1] };
        double detectorPerSecond = BenchReport.Median(detectorRuns);

        string machine = BenchReport.MachineLine(Environment.ProcessorCount)
            .Replace(" at the end;", $" at the end ({loadAtStart} at the start);", StringComparison.Ordinal);
        var lines = new List<string>
        {
            $"Model `{options.Model}`, {images.Length} Shapes test images round-robin; Kestrel on 127.0.0.1, an HttpClient in the same process; " +
            $"at most {options.Requests} answers or {options.Seconds:F0} s per row. The detector alone (decode + detect, one image after another, " +
            $"{options.BaselineImages} images before each row and after the last): median **{detectorPerSecond:F2} images/s** " +
            $"({string.Join(", ", detectorRuns.Select(r => r.ToString("F2", CultureInfo.InvariantCulture)))}). Machine: {machine}.",
            "",
            "| workers × threads | concurrency | requests/s | detector alone, before → after (images/s) | ratio | p50 ms | p95 ms | p99 ms | server's detector ms (median) | answered | errors |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        };
        foreach (var l in loads)
        {
            int threads = Math.Max(1, Environment.ProcessorCount / l.Workers);
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {l.Workers} × {threads} | {l.Concurrency} | {l.PerSecond:F2} | {l.DetectorBefore:F2} → {l.DetectorAfter:F2} | **{100 * l.Ratio:F0}%** | {l.P50:F0} | {l.P95:F0} | {l.P99:F0} | {l.ServerDetectorMs:F0} | {l.Answered} | {l.Errors} |"));
        }
        if (memory is { } m)
        {
            lines.Add("");
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"Bad requests: {m.Bad} (not an image, truncated JPEG, a 30000×30000 PNG bomb of 300 bytes, a body over the limit, an unknown class) " +
                $"between {m.Good} good ones; {m.Wrong} answered otherwise than expected (400/413 for the bad, 200 for the good). " +
                $"Resident memory {m.Before:F0} MiB before, {m.After:F0} MiB after ({m.After - m.Before:+0;-0} MiB)."));
        }
        foreach (var line in lines) Console.WriteLine(line);
        if (options.Write is { } path) BenchReport.WriteSection(path, "serve", lines);
        return loads.Any(l => l.Errors > 0) || memory is { Wrong: > 0 } ? 1 : 0;
    }

    private static double DetectorImagesPerSecond(Detector detector, byte[][] images, int count)
    {
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < count; i++) detector.Detect(ImageIO.Decode(images[i % images.Length]));
        return count / clock.Elapsed.TotalSeconds;
    }

    private static async Task<Load> RunLoad(HttpClient client, byte[][] images, int workers, int concurrency, Options options)
    {
        for (int i = 0; i < concurrency; i++) await Post(client, images[i % images.Length], "");   // warm-up (one detector each time)
        int next = -1, answered = 0, errors = 0;
        var latencies = new List<double>();
        var serverDetector = new List<double>();
        var deadline = Stopwatch.StartNew();
        var clock = Stopwatch.StartNew();
        async Task Client()
        {
            while (deadline.Elapsed.TotalSeconds < options.Seconds)
            {
                int n = Interlocked.Increment(ref next);
                if (n >= options.Requests) return;
                long start = Stopwatch.GetTimestamp();
                var (status, detectorMs) = await PostTimed(client, images[n % images.Length]);
                double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                lock (latencies)
                {
                    answered++;
                    if (status == 200)
                    {
                        latencies.Add(ms);
                        serverDetector.Add(detectorMs);
                    }
                    else errors++;
                }
            }
        }
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(Client)));
        double seconds = clock.Elapsed.TotalSeconds;
        var sorted = latencies.Order().ToArray();
        return new Load(workers, concurrency, answered, errors, seconds,
            ServiceMetrics.Percentile(sorted, 0.50), ServiceMetrics.Percentile(sorted, 0.95), ServiceMetrics.Percentile(sorted, 0.99),
            BenchReport.Median(serverDetector));
    }

    /// <summary>Posts an image; the status and the server's own detector time (<c>times_ms.detector</c> + <c>decode</c>; NaN unless 200).</summary>
    private static async Task<(int Status, double DetectorMs)> PostTimed(HttpClient client, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        try
        {
            using var response = await client.PostAsync("/v1/detect", content);
            string text = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode) return ((int)response.StatusCode, double.NaN);
            var times = System.Text.Json.JsonDocument.Parse(text).RootElement.GetProperty("times_ms");
            return (200, times.GetProperty("detector").GetDouble() + times.GetProperty("decode").GetDouble());
        }
        catch (HttpRequestException) { return (0, double.NaN); }
    }

    private static async Task<int> Post(HttpClient client, byte[] body, string query, string type = "image/jpeg")
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(type);
        try
        {
            using var response = await client.PostAsync("/v1/detect" + query, content);
            await response.Content.ReadAsByteArrayAsync();
            return (int)response.StatusCode;
        }
        catch (HttpRequestException) { return 0; }
    }

    private static async Task<(double Before, double After, int Bad, int Good, int Wrong)> BadRequests(HttpClient client, byte[][] images, int count)
    {
        byte[] jpeg = images[0];
        byte[][] bad =
        [
            "this is not an image, it is text"u8.ToArray(), jpeg[..(jpeg.Length / 2)], PngBomb(), new byte[(int)ServeOptions.DefaultMaxBodyBytes + 1],
        ];
        int good = 0, wrong = 0;
        for (int i = 0; i < 3; i++) await Post(client, images[i % images.Length], "");
        GC.Collect();
        double before = ResidentMib();
        for (int i = 0; i < count; i++)
        {
            int kind = i % (bad.Length + 1);
            int status = kind < bad.Length
                ? await Post(client, bad[kind], "", kind == 2 ? "image/png" : "image/jpeg")
                : await Post(client, jpeg, "?classes=no-such-class");
            if (status is not (400 or 413)) wrong++;
            if (i % 25 == 24)
            {
                good++;
                if (await Post(client, images[i % images.Length], "") != 200) wrong++;
            }
        }
        GC.Collect();
        return (before, ResidentMib(), count, good, wrong);
    }

    /// <summary>A 300-byte PNG whose header declares 30000×30000 pixels (the CRCs are right, the data is not).</summary>
    private static byte[] PngBomb()
    {
        static void Chunk(MemoryStream png, string type, byte[] data)
        {
            var word = new byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
            png.Write(word);
            byte[] typed = [.. System.Text.Encoding.ASCII.GetBytes(type), .. data];
            png.Write(typed);
            uint crc = 0xFFFFFFFF;
            foreach (byte b in typed)
            {
                crc ^= b;
                for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
            }
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(word, ~crc);
            png.Write(word);
        }
        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr, 30000);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), 30000);
        ihdr[8] = 8;
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "IDAT", new byte[256]);
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>VmRSS of /proc/self/status in MiB (the working set elsewhere).</summary>
    private static double ResidentMib()
    {
        if (File.Exists("/proc/self/status"))
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            if (line is not null) return double.Parse(line.Split(':', StringSplitOptions.TrimEntries)[1].Split(' ')[0], CultureInfo.InvariantCulture) / 1024;
        }
        return Environment.WorkingSet / (1024.0 * 1024);
    }

    private static Options Parse(string[] args)
    {
        string? model = null, images = null, write = null;
        int[] concurrency = [1, 4, 16], workers = [1];
        int requests = 40, imageCount = 20, baseline = 10, bad = 500;
        double seconds = 60;
        static int[] Ints(string s) => s.Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--model": model = Value(); break;
                case "--images": images = Value(); break;
                case "--concurrency": concurrency = Ints(Value()); break;
                case "--workers": workers = Ints(Value()); break;
                case "--requests": requests = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--seconds": seconds = double.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--image-count": imageCount = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--baseline-images": baseline = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--bad": bad = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--write": write = Value(); break;
                default: throw new ArgumentException($"unknown option {args[i]} (serve --model DIR --images DIR [--concurrency 1,4,16] [--workers 1] " +
                    "[--requests 40] [--seconds 60] [--image-count 20] [--baseline-images 10] [--bad 500] [--write FILE])");
            }
        }
        return new Options(model ?? throw new ArgumentException("serve needs --model DIR (a model made by fastrcnn train or demo)"),
            images ?? throw new ArgumentException("serve needs --images DIR (e.g. the Shapes test images, JPEGImages)"),
            concurrency, requests, seconds, workers, imageCount, baseline, bad, write);
    }
}
