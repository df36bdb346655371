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

        Assert.Equal(1, Run("detect", "--model", tmp.Combine("nomodel"), images, "--out", outDir));
        Assert.Equal(1, Run("detect", "--model", modelDir, tmp.Combine("noimage.png"), "--out", outDir));
        File.WriteAllText(Path.Combine(images, "c.png"), "not an image");
        Assert.Equal(1, Run("detect", "--model", modelDir, images, "--out", outDir));
    }
}
