using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FastRcnn.Cli;
using FastRcnn.Tests.Serving;

namespace FastRcnn.Tests.Cli;

/// <summary><c>fastrcnn serve</c> in a child process: it prints its address, serves, and on SIGTERM finishes the request in flight and exits 0.</summary>
[Collection(ServingCollection.Name)]
public sealed partial class ServeCommandTests(ServingFixture fixture)
{
    [GeneratedRegex(@"serving fast-rcnn \(8 classes\) on (http://127\.0\.0\.1:\d+)")]
    private static partial Regex Address();

    [Fact]
    public async Task Serve_prints_its_address_answers_and_stops_on_SIGTERM_after_the_request_in_flight()
    {
        if (OperatingSystem.IsWindows()) return;
        Assert.Equal(1, CliApp.Build().Parse(["serve", "--model", Path.Combine(fixture.ModelDirectory, "missing")]).Invoke());
        Assert.Equal(1, CliApp.Build().Parse(["serve", "--model", fixture.ModelDirectory, "--workers", "0"]).Invoke());

        using var child = CliProcess.Start("serve", "--model", fixture.ModelDirectory, "--urls", "http://127.0.0.1:0", "--scale", "600", "--max-size", "1000");
        Assert.True(child.WaitUntil(() => Address().IsMatch(child.Output), TimeSpan.FromSeconds(60)), child.Output);
        string address = Address().Match(child.Output).Groups[1].Value;
        using var client = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(60) };
        Assert.Equal("ok", (string)JsonNode.Parse(await client.GetStringAsync("/healthz"))!["status"]!);

        var content = new ByteArrayContent(File.ReadAllBytes(fixture.Images[0]));
        content.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        var inFlight = client.PostAsync("/v1/detect", content);
        // SIGTERM once the server holds the request (or has answered it already, on a fast machine).
        SpinWait.SpinUntil(() => inFlight.IsCompleted || (int)JsonNode.Parse(client.GetStringAsync("/metrics").Result)!["admitted"]! > 0, TimeSpan.FromSeconds(30));
        child.Signal(15);
        using var response = await inFlight;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotEmpty(JsonNode.Parse(await response.Content.ReadAsStringAsync())!["detections"]!.AsArray());
        Assert.Equal(0, child.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Contains("stopped after 1 detection request(s)", child.Output, StringComparison.Ordinal);
    }
}
