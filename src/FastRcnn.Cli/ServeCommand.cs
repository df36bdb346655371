using System.CommandLine;
using FastRcnn.Imaging;
using FastRcnn.Inference;
using FastRcnn.Modeling;
using FastRcnn.Runtime;
using FastRcnn.Serving;
using Microsoft.Extensions.Hosting;
using Spectre.Console;

namespace FastRcnn.Cli;

/// <summary>
/// <c>fastrcnn serve --model DIR [--urls URL] [--workers N]</c>: the detection service (HTTP API and page, docs/serve.md)
/// until Ctrl+C or SIGTERM; requests in flight finish before it exits.
/// </summary>
public static class ServeCommand
{
    public static Command Build()
    {
        var model = new Option<string>("--model") { Description = "A trained model directory (model.safetensors + model.json), any architecture.", Required = true };
        var urls = new Option<string>("--urls")
        {
            Description = "Where to listen, ';' between several (port 0: a free one).", DefaultValueFactory = _ => "http://127.0.0.1:8080",
        };
        var defaults = new ServeOptions(".");
        var workers = new Option<int>("--workers") { Description = "Detectors in the pool: requests detected at the same time.", DefaultValueFactory = _ => defaults.Workers };
        var threads = new Option<int>("--threads-per-worker")
        {
            Description = "libtorch and kernel threads of each detector (default: the processors shared among the workers).",
        };
        var queue = new Option<int>("--queue")
        {
            Description = "Requests that may wait for a free detector; more get 503 with Retry-After.", DefaultValueFactory = _ => defaults.QueueCapacity,
        };
        var maxBody = new Option<long>("--max-body-bytes")
        {
            Description = "The largest request body; larger gets 413.", DefaultValueFactory = _ => ServeOptions.DefaultMaxBodyBytes,
        };
        var threshold = new Option<double>("--score-threshold") { Description = "The detector keeps detections above this probability (requests filter further).", DefaultValueFactory = _ => 0.05 };
        var nms = new Option<double>("--nms") { Description = "Per-class NMS IoU threshold.", DefaultValueFactory = _ => 0.3 };
        var maxDets = new Option<int>("--max-detections") { Description = "The detector keeps at most this many detections per image.", DefaultValueFactory = _ => 100 };
        var scales = new TestScaleOptions();
        var precision = PrecisionOption.ForDetection();
        var input = new InputOptions(datasets: false);
        var command = new Command("serve", "Serve a model over HTTP: POST /v1/detect, GET /v1/model, /healthz, /metrics, and a page at / (docs/serve.md).")
        {
            model, urls, workers, threads, queue, maxBody, threshold, nms, maxDets, precision.Option,
        };
        foreach (var option in scales.All) command.Options.Add(option);
        var engine = new EngineOptions();
        foreach (var option in engine.All) command.Options.Add(option);
        input.AddTo(command);
        command.SetAction(parse =>
        {
            try
            {
                var detector = engine.Apply(parse, scales.Read(parse, new PostprocessOptions(parse.GetValue(threshold), parse.GetValue(nms), parse.GetValue(maxDets))))
                    with { Precision = precision.Read(parse) ?? Precision.Fp32 };
                var options = new ServeOptions(parse.GetValue(model)!, detector, parse.GetValue(workers), parse.GetValue(threads), parse.GetValue(queue),
                    parse.GetValue(maxBody), parse.GetValue(input.MaxImagePixels) ?? ImageIO.MaxPixels);
                var addresses = parse.GetValue(urls)!.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                return Run(options, addresses).GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException or InvalidOperationException or NotSupportedException)
            {
                AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
                return 1;
            }
        });
        return command;
    }

    private static async Task<int> Run(ServeOptions options, string[] urls)
    {
        AnsiConsole.MarkupLine($"loading {Markup.Escape(options.ModelDirectory)} into {options.Workers} detector(s) × {options.EffectiveThreadsPerWorker} thread(s)…");
        await using var server = DetectionServer.Create(options, urls);
        await server.App.StartAsync();
        var info = server.Service.Pool.Prototype;
        // Plain lines (scripts and tests read the address).
        Console.WriteLine($"serving {info.Model.Architecture.Name()} ({info.ClassNames.Count} classes) on {string.Join(", ", server.Addresses)}");
        Console.WriteLine("press Ctrl+C to stop");
        await server.App.WaitForShutdownAsync();
        Console.WriteLine($"stopped after {server.Service.Metrics.Snapshot().Requests} detection request(s)");
        return 0;
    }
}
