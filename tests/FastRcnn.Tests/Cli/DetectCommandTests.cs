using System.Text.Json.Nodes;
using FastRcnn.Cli;
using FastRcnn.Imaging;
using FastRcnn.Modeling;
using FastRcnn.Tests.Data;

namespace FastRcnn.Tests.Cli;

/// <summary><c>fastrcnn detect</c>, invoked in-process on a saved (untrained) model.</summary>
[Collection(FastRcnn.Tests.Cli.CliCollection.Name)]
public class DetectCommandTests
{
    private static int Run(params string[] args) => CliApp.Build().Parse(args).Invoke();

    [Fact]
    public void Writes_drawn_images_and_a_detections_file_and_rejects_bad_input()
    {
        using var tmp = new TempDir();
        string modelDir = tmp.Combine("model");
        using (var model = new TwoStageModel("small", numClasses: 2, seed: 4))
            ModelFiles.Save(modelDir, model, ["cat", "dog"]);
        string images = tmp.Combine("images");
        Directory.CreateDirectory(images);
        ImageIO.WritePng(RgbImage.Filled(96, 80, new Rgb(200, 30, 30)), Path.Combine(images, "a.png"));
        ImageIO.WritePng(RgbImage.Filled(64, 64, new Rgb(30, 200, 30)), Path.Combine(images, "b.png"));

        string outDir = tmp.Combine("out");
        Assert.Equal(0, Run("detect", "--model", modelDir, images, "--out", outDir, "--scale", "64", "--score-threshold", "0"));
        Assert.True(File.Exists(Path.Combine(outDir, "a.png")) && File.Exists(Path.Combine(outDir, "b.png")));
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "detections.json")))!.AsArray();
        Assert.Equal(2, json.Count);
        Assert.All(json, entry => Assert.Contains(entry!["detections"]!.AsArray().Select(d => (string)d!["class"]!), c => c is "cat" or "dog"));

        string bf16Dir = tmp.Combine("out-bf16");
        Assert.Equal(0, Run("detect", "--model", modelDir, images, "--out", bf16Dir, "--scale", "64", "--score-threshold", "0", "--precision", "bf16"));
        var bf16 = JsonNode.Parse(File.ReadAllText(Path.Combine(bf16Dir, "detections.json")))!.AsArray();
        Assert.Equal(json.Select(e => e!["detections"]!.AsArray().Count), bf16.Select(e => e!["detections"]!.AsArray().Count));
        Assert.NotEqual(0, Run("detect", "--model", modelDir, images, "--out", bf16Dir, "--precision", "fp16"));

        Assert.Equal(1, Run("detect", "--model", tmp.Combine("nomodel"), images, "--out", outDir));
        Assert.Equal(1, Run("detect", "--model", modelDir, tmp.Combine("noimage.png"), "--out", outDir));
        File.WriteAllText(Path.Combine(images, "c.png"), "not an image");
        Assert.Equal(1, Run("detect", "--model", modelDir, images, "--out", outDir));
    }

    [Fact]
    public void Detect_skips_and_lists_bad_files_and_keeps_relative_paths_in_output_names()
    {
        using var tmp = new TempDir();
        string modelDir = tmp.Combine("model");
        using (var model = new TwoStageModel("small", numClasses: 2, seed: 4))
            ModelFiles.Save(modelDir, model, ["cat", "dog"]);
        string a = tmp.Combine("A"), b = tmp.Combine("B");
        Directory.CreateDirectory(a);
        Directory.CreateDirectory(b);
        ImageIO.WriteJpeg(RgbImage.Filled(64, 48, new Rgb(200, 30, 30)), Path.Combine(a, "x.jpg"));
        ImageIO.WritePng(RgbImage.Filled(48, 64, new Rgb(30, 200, 30)), Path.Combine(a, "x.png"));
        ImageIO.WriteJpeg(RgbImage.Filled(56, 56, new Rgb(30, 30, 200)), Path.Combine(b, "x.jpg"));
        File.WriteAllText(Path.Combine(a, "broken.png"), "not an image");

        string outDir = tmp.Combine("out");
        var (exit, output) = CliRunner.Run("detect", "--model", modelDir, a, b, "--out", outDir, "--scale", "48", "--score-threshold", "0");
        Assert.Equal(1, exit);                                                   // a file was bad: non-zero, but only at the end
        Assert.Contains("wrote 3 image(s)", output, StringComparison.Ordinal);
        Assert.Contains("1 of 4 image(s) could not be read and were skipped", output, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(a, "broken.png") + ":", output, StringComparison.Ordinal);
        Assert.Equal(["A/x.jpg.png", "A/x.png.png", "B/x.png"],
            Directory.GetFiles(outDir, "*.png", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(outDir, f).Replace('\\', '/')).Order(StringComparer.Ordinal));
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "detections.json")))!.AsArray();
        Assert.Equal(["A/x.jpg.png", "A/x.png.png", "B/x.png"], json.Select(e => (string)e!["output"]!).Order(StringComparer.Ordinal));
        Assert.Equal(Path.Combine(b, "x.jpg"), (string)json.Single(e => (string)e!["output"]! == "B/x.png")!["image"]!);
    }
}
