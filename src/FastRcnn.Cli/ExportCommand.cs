using System.CommandLine;
using System.Diagnostics;
using FastRcnn.Export;
using FastRcnn.Inference;
using FastRcnn.Modeling;
using Spectre.Console;

namespace FastRcnn.Cli;

/// <summary>
/// <c>fastrcnn export --model DIR --format onnx --out model.onnx</c>: a trained Fast R-CNN or Faster R-CNN detector as an ONNX model
/// (<see cref="OnnxExporter"/>; docs/deploy.md), with its classes and test settings in the file's metadata.
/// </summary>
public static class ExportCommand
{
    public static Command Build()
    {
        var model = new Option<string>("--model") { Description = "A trained model directory (model.safetensors + model.json); SVD-compressed models too.", Required = true };
        var format = new Option<string>("--format") { Description = "The format: onnx.", DefaultValueFactory = _ => "onnx" };
        var outFile = new Option<string>("--out") { Description = "The .onnx file to write (replaced if present); large weights go to <out>.data.", Required = true };
        var opset = new Option<int>("--opset") { Description = $"ONNX operator set ({OnnxExporter.MinOpset} or later).", DefaultValueFactory = _ => 13 };
        var external = new Option<string>("--external-data") { Description = "auto (a data file when the weights pass 2 GB), always or never.", DefaultValueFactory = _ => "auto" };
        var threshold = new Option<double>("--score-threshold") { Description = "Recorded postprocessing: keep detections above this probability.", DefaultValueFactory = _ => 0.05 };
        var nms = new Option<double>("--nms") { Description = "Recorded postprocessing: per-class NMS IoU threshold.", DefaultValueFactory = _ => 0.3 };
        var maxDets = new Option<int>("--max-detections") { Description = "Recorded postprocessing: at most this many detections per image.", DefaultValueFactory = _ => 100 };
        var scales = new TestScaleOptions();
        var command = new Command("export", "Export a trained Fast R-CNN or Faster R-CNN model as ONNX (image and RoIs, or image and im_info, in; class probabilities and boxes out), its classes and test settings in the file's metadata.")
        {
            model, format, outFile, opset, external, threshold, nms, maxDets,
        };
        foreach (var option in scales.All) command.Options.Add(option);
        command.SetAction(parse =>
        {
            try
            {
                if (!string.Equals(parse.GetValue(format), "onnx", StringComparison.OrdinalIgnoreCase))
                    throw new ArgumentException($"--format {parse.GetValue(format)}: only onnx is supported");
                var externalData = parse.GetValue(external)?.ToLowerInvariant() switch
                {
                    "auto" => OnnxExternalData.Auto,
                    "always" => OnnxExternalData.Always,
                    "never" => OnnxExternalData.Never,
                    var other => throw new ArgumentException($"--external-data {other}: use auto, always or never"),
                };
                string destination = Path.GetFullPath(parse.GetValue(outFile)!);
                Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
                var test = scales.Read(parse, new PostprocessOptions(parse.GetValue(threshold), parse.GetValue(nms), parse.GetValue(maxDets)));
                var (loaded, info) = ModelFiles.Load(parse.GetValue(model)!);
                using (loaded)
                {
                    var clock = Stopwatch.StartNew();
                    var result = OnnxExporter.Export(loaded, info.ClassNames, destination, new OnnxExportOptions(parse.GetValue(opset), test, externalData));
                    AnsiConsole.MarkupLine($"wrote {Markup.Escape(result.ModelPath)} ({result.ModelBytes / 1e6:F1} MB" +
                        (result.ExternalDataPath is null ? "" : $", weights in {Markup.Escape(result.ExternalDataPath)}: {result.ExternalDataBytes / 1e6:F1} MB") +
                        $") in {clock.Elapsed.TotalSeconds:F1} s: {info.Backbone}, {info.ClassNames.Count} classes, opset {parse.GetValue(opset)}");
                }
                return 0;
            }
            catch (Exception e) when (CliErrors.IsInputError(e) || e is InvalidDataException or NotSupportedException)
            {
                return CliErrors.Fail(e.Message);
            }
        });
        return command;
    }
}
