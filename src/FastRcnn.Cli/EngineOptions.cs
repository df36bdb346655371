using System.CommandLine;
using FastRcnn.Inference;

namespace FastRcnn.Cli;

/// <summary>
/// The inference-engine options that <c>detect</c> and <c>eval</c> share: <c>--engine torch|onnxruntime</c>,
/// <c>--onnx-arrangement split|whole</c> and <c>--onnx FILE</c> (an exported model to run instead of exporting in memory).
/// </summary>
public sealed class EngineOptions
{
    public Option<string> Engine { get; } = new("--engine")
    {
        Description = "What runs the network: torch (TorchSharp) or onnxruntime (ONNX Runtime on the model's ONNX export).",
        DefaultValueFactory = _ => "torch",
    };

    public Option<string> Arrangement { get; } = new("--onnx-arrangement")
    {
        Description = "With --engine onnxruntime: split (trunk and head sessions around this library's RoI pooling; faster) or whole (one session, ONNX MaxRoiPool).",
        DefaultValueFactory = _ => "split",
    };

    public Option<string?> OnnxFile { get; } = new("--onnx")
    {
        Description = "With --engine onnxruntime: run this exported file (fastrcnn export) as one session; its classes must equal the model's.",
    };

    /// <summary>The three options, to add to a command.</summary>
    public IEnumerable<Option> All => [Engine, Arrangement, OnnxFile];

    /// <summary><paramref name="options"/> with the engine these values choose.</summary>
    public DetectorOptions Apply(ParseResult parse, DetectorOptions options)
    {
        var engine = parse.GetValue(Engine)?.Trim().ToLowerInvariant() switch
        {
            "torch" => InferenceEngine.Torch,
            "onnxruntime" or "ort" or "onnx" => InferenceEngine.OnnxRuntime,
            var other => throw new ArgumentException($"--engine {other}: use torch or onnxruntime"),
        };
        var arrangement = parse.GetValue(Arrangement)?.Trim().ToLowerInvariant() switch
        {
            "split" => OnnxArrangement.Split,
            "whole" => OnnxArrangement.Whole,
            var other => throw new ArgumentException($"--onnx-arrangement {other}: use split or whole"),
        };
        string? file = parse.GetValue(OnnxFile);
        if (engine != InferenceEngine.OnnxRuntime && (file is not null || parse.GetResult(Arrangement) is { Implicit: false }))
            throw new ArgumentException("--onnx and --onnx-arrangement need --engine onnxruntime");
        if (file is not null && !File.Exists(file)) throw new FileNotFoundException($"{file}: no such ONNX file", file);
        return options with { Engine = engine, OnnxArrangement = arrangement, OnnxModelPath = file is null ? null : Path.GetFullPath(file) };
    }
}
