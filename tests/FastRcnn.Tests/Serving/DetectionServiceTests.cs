using System.Net;
using System.Net.Http.Headers;
using System.Text;
using FastRcnn.Tests.Imaging;
using System.Text.Json.Nodes;
using FastRcnn.Imaging;
using FastRcnn.Inference;
using FastRcnn.Modeling;
using FastRcnn.Modeling.Rpn;
using FastRcnn.Serving;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;

namespace FastRcnn.Tests.Serving;

/// <summary>The HTTP API of <c>fastrcnn serve</c> in-process (ASP.NET Core's test server in place of Kestrel).</summary>
[Collection(ServingCollection.Name)]
public sealed class DetectionServiceTests(ServingFixture fixture)
{
    private static async Task<DetectionServer> StartAsync(ServeOptions options)
    {
        var server = DetectionServer.Create(options, configure: b => b.WebHost.UseTestServer());
        await server.App.StartAsync();
        return server;
    }

    private static HttpClient Client(DetectionServer server) => server.App.GetTestClient();

    private static async Task<(HttpStatusCode Status, JsonNode Json)> PostAsync(HttpClient client, HttpContent content, string query = "",
        CancellationToken cancel = default)
    {
        using var response = await client.PostAsync("/v1/detect" + query, content, cancel);
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync(cancel))!);
    }

    private static ByteArrayContent Raw(byte[] bytes, string type = "image/jpeg")
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue(type);
        return content;
    }

    private static float[] Row(DetectedObject o) => [o.Box.X1, o.Box.Y1, o.Box.X2, o.Box.Y2];

    [Fact]
    public async Task Detections_equal_the_Detectors_for_raw_and_multipart_bodies_and_the_filters_select_from_them()
    {
        await using var server = await StartAsync(fixture.Options());
        var client = Client(server);
        byte[] bytes = File.ReadAllBytes(fixture.Images[0]);
        var image = ImageIO.Decode(bytes);
        DetectionResult expected;
        using (var detector = Detector.Load(fixture.ModelDirectory, ServingFixture.DetectorOptions))
            expected = detector.Detect(image);
        Assert.True(expected.Objects.Count > 10);

        var (status, json) = await PostAsync(client, Raw(bytes));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(image.Width, (int)json["image"]!["width"]!);
        Assert.Equal(image.Height, (int)json["image"]!["height"]!);
        Assert.Equal("JPEG", (string)json["image"]!["format"]!);
        Assert.Equal(expected.ProposalCount, (int)json["proposals"]!);
        var detections = json["detections"]!.AsArray();
        Assert.Equal(expected.Objects.Count, detections.Count);
        foreach (var (e, d) in expected.Objects.Zip(detections))
        {
            Assert.Equal(e.ClassName, (string)d!["class"]!);
            Assert.Equal(e.ClassIndex, (int)d["class_index"]!);
            Assert.Equal(e.Score, (float)d["score"]!);
            Assert.Equal(Row(e), d["box"]!.AsArray().Select(v => (float)v!).ToArray());
        }
        var times = json["times_ms"]!.AsObject();
        foreach (var stage in new[] { "queue", "decode", "proposals", "conv", "roi_pooling", "fc6", "fc7", "outputs", "nms", "detector", "total" })
            Assert.True((double)times[stage]! >= 0, stage);
        Assert.True((double)times["proposals"]! > 0 && (double)times["total"]! >= (double)times["detector"]!);

        // The same image as the file of a multipart form, with filters in form fields: a subset of the detector's output, in its order.
        string wanted = expected.Objects[0].ClassName;
        float threshold = expected.Objects.Where(o => o.ClassName == wanted).Select(o => o.Score).Order().ElementAt(expected.Objects.Count(o => o.ClassName == wanted) / 2);
        using var form = new MultipartFormDataContent
        {
            { Raw(bytes), "image", "shapes.jpg" },
            { new StringContent(threshold.ToString("R", System.Globalization.CultureInfo.InvariantCulture)), "score_threshold" },
            { new StringContent(wanted), "classes" },
        };
        (status, json) = await PostAsync(client, form, "?max_detections=3");
        Assert.Equal(HttpStatusCode.OK, status);
        var filtered = expected.Objects.Where(o => o.ClassName == wanted && o.Score >= threshold).Take(3).ToArray();
        Assert.InRange(filtered.Length, 1, 3);
        Assert.Equal(filtered.Select(o => o.Score), json["detections"]!.AsArray().Select(d => (float)d!["score"]!));
        Assert.All(json["detections"]!.AsArray(), d => Assert.Equal(wanted, (string)d!["class"]!));
    }

    [Fact]
    public async Task A_faster_rcnn_model_is_served_with_its_own_proposals()
    {
        using var tmp = new TempDir();
        string dir = tmp.Combine("faster");
        using (var faster = new TwoStageModel("small", fixture.ClassNames.Count, seed: 6, new TwoStageOptions
               {
                   Architecture = DetectorArchitecture.FasterRcnn,
                   Rpn = new RpnOptions { AnchorSizes = [32, 64], HeadChannels = 32, PreNmsTopNTest = 300, PostNmsTopNTest = 40 },
               }))
            ModelFiles.Save(dir, faster, fixture.ClassNames);
        await using var server = await StartAsync(new ServeOptions(dir, ServingFixture.DetectorOptions with { Postprocess = new(ScoreThreshold: 0) }));
        var client = Client(server);
        var model = JsonNode.Parse(await client.GetStringAsync("/v1/model"))!;
        Assert.Equal("faster-rcnn", (string)model["architecture"]!);
        Assert.Equal("region proposal network", (string)model["proposals"]!);

        byte[] bytes = File.ReadAllBytes(fixture.Images[1]);
        DetectionResult expected;
        using (var detector = Detector.Load(dir, server.Service.DetectorOptions))
            expected = detector.Detect(ImageIO.Decode(bytes));
        var (status, json) = await PostAsync(client, Raw(bytes));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(expected.ProposalCount, (int)json["proposals"]!);
        Assert.InRange(expected.ProposalCount, 1, 40);
        Assert.Equal(expected.Objects.Select(o => o.Score), json["detections"]!.AsArray().Select(d => (float)d!["score"]!));
        Assert.True((double)json["times_ms"]!["proposals"]! > 0);   // the RPN's
    }

    [Fact]
    public async Task Model_health_metrics_and_the_page_describe_the_service()
    {
        await using var server = await StartAsync(fixture.Options(queue: 3));
        var client = Client(server);
        var model = JsonNode.Parse(await client.GetStringAsync("/v1/model"))!;
        Assert.Equal("fast-rcnn", (string)model["architecture"]!);
        Assert.Equal("small", (string)model["backbone"]!);
        Assert.Equal(fixture.ClassNames, model["classes"]!.AsArray().Select(c => (string)c!));
        Assert.Equal("selective search", (string)model["proposals"]!);
        Assert.Equal([128], model["test_scales"]!.AsArray().Select(s => (int)s!));
        Assert.Equal(3L, (long)model["training"]!["seed"]!);
        Assert.Equal(3, (int)model["service"]!["queue_capacity"]!);
        Assert.Equal("ok", (string)JsonNode.Parse(await client.GetStringAsync("/healthz"))!["status"]!);

        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, Raw(File.ReadAllBytes(fixture.Images[1])))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(client, Raw("not an image"u8.ToArray()))).Status);
        var metrics = JsonNode.Parse(await client.GetStringAsync("/metrics"))!;
        Assert.Equal(2, (long)metrics["requests"]!);
        Assert.Equal(1, (long)metrics["detected"]!);
        Assert.Equal(1, (long)metrics["errors"]!);
        Assert.Equal(1, (long)metrics["responses"]!["400"]!);
        Assert.Equal(1, (int)metrics["latency_ms"]!["window"]!);
        Assert.True((double)metrics["latency_ms"]!["p50"]! > 0);
        Assert.Equal(0, (int)metrics["queue_length"]!);
        Assert.Equal(0, (int)metrics["admitted"]!);

        using var page = await client.GetAsync("/");
        Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
        string html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<canvas id=\"canvas\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org", "", StringComparison.Ordinal), StringComparison.Ordinal);  // nothing from elsewhere
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_requests_get_json_errors_naming_the_problem_and_the_service_keeps_working()
    {
        await using var server = await StartAsync(fixture.Options() with { MaxBodyBytes = 64 * 1024 });
        var client = Client(server);
        byte[] jpeg = File.ReadAllBytes(fixture.Images[0]);

        async Task Expect(HttpStatusCode status, string code, string inMessage, HttpContent content, string query = "")
        {
            var (s, json) = await PostAsync(client, content, query);
            Assert.Equal(status, s);
            Assert.Equal(code, (string)json["error"]!["code"]!);
            Assert.Contains(inMessage, (string)json["error"]!["message"]!, StringComparison.Ordinal);
        }

        await Expect(HttpStatusCode.RequestEntityTooLarge, "body_too_large", "at most 65536 bytes", Raw(new byte[64 * 1024 + 1]));
        var chunked = new StreamContent(new MemoryStream(new byte[200_000]));   // no Content-Length: refused while reading
        chunked.Headers.ContentLength = null;
        await Expect(HttpStatusCode.RequestEntityTooLarge, "body_too_large", "passes the limit", chunked);
        await Expect(HttpStatusCode.BadRequest, "no_image", "empty", Raw([]));
        await Expect(HttpStatusCode.BadRequest, "not_an_image", "first bytes 0x3C68746D6C3E6865", Raw(Encoding.UTF8.GetBytes("<html>hello</html>")));
        await Expect(HttpStatusCode.BadRequest, "truncated_image", "truncated", Raw(jpeg[..(jpeg.Length / 2)]));
        await Expect(HttpStatusCode.BadRequest, "too_many_pixels", "30000x30000", Raw(ImagePixelLimitTests.PngDeclaring(30000, 30000), "image/png"));
        await Expect(HttpStatusCode.BadRequest, "unknown_class", "unknown class 'dog'", Raw(jpeg), "?classes=star,dog");
        await Expect(HttpStatusCode.BadRequest, "bad_parameter", "score_threshold", Raw(jpeg), "?score_threshold=2");
        await Expect(HttpStatusCode.BadRequest, "bad_parameter", "max_detections", Raw(jpeg), "?max_detections=-1");
        using var noFile = new MultipartFormDataContent { { new StringContent("0.5"), "score_threshold" } };
        await Expect(HttpStatusCode.BadRequest, "no_image", "no file", noFile);
        using var notAForm = new ByteArrayContent("--x\r\nbroken"u8.ToArray());
        notAForm.Headers.TryAddWithoutValidation("Content-Type", "multipart/form-data; boundary=x");
        await Expect(HttpStatusCode.BadRequest, "bad_request", "could not be read", notAForm);

        // Degenerate but valid images are detected, not failed: one pixel, a thin strip, a flat colour.
        foreach (var (w, h) in new[] { (1, 1), (2000, 6), (64, 64) })
        {
            using var png = new MemoryStream();
            ImageIO.EncodePng(RgbImage.Filled(w, h, new Rgb(20, 100, 10)), png);
            var (s, answer) = await PostAsync(client, Raw(png.ToArray(), "image/png"));
            Assert.True(s == HttpStatusCode.OK, $"{w}x{h}: {s} {answer.ToJsonString()}");
            Assert.Equal(w, (int)answer["image"]!["width"]!);
        }

        var (status, json) = await PostAsync(client, Raw(jpeg));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.NotEmpty(json["detections"]!.AsArray());
        Assert.Equal(0, server.Service.Pool.Admitted);
        Assert.Equal(0, server.Service.Metrics.Snapshot().Responses.GetValueOrDefault("500"));
    }

    [Fact]
    public async Task A_full_queue_answers_503_with_Retry_After_and_the_admitted_requests_finish()
    {
        await using var server = await StartAsync(fixture.Options(workers: 1, queue: 1) with { RetryAfterSeconds = 7 });
        var client = Client(server);
        byte[] jpeg = File.ReadAllBytes(fixture.Images[0]);
        var pool = server.Service.Pool;
        pool.Pause();
        var first = PostAsync(client, Raw(jpeg));
        var second = PostAsync(client, Raw(jpeg));
        Assert.True(SpinWait.SpinUntil(() => pool.Admitted == 2 && pool.QueueLength == 2, TimeSpan.FromSeconds(20)));
        using (var rejected = await client.PostAsync("/v1/detect", Raw(jpeg)))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, rejected.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(7), rejected.Headers.RetryAfter!.Delta);
            var error = JsonNode.Parse(await rejected.Content.ReadAsStringAsync())!["error"]!;
            Assert.Equal("busy", (string)error["code"]!);
        }
        var metrics = JsonNode.Parse(await client.GetStringAsync("/metrics"))!;
        Assert.Equal(1, (long)metrics["rejected"]!);
        Assert.Equal(2, (int)metrics["admitted"]!);
        pool.Resume();
        Assert.Equal(HttpStatusCode.OK, (await first).Status);
        Assert.Equal(HttpStatusCode.OK, (await second).Status);
        Assert.True(SpinWait.SpinUntil(() => pool.Admitted == 0, TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_request_cancelled_while_it_waits_is_never_detected_and_frees_its_place()
    {
        await using var server = await StartAsync(fixture.Options(workers: 1, queue: 1));
        var client = Client(server);
        byte[] jpeg = File.ReadAllBytes(fixture.Images[0]);
        var pool = server.Service.Pool;
        pool.Pause();
        using var cancel = new CancellationTokenSource();
        var waiting = PostAsync(client, Raw(jpeg), cancel: cancel.Token);
        Assert.True(SpinWait.SpinUntil(() => pool.QueueLength == 1, TimeSpan.FromSeconds(20)));   // waiting for the paused detector
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        pool.Resume();
        Assert.True(SpinWait.SpinUntil(() => pool.Skipped == 1 && pool.Admitted == 0, TimeSpan.FromSeconds(20)));
        var metrics = JsonNode.Parse(await client.GetStringAsync("/metrics"))!;
        Assert.Equal(1, (long)metrics["cancelled"]!);
        Assert.Equal(0, (long)metrics["detected"]!);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, Raw(jpeg))).Status);
    }
}
