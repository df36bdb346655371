using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FastRcnn.Serving;

/// <summary>
/// The detection service as an ASP.NET Core application: <see cref="DetectionService"/>'s endpoints and the page at
/// <c>/</c> (<see cref="ServicePage"/>). <see cref="Create"/> loads the model; <c>App.StartAsync</c> listens;
/// stopping the app (Ctrl+C, SIGTERM, <c>StopAsync</c>) lets requests in flight finish; <see cref="DisposeAsync"/>
/// then disposes the detectors.
/// </summary>
public sealed class DetectionServer : IAsyncDisposable
{
    private DetectionServer(WebApplication app, DetectionService service)
    {
        App = app;
        Service = service;
    }

    public WebApplication App { get; }

    public DetectionService Service { get; }

    /// <summary>The addresses the server listens on, once started (e.g. <c>http://127.0.0.1:8080</c>).</summary>
    public IReadOnlyList<string> Addresses =>
        App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];

    /// <summary>
    /// Loads the model and builds the application. <paramref name="urls"/>: where Kestrel listens (default
    /// <c>http://127.0.0.1:8080</c>; port 0 picks a free one). <paramref name="configure"/> adjusts the builder (tests put
    /// the test server in place of Kestrel).
    /// </summary>
    public static DetectionServer Create(ServeOptions options, IReadOnlyList<string>? urls = null, Action<WebApplicationBuilder>? configure = null)
    {
        var service = new DetectionService(options);
        try
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.WebHost.UseUrls(urls is { Count: > 0 } ? [.. urls] : ["http://127.0.0.1:8080"]);
            // The service reads and bounds request bodies itself (413 past ServeOptions.MaxBodyBytes).
            builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null);
            builder.Services.Configure<FormOptions>(f => f.MultipartBodyLengthLimit = options.MaxBodyBytes);
            configure?.Invoke(builder);
            var app = builder.Build();
            service.Logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("FastRcnn.Serving");
            app.MapGet("/", ServicePage.WriteAsync);
            app.MapPost("/v1/detect", service.DetectAsync);
            app.MapGet("/v1/model", service.ModelAsync);
            app.MapGet("/healthz", service.HealthAsync);
            app.MapGet("/metrics", service.MetricsAsync);
            return new DetectionServer(app, service);
        }
        catch
        {
            service.Dispose();
            throw;
        }
    }

    /// <summary>Stops the application if it runs (requests in flight finish), then disposes it and the detectors.</summary>
    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        Service.Dispose();
    }
}
