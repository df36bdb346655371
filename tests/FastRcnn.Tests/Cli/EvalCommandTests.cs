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
    public void A_COCO_dataset_gets_its_own_category_ids_in_detections_coco_json_and_eval_detections_reads_them()
    {
        using var tmp = new TempDir();
        string data = tmp.Combine("shapes");
        ShapesGenerator.Generate(data, new ShapesOptions { TrainImages = 0, TestImages = 2, Seed = 9, MinImageSize = 160, MaxImageSize = 200 });
        // The same split as a COCO file with sparse category ids 13, 23, …, 83 and image ids 1000, 1001.
        var voc = DatasetLoader.Load(data, "test");
        long[] categoryIds = Enumerable.Range(0, voc.NumClasses).Select(k => 13L + 10 * k).ToArray();
        var coco = new JsonObject
        {
            ["images"] = new JsonArray(voc.Images.Select((im, i) => (JsonNode)new JsonObject
                { ["id"] = 1000 + i, ["file_name"] = Path.GetFileName(im.ImagePath), ["width"] = im.Width, ["height"] = im.Height }).ToArray()),
            ["annotations"] = new JsonArray(voc.Images.SelectMany((im, i) => im.Objects.Select(o => (i, o))).Select((p, n) => (JsonNode)new JsonObject
            {
                ["id"] = n + 1, ["image_id"] = 1000 + p.i, ["category_id"] = categoryIds[p.o.ClassIndex - 1],
                ["bbox"] = new JsonArray(p.o.Box.X1, p.o.Box.Y1, p.o.Box.Width, p.o.Box.Height), ["iscrowd"] = 0,
            }).ToArray()),
            ["categories"] = new JsonArray(categoryIds.Select((id, k) => (JsonNode)new JsonObject { ["id"] = id, ["name"] = voc.ClassNames[k + 1] }).ToArray()),
        };
        string json = Path.Combine(data, "JPEGImages", "instances_test.json");
        File.WriteAllText(json, coco.ToJsonString());
        string modelDir = tmp.Combine("model");
        using (var model = new TwoStageModel("small", voc.NumClasses, seed: 2))
            ModelFiles.Save(modelDir, model, voc.ClassNames.Skip(1).ToArray());

        Assert.Equal(0, Run("eval", "--model", modelDir, "--dataset", json, "--scale", "128", "--cache-dir", tmp.Combine("cache")));
        string output = Path.Combine(modelDir, "eval-test");
        var written = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "detections_coco.json")))!.AsArray();
        Assert.NotEmpty(written);
        Assert.All(written, d => Assert.Contains((long)d!["category_id"]!, categoryIds));
        Assert.All(written, d => Assert.InRange((long)d!["image_id"]!, 1000, 1001));
        Assert.Contains(written, d => (long)d!["category_id"]! > voc.NumClasses);   // not the class indices 1..K

        string again = tmp.Combine("again");
        Assert.Equal(0, Run("eval", "--detections", Path.Combine(output, "detections_coco.json"), "--dataset", json, "--out", again));
        var first = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "metrics.json")))!;
        var second = JsonNode.Parse(File.ReadAllText(Path.Combine(again, "metrics.json")))!;
        Assert.Equal(first["coco_ap"]?.ToJsonString(), second["coco_ap"]?.ToJsonString());
        Assert.Equal(first["classes"]?.ToJsonString(), second["classes"]?.ToJsonString());

        // A file with the class indices 1..K as category ids is refused with the ids the dataset has.
        string indices = tmp.Combine("indices.json");
        File.WriteAllText(indices, """[{"image_id": 1000, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.5}]""");
        var (exit, text) = CliRunner.Run("eval", "--detections", indices, "--dataset", json, "--out", tmp.Combine("refused"));
        Assert.Equal(1, exit);
        Assert.Contains("category_id 1 is not a category of the dataset (13, 23,", text);
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
