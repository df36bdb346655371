using System.Text.Json.Nodes;
using FastRcnn.Cli;
using FastRcnn.Inference;
using Spectre.Console;

namespace FastRcnn.Tests.Cli;

/// <summary><c>fastrcnn demo --quick</c> end to end, in-process: every step runs and leaves its files.</summary>
[Collection(CliCollection.Name)]
public class DemoCommandTests
{
    private static (int Exit, string Output) Run(params string[] args) => CliRunner.Run(args);

    [Fact]
    public void Quick_demo_generates_trains_evaluates_compresses_and_reports()
    {
        using var tmp = new TempDir();
        string root = tmp.Combine("demo");
        var (exit, output) = Run("demo", "--quick", "--out", root, "--cache-dir", tmp.Combine("cache"));
        Assert.True(exit == 0, output);
        Assert.Contains("from small-shapesnet (14 tensors)", output);   // fine-tuned from the built-in pre-training

        Assert.True(File.Exists(Path.Combine(root, "shapes", "shapes.json")));
        Assert.True(File.Exists(Path.Combine(root, "model", "model.safetensors")));
        Assert.True(File.Exists(Path.Combine(root, "model", "loss_log.csv")));
        Assert.Equal(128, FastRcnn.Modeling.ModelFiles.ReadInfo(Path.Combine(root, "model-svd")).HeadRanks.Fc6);
        var map = new Dictionary<string, double>();
        foreach (var eval in new[] { "eval", "eval-svd" })
        {
            var metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(root, eval, "metrics.json")))!;
            map[eval] = (double)metrics["map_voc07"]!;
            // The mean over the classes with objects in the 12 test images, of per-class APs written beside it.
            var perClass = metrics["classes"]!.AsObject().Select(c => c.Value!["ap_voc07"]).Where(v => v is not null).Select(v => (double)v!).ToArray();
            Assert.Equal(perClass.Average(), map[eval], 5);
            Assert.Equal(12, (int)metrics["images"]!);
            Assert.True(File.Exists(Path.Combine(root, eval, "pr_all.png")));
            if (eval == "eval") map["coco"] = (double)metrics["coco_ap"]!;
        }
        // What the run prints is what it wrote, and fine-tuning from small-shapesnet finds objects even in this short run.
        Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"VOC07 mAP {map["eval"]:F3} (after SVD {map["eval-svd"]:F3}), COCO AP {map["coco"]:F3}"), output);
        Assert.True(map["eval"] > 0.5, $"VOC07 mAP {map["eval"]}");   // 0.693 (0.691 after SVD, COCO AP 0.404) on the 2-core test machine
        using (var detector = Detector.Load(Path.Combine(root, "model-svd"))) Assert.Equal(8, detector.ClassNames.Count);

        string html = File.ReadAllText(Path.Combine(root, "report.html"));
        foreach (var section in new[] { "Average precision per class", "Precision–recall", "Training loss", "Sample test detections", "Detection time per image", "Truncated SVD" })
            Assert.Contains(section, html);
        Assert.True(html.Split("data:image/png;base64,").Length - 1 >= 3 + 2, "inline images: loss curve, PR curves, samples");
        Assert.Contains("background IoU [0, 0.5), any of the 8 orientations, random channel order", html);   // the demo's recipe, stated
        Assert.Contains("demo done", output);

        // A second run finds the dataset and the cached proposals.
        (exit, output) = Run("demo", "--quick", "--out", root, "--cache-dir", tmp.Combine("cache"), "--iters", "5");
        Assert.True(exit == 0, output);
        Assert.Contains("already there", output);
    }
}
