using System.Text.Json.Nodes;
using FastRcnn.Export;
using FastRcnn.Imaging;
using FastRcnn.Modeling;
using Microsoft.ML.OnnxRuntime;

namespace FastRcnn.Tests.Cli;

/// <summary><c>fastrcnn export --format onnx</c> and <c>detect --engine onnxruntime</c>, in-process on a saved (untrained) model.</summary>
[Collection(CliCollection.Name)]
public class ExportCommandTests
{
    [Fact]
    public void Exports_a_model_that_detect_runs_in_onnx_runtime_as_torch_does_and_rejects_bad_options()
    {
        using var tmp = new TempDir();
        string modelDir = tmp.Combine("model");
        using (var model = new TwoStageModel("small", numClasses: 2, seed: 4))
            ModelFiles.Save(modelDir, model, ["cat", "dog"]);
        string file = tmp.Combine("out", "model.onnx");
        var (exit, output) = CliRunner.Run("export", "--model", modelDir, "--format", "onnx", "--out", file, "--scale", "64", "--score-threshold", "0.01");
        Assert.True(exit == 0, output);
        Assert.Contains("small, 2 classes, opset 13", output, StringComparison.Ordinal);
        using (var session = new InferenceSession(file))
        {
            Assert.Equal("[\"cat\",\"dog\"]", session.ModelMetadata.CustomMetadataMap[OnnxMetadata.Classes]);
            Assert.Equal("[64]", session.ModelMetadata.CustomMetadataMap[OnnxMetadata.TestScales]);
        }

        string images = tmp.Combine("images");
        Directory.CreateDirectory(images);
        var image = RgbImage.Filled(96, 80, new Rgb(200, 30, 30));
        for (int y = 20; y < 60; y++)
            for (int x = 10; x < 50; x++)
                image.Data[3 * (y * 96 + x) + 2] = 240;
        ImageIO.WritePng(image, Path.Combine(images, "a.png"));
        string Detections(params string[] engine)
        {
            string outDir = tmp.Combine("detect-" + string.Join("-", engine.Select(Path.GetFileName)));
            var (code, text) = CliRunner.Run(["detect", "--model", modelDir, images, "--out", outDir, "--scale", "64", "--score-threshold", "0", .. engine]);
            Assert.True(code == 0, text);
            var entry = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "detections.json")))!.AsArray()[0]!;
            return entry["detections"]!.ToJsonString();
        }
        string torch = Detections();
        Assert.Contains("\"class\"", torch, StringComparison.Ordinal);
        Assert.Equal(torch, Detections("--engine", "onnxruntime"));                 // scores rounded to 5 decimals, boxes as floats
        Assert.Equal(torch, Detections("--engine", "onnxruntime", "--onnx", file));

        Assert.Equal(1, CliRunner.Run("export", "--model", modelDir, "--format", "tflite", "--out", file).Exit);
        Assert.Equal(1, CliRunner.Run("export", "--model", tmp.Combine("nomodel"), "--out", file).Exit);
        Assert.Equal(1, CliRunner.Run("detect", "--model", modelDir, images, "--out", tmp.Combine("x"), "--onnx", file).Exit);   // --onnx needs the engine
        Assert.Equal(1, CliRunner.Run("detect", "--model", modelDir, images, "--out", tmp.Combine("x"), "--engine", "tensorrt").Exit);
    }
}
