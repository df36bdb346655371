using FastRcnn.Serving;
using Microsoft.Playwright;

namespace FastRcnn.Tests.Serving;

/// <summary>
/// The page at <c>/</c> in a real browser: Debian's chromium (<c>apt-get install chromium</c>; <c>.ci/run</c> installs
/// it) driven by Playwright over a real Kestrel on a loopback port. No browser is downloaded: Playwright's node driver
/// comes with its NuGet package and launches the system's executable.
/// </summary>
/// <remarks>
/// <c>FASTRCNN_PAGE_MODEL</c> (a model directory) and <c>FASTRCNN_PAGE_IMAGE</c> replace the test's random model and
/// image, and <c>FASTRCNN_PAGE_SCREENSHOT</c> names where the screenshot is copied: how docs/serve-page.png is made.
/// </remarks>
[Collection(ServingCollection.Name)]
public sealed class ServicePageBrowserTests(ServingFixture fixture)
{
    /// <summary>The system chromium: <c>FASTRCNN_CHROMIUM</c>, else Debian's binary, else the <c>chromium</c> launcher.</summary>
    internal static string ChromiumPath()
    {
        string[] candidates = [Environment.GetEnvironmentVariable("FASTRCNN_CHROMIUM") ?? "", "/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser"];
        return candidates.FirstOrDefault(p => p.Length > 0 && File.Exists(p))
            ?? throw new InvalidOperationException("no chromium found: install it (apt-get install -y chromium) or set FASTRCNN_CHROMIUM");
    }

    [Fact]
    public async Task Uploading_an_image_draws_boxes_fills_the_table_and_the_slider_filters_them()
    {
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        string model = Environment.GetEnvironmentVariable("FASTRCNN_PAGE_MODEL") is { Length: > 0 } m ? m : fixture.ModelDirectory;
        string imagePath = Environment.GetEnvironmentVariable("FASTRCNN_PAGE_IMAGE") is { Length: > 0 } i ? i : fixture.Images[0];
        var options = model == fixture.ModelDirectory ? fixture.Options() : new ServeOptions(model);
        await using var server = DetectionServer.Create(options, ["http://127.0.0.1:0"]);
        await server.App.StartAsync();
        string address = server.Addresses.Single();
        Assert.StartsWith("http://127.0.0.1:", address, StringComparison.Ordinal);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = ChromiumPath(), Headless = true, Timeout = 60_000 });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1200, Height = 820 } });
        page.SetDefaultTimeout(60_000);
        await page.GotoAsync(address + "/");
        await page.Locator("#classes input").First.WaitForAsync();   // the model's classes became toggles

        await page.Locator("#file").SetInputFilesAsync(imagePath);
        await page.WaitForFunctionAsync("() => document.getElementById('times').tBodies[0].rows.length > 0");
        Assert.Contains("proposals", await page.Locator("#status").InnerTextAsync(), StringComparison.Ordinal);

        // Score 0: every detection is drawn and listed.
        await SetSliderAsync(page, 0);
        int all = await RowsAsync(page);
        Assert.True(all > 0, "no detections at score 0");
        Assert.Equal(all.ToString(System.Globalization.CultureInfo.InvariantCulture), await page.Locator("#canvas").GetAttributeAsync("data-boxes"));
        Assert.Equal($"({all} of {all})", await page.Locator("#count").InnerTextAsync());
        Assert.True(await CanvasHasBoxColoursAsync(page), "no box drawn on the canvas");

        // A threshold between the lowest and the highest score hides some, without a new request.
        var scores = (await page.Locator("#detections tbody tr td:nth-child(2)").AllInnerTextsAsync())
            .Select(s => double.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).Order().ToArray();
        double middle = Math.Round((scores[0] + scores[^1]) / 2, 2);
        if (middle <= scores[0]) middle = scores[^1];
        long requests = server.Service.Metrics.Snapshot().Requests;
        await SetSliderAsync(page, middle);
        int fewer = await RowsAsync(page);
        Assert.True(fewer >= 1 && fewer < all, $"{fewer} of {all} shown at {middle}; scores {string.Join(" ", scores)}");
        Assert.Equal($"({fewer} of {all})", await page.Locator("#count").InnerTextAsync());
        Assert.Equal(scores.Count(s => s >= middle - 0.0005), fewer, (a, b) => Math.Abs(a - b) <= 1);   // table scores are rounded to 3 places

        // A class toggle hides that class.
        string first = await page.Locator("#detections tbody tr td:nth-child(1)").First.InnerTextAsync();
        await page.Locator($"#classes input[value='{first}']").UncheckAsync();
        Assert.DoesNotContain(first, await page.Locator("#detections tbody tr td:nth-child(1)").AllInnerTextsAsync());
        await page.Locator($"#classes input[value='{first}']").CheckAsync();
        Assert.Equal(requests, server.Service.Metrics.Snapshot().Requests);   // filtering asked the server nothing

        // Phone width: the page fits without horizontal scrolling.
        await page.SetViewportSizeAsync(390, 844);
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth + 1"), "the page is wider than a phone");
        await page.SetViewportSizeAsync(1200, 820);
        await SetSliderAsync(page, 0.5);
        using var tmp = new TempDir();
        string shot = Path.Combine(tmp.Path, "page.png");
        await page.ScreenshotAsync(new() { Path = shot, FullPage = true });
        Assert.True(new FileInfo(shot).Length > 10_000);
        if (Environment.GetEnvironmentVariable("FASTRCNN_PAGE_SCREENSHOT") is { Length: > 0 } keep) File.Copy(shot, keep, overwrite: true);
    }

    private static async Task SetSliderAsync(IPage page, double value)
    {
        // A range input reads back its value in shortest form ("0", "0.5"), which fill checks.
        await page.Locator("#threshold").FillAsync(Math.Round(value, 2).ToString(System.Globalization.CultureInfo.InvariantCulture));
        await page.WaitForFunctionAsync($"() => document.getElementById('threshold-value').textContent === '{value:0.00}'");
    }

    private static Task<int> RowsAsync(IPage page) => page.Locator("#detections tbody tr").CountAsync();

    /// <summary>Whether the canvas has pixels of a box colour (the first palette colour of a class is drawn 2+ px wide).</summary>
    private static Task<bool> CanvasHasBoxColoursAsync(IPage page) => page.EvaluateAsync<bool>(@"() => {
        const c = document.getElementById('canvas');
        if (!c.width || !c.height) return false;
        const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const wanted = [...document.querySelectorAll('#classes i')].map(i => getComputedStyle(i).backgroundColor.match(/\d+/g).map(Number));
        for (let p = 0; p < data.length; p += 4)
            for (const [r, g, b] of wanted)
                if (data[p] === r && data[p + 1] === g && data[p + 2] === b) return true;
        return false;
    }");
}
