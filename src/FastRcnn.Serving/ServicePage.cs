using Microsoft.AspNetCore.Http;

namespace FastRcnn.Serving;

/// <summary>The page at <c>/</c>: one self-contained HTML file (styles and script inline, no CDN) embedded in the assembly.</summary>
public static class ServicePage
{
    private static readonly Lazy<byte[]> Html = new(() =>
    {
        using var stream = typeof(ServicePage).Assembly.GetManifestResourceStream("FastRcnn.Serving.index.html")
            ?? throw new InvalidOperationException("the page is missing from the assembly (FastRcnn.Serving.index.html)");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    /// <summary>The page's bytes (UTF-8 HTML).</summary>
    public static ReadOnlyMemory<byte> Bytes => Html.Value;

    /// <summary>Writes the page.</summary>
    public static async Task WriteAsync(HttpContext context)
    {
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers.CacheControl = "no-cache";
        await context.Response.Body.WriteAsync(Html.Value, context.RequestAborted);
    }
}
