using System.Text.Json.Nodes;
using FastRcnn.IO;
using FastRcnn.Modeling;
using FastRcnn.Modeling.RoiHeads;
using FastRcnn.Ops;
using static FastRcnn.Tests.Modeling.ModelingTestData;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Modeling;

public sealed class ModelFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("model-files-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly string[] ClassNames = ["circle", "square", "triangle"];

    /// <summary>A small model nudged away from its initial weights by two SGD steps.</summary>
    private static TwoStageModel Trained(long seed, TwoStageOptions? options = null)
    {
        var model = new TwoStageModel("small", numClasses: 3, seed: seed, options: options);
        model.train();
        using var optimizer = OptimizerSetup.Sgd(model, 0.01);
        var (images, targets) = Batch(model, seed: 1, count: 2, height: 64, width: 80);
        for (int i = 0; i < 2; i++)
        {
            optimizer.zero_grad();
            model.Loss(images, targets).Total().backward();
            optimizer.step();
        }
        return model;
    }

    [Fact]
    public void Save_then_load_predicts_bit_for_bit_the_same()
    {
        using var model = Trained(seed: 21, new TwoStageOptions { BoxCoder = new BoxCoder(8, 8, 4, 4) });
        var config = new JsonObject { ["lr"] = 0.01, ["iterations"] = 2, ["dataset"] = new JsonObject { ["name"] = "shapes" } };
        string dir = Path.Combine(_dir, "run1");
        ModelFiles.Save(dir, model, ClassNames, config);

        Assert.True(File.Exists(Path.Combine(dir, "model.safetensors")));
        Assert.True(File.Exists(Path.Combine(dir, "model.json")));
        Assert.Empty(Directory.GetFiles(dir, "*.tmp"));

        var loaded = ModelFiles.Load(dir);
        using var copy = loaded.Model;
        Assert.Equal(ClassNames, loaded.Info.ClassNames);
        Assert.Equal(("small", "torchvision-rgb", 5, 21L), (loaded.Info.Backbone, loaded.Info.PixelPreprocessing, loaded.Info.RoiPoolSize, loaded.Info.Seed));
        Assert.Equal(new BoxCoder(8, 8, 4, 4), loaded.Info.BoxCoder);
        Assert.Equal(new BoxCoder(8, 8, 4, 4), copy.Options.BoxCoder);
        Assert.Equal("shapes", loaded.Info.TrainingConfig!["dataset"]!["name"]!.GetValue<string>());

        var original = model.state_dict();
        Assert.All(copy.state_dict(), p => Assert.True(Same(original[p.Key], p.Value), p.Key));
        var image = randn(1, 3, 72, 96, generator: new TorchSharp.torch.Generator(3));
        var proposals = Boxes([0, 0, 40, 30], [10, 20, 90, 70], [33, 5, 60, 60]);
        var (p1, b1) = model.Predict(image, proposals);
        var (p2, b2) = copy.Predict(image, proposals);
        Assert.True(Same(p1, p2));
        Assert.True(Same(b1, b2));
    }

    [Fact]
    public void Weights_are_a_plain_safetensors_state_dict()
    {
        using var model = new TwoStageModel("small", numClasses: 3);
        ModelFiles.Save(_dir, model, ClassNames);
        var contents = SafeTensors.Read(Path.Combine(_dir, "model.safetensors"));
        Assert.Equal(model.state_dict().Keys.Order(), contents.Tensors.Select(t => t.Key).Order());
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, "model.json")))!;
        Assert.Equal(new[] { 10.0, 10, 5, 5 }, json["box_coder"]!["weights"]!.AsArray().Select(n => n!.GetValue<double>()));
        Assert.Null(json["training_config"]);
    }

    [Fact]
    public void Missing_files_are_errors_naming_them()
    {
        var error = Assert.Throws<FileNotFoundException>(() => ModelFiles.Load(_dir));
        Assert.Contains(Path.Combine(_dir, "model.json"), error.Message);

        using var model = new TwoStageModel("small", numClasses: 3);
        ModelFiles.Save(_dir, model, ClassNames);
        File.Delete(Path.Combine(_dir, "model.safetensors"));
        error = Assert.Throws<FileNotFoundException>(() => ModelFiles.Load(_dir));
        Assert.Contains(Path.Combine(_dir, "model.safetensors"), error.Message);
    }

    [Fact]
    public void Class_count_disagreeing_with_the_weights_is_an_error_naming_both_files()
    {
        using var model = new TwoStageModel("small", numClasses: 3);
        ModelFiles.Save(_dir, model, ClassNames);
        string jsonPath = Path.Combine(_dir, "model.json");
        var json = AsVersion2(JsonNode.Parse(File.ReadAllText(jsonPath))!.AsObject());   // no class-list checksum to stop it first
        json["classes"]!.AsArray().Add("hexagon");
        File.WriteAllText(jsonPath, json.ToJsonString());

        var error = Assert.Throws<InvalidDataException>(() => ModelFiles.Load(_dir));
        Assert.Contains(Path.Combine(_dir, "model.safetensors"), error.Message);
        Assert.Contains(jsonPath, error.Message);
        Assert.Contains("4 classes", error.Message);
    }

    [Fact]
    public void Malformed_descriptions_and_weights_are_errors_naming_the_file()
    {
        using var model = new TwoStageModel("small", numClasses: 3);
        ModelFiles.Save(_dir, model, ClassNames);
        string jsonPath = Path.Combine(_dir, "model.json"), weightsPath = Path.Combine(_dir, "model.safetensors");
        string good = File.ReadAllText(jsonPath);

        File.WriteAllText(jsonPath, "{ not json");
        Assert.Contains(jsonPath, Assert.Throws<InvalidDataException>(() => ModelFiles.Load(_dir)).Message);

        File.WriteAllText(jsonPath, good.Replace("\"small\"", "\"resnet\""));
        Assert.Contains(jsonPath, Assert.Throws<InvalidDataException>(() => ModelFiles.Load(_dir)).Message);

        var node = JsonNode.Parse(good)!;
        node.AsObject().Remove("backbone");
        File.WriteAllText(jsonPath, node.ToJsonString());
        Assert.Contains(jsonPath, Assert.Throws<InvalidDataException>(() => ModelFiles.Load(_dir)).Message);

        File.WriteAllText(jsonPath, good);
        var state = model.state_dict().Where(p => p.Key != "box_head.fc7.bias").ToList();
        SafeTensors.Write(weightsPath, state);
        File.WriteAllText(jsonPath, AsVersion2(JsonNode.Parse(good)!.AsObject()).ToJsonString());   // no weights checksum to stop it first
        var error = Assert.Throws<InvalidDataException>(() => ModelFiles.Load(_dir));
        Assert.Contains(weightsPath, error.Message);
        Assert.Contains("box_head.fc7.bias", error.Message);

        File.WriteAllBytes(weightsPath, [9, 9, 9]);
        Assert.Contains(weightsPath, Assert.Throws<InvalidDataException>(() => ModelFiles.Load(_dir)).Message);
    }

    [Fact]
    public void A_factored_model_saves_its_ranks_and_loads_bit_for_bit()
    {
        using var model = new TwoStageModel("small", numClasses: 3, seed: 8, new TwoStageOptions { HeadRanks = new(Fc6: 24, Fc7: null) });
        ModelFiles.Save(_dir, model, ClassNames, compression: new JsonObject { ["method"] = "truncated-svd" });
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, "model.json")))!;
        Assert.Equal(ModelFiles.CurrentVersion, json["version"]!.GetValue<int>());
        Assert.Equal(24, json["box_head_ranks"]!["fc6"]!.GetValue<int>());
        Assert.Null(json["box_head_ranks"]!["fc7"]);

        var loaded = ModelFiles.Load(_dir);
        using var copy = loaded.Model;
        Assert.Equal(new BoxHeadRanks(24, null), loaded.Info.HeadRanks);
        Assert.Equal(new BoxHeadRanks(24, null), copy.BoxHead.Ranks);
        Assert.Equal("truncated-svd", loaded.Info.Compression!["method"]!.GetValue<string>());
        var original = model.state_dict();
        Assert.Contains("box_head.fc6.0.weight", original.Keys);
        Assert.All(copy.state_dict(), p => Assert.True(Same(original[p.Key], p.Value), p.Key));
        var image = randn(1, 3, 72, 96, generator: new TorchSharp.torch.Generator(3));
        var proposals = Boxes([0, 0, 40, 30], [10, 20, 90, 70]);
        var (p1, b1) = model.Predict(image, proposals);
        var (p2, b2) = copy.Predict(image, proposals);
        Assert.True(Same(p1, p2) && Same(b1, b2));
    }

    /// <summary>The description as files before version 3 had it: no architecture and no checksums.</summary>
    private static JsonObject AsVersion2(JsonObject json)
    {
        json["version"] = 2;
        json.Remove("architecture");
        json.Remove("weights_sha256");
        json.Remove("classes_sha256");
        return json;
    }

    /// <summary>Saves an untrained model into the test directory: the path of its model.json and what it holds.</summary>
    private (string Path, JsonObject Json) SaveUntrained()
    {
        using (var model = new TwoStageModel("small", numClasses: 3))
            ModelFiles.Save(_dir, model, ClassNames);
        string path = Path.Combine(_dir, "model.json");
        return (path, JsonNode.Parse(File.ReadAllText(path))!.AsObject());
    }

    [Fact]
    public void Descriptions_without_box_head_ranks_load_as_dense()
    {
        var (jsonPath, json) = SaveUntrained();
        AsVersion2(json).Remove("box_head_ranks");                               // as version 1 files were
        File.WriteAllText(jsonPath, json.ToJsonString());
        var loaded = ModelFiles.Load(_dir);
        using var _ = loaded.Model;
        Assert.True(loaded.Info.HeadRanks.IsDense);
        Assert.Null(loaded.Info.Compression);
    }

    [Fact]
    public void Bad_box_head_ranks_are_errors_naming_the_file()
    {
        var (jsonPath, good) = SaveUntrained();
        foreach (var (ranks, what) in new (JsonNode, string)[]
        {
            (new JsonObject { ["fc6"] = 600 }, "rank from 1 to 512"),
            (new JsonObject { ["fc6"] = 0 }, "box_head_ranks.fc6"),
            (new JsonObject { ["fc8"] = 3 }, "fc8"),
            (JsonValue.Create(5)!, "box_head_ranks"),
        })
        {
            var json = (JsonObject)good.DeepClone();
            json["box_head_ranks"] = ranks;
            File.WriteAllText(jsonPath, json.ToJsonString());
            var error = Assert.Throws<InvalidDataException>(() => ModelFiles.Load(_dir));
            Assert.Contains(jsonPath, error.Message);
            Assert.Contains(what, error.Message);
        }

        // Ranks that the weights do not have: the missing tensors are named, with the ranks read.
        var factored = (JsonObject)good.DeepClone();
        factored["box_head_ranks"] = new JsonObject { ["fc7"] = 8 };
        File.WriteAllText(jsonPath, factored.ToJsonString());
        var mismatch = Assert.Throws<InvalidDataException>(() => ModelFiles.Load(_dir));
        Assert.Contains("box_head.fc7.", mismatch.Message);
        Assert.Contains("fc6 dense, fc7 8", mismatch.Message);
    }

    [Fact]
    public void Saving_as_a_new_directory_replaces_only_an_earlier_model()
    {
        using var model = new TwoStageModel("small", numClasses: 3);
        string dir = Path.Combine(_dir, "out");
        ModelFiles.SaveAsNewDirectory(dir, model, ClassNames);
        ModelFiles.SaveAsNewDirectory(dir, model, ClassNames);                 // an earlier model is replaced
        Assert.Equal(["model.json", "model.safetensors"], Directory.GetFiles(dir).Select(f => Path.GetFileName(f) ?? "").Order().ToArray());
        Assert.Equal(["out"], Directory.GetFileSystemEntries(_dir).Select(f => Path.GetFileName(f) ?? "").ToArray());   // no temporary left
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "mine");
        var error = Assert.Throws<IOException>(() => ModelFiles.SaveAsNewDirectory(dir, model, ClassNames));
        Assert.Contains(dir, error.Message);
        Assert.Contains("notes.txt", error.Message);
    }

    [Fact]
    public void Class_names_must_match_the_model()
    {
        using var model = new TwoStageModel("small", numClasses: 3);
        Assert.Throws<ArgumentException>(() => ModelFiles.Save(_dir, model, ["a", "b"]));
    }

    [Fact]
    public void Flipped_weight_bits_are_refused_on_load_naming_the_weights_file()
    {
        using var model = new TwoStageModel("small", numClasses: 3);
        ModelFiles.Save(_dir, model, ClassNames);
        Assert.Equal(ModelFiles.CurrentVersion, ModelFiles.ReadInfo(_dir).Version);
        string weights = Path.Combine(_dir, ModelFiles.WeightsFileName);
        var bytes = File.ReadAllBytes(weights);
        bytes[^10] ^= 0x04;                                  // one bit of the last tensor's data
        File.WriteAllBytes(weights, bytes);
        var error = Assert.Throws<InvalidDataException>(() => ModelFiles.Load(_dir));
        Assert.Contains(weights, error.Message);
        Assert.Contains("SHA-256", error.Message);
    }

    [Fact]
    public void Reordered_class_names_are_refused_on_load()
    {
        using var model = new TwoStageModel("small", numClasses: 3);
        ModelFiles.Save(_dir, model, ClassNames);
        string jsonPath = Path.Combine(_dir, ModelFiles.InfoFileName);
        var json = JsonNode.Parse(File.ReadAllText(jsonPath))!.AsObject();
        json["classes"] = new JsonArray("square", "circle", "triangle");
        File.WriteAllText(jsonPath, json.ToJsonString());
        var error = Assert.Throws<InvalidDataException>(() => ModelFiles.Load(_dir));
        Assert.Contains(jsonPath, error.Message);
        Assert.Contains("reordered", error.Message);
    }

    [Fact]
    public void The_architecture_is_recorded_and_an_unknown_one_is_an_error()
    {
        using var model = new TwoStageModel("small", numClasses: 3);
        ModelFiles.Save(_dir, model, ClassNames);
        string jsonPath = Path.Combine(_dir, ModelFiles.InfoFileName);
        var json = JsonNode.Parse(File.ReadAllText(jsonPath))!.AsObject();
        Assert.Equal("fast-rcnn", json["architecture"]!.GetValue<string>());
        json["architecture"] = "yolo";
        File.WriteAllText(jsonPath, json.ToJsonString());
        var error = Assert.Throws<InvalidDataException>(() => ModelFiles.ReadInfo(_dir));
        Assert.Contains("yolo", error.Message);
        Assert.Contains("faster-rcnn", error.Message);
    }
}
