using System.Text.Json.Nodes;
using FastRcnn.Cli;
using FastRcnn.Data;
using FastRcnn.Modeling;

namespace FastRcnn.Tests.Cli;

/// <summary><c>fastrcnn eval</c> end to end on a tiny generated Shapes split, in-process.</summary>
[Collection(FastRcnn.Tests.Cli.CliCollection.Name)]
public class EvalCommandTests
{
    private static int Run(params string[] args) => CliApp.Build().Parse(args).Invoke();

    [Fact]
    public void Evaluates_a_model_writes_every_result_file_and_re_evaluates_its_own_detections()
    {
        using var tmp = new TempDir();
        string data = tmp.Combine("shapes");
        ShapesGenerator.Generate(data, new ShapesOptions { TrainImages = 0, TestImages = 2, Seed = 9, MinImageSize = 160, MaxImageSize = 200 });
        string modelDir = tmp.Combine("model");
        var objectClasses = ShapesGenerator.ClassNames.Skip(1).ToArray();   // without __background__
        using (var model = new TwoStageModel("small", objectClasses.Length, seed: 2))
            ModelFiles.Save(modelDir, model, objectClasses);

        Assert.Equal(0, Run("eval", "--model", modelDir, "--dataset", data, "--split", "test", "--scale", "128", "--cache-dir", tmp.Combine("cache")));
        string output = Path.Combine(modelDir, "eval-test");
        foreach (var file in new[] { "metrics.json", "metrics.csv", "detections_coco.json", "pr_all.png" })
            Assert.True(File.Exists(Path.Combine(output, file)), file);
        Assert.Equal(objectClasses.Length, Directory.GetFiles(Path.Combine(output, "voc_results")).Length);
        var first = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "metrics.json")))!;

        string again = tmp.Combine("again");
        Assert.Equal(0, Run("eval", "--detections", Path.Combine(output, "detections_coco.json"), "--dataset", data, "--split", "test", "--out", again));
        var second = JsonNode.Parse(File.ReadAllText(Path.Combine(again, "metrics.json")))!;
        Assert.Equal(first["map_voc07"]?.ToJsonString(), second["map_voc07"]?.ToJsonString());
        Assert.Equal(first["coco_ap"]?.ToJsonString(), second["coco_ap"]?.ToJsonString());
    }

    [Fact]
    public void A_model_with_other_classes_than_the_dataset_is_refused()
    {
        using var tmp = new TempDir();
        string data = tmp.Combine("shapes");
        ShapesGenerator.Generate(data, new ShapesOptions { TrainImages = 0, TestImages = 1, Seed = 1, MinImageSize = 160, MaxImageSize = 200 });
        string modelDir = tmp.Combine("model");
        using (var model = new TwoStageModel("small", 2, seed: 2))
            ModelFiles.Save(modelDir, model, ["cat", "dog"]);
        Assert.Equal(1, Run("eval", "--model", modelDir, "--dataset", data, "--split", "test", "--cache-dir", tmp.Combine("cache")));
        Assert.Equal(1, Run("eval", "--dataset", data, "--split", "test"));                     // neither model nor detections
        Assert.Equal(1, Run("eval", "--model", tmp.Combine("none"), "--dataset", data, "--split", "test"));
    }
}
