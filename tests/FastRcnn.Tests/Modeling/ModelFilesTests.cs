using System.Text.Json.Nodes;
using FastRcnn.IO;
using FastRcnn.Modeling;
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
    private static FastRcnnModel Trained(long seed, FastRcnnOptions? options = null)
    {
        var model = new FastRcnnModel("small", numClasses: 3, seed: seed, options: options);
        model.train();
        using var optimizer = OptimizerSetup.Sgd(model, 0.01);
        var (images, targets) = Batch(model, seed: 1, count: 2, height: 64, width: 80);
        for (int i = 0; i < 2; i++)
        {
            optimizer.zero_grad();
            model.Loss(images, targets).Losses.Total.backward();
            optimizer.step();
        }
        return model;
    }

    [Fact]
    public void Save_then_load_predicts_bit_for_bit_the_same()
    {
        using var model = Trained(seed: 21, new FastRcnnOptions { BoxCoder = new BoxCoder(8, 8, 4, 4) });
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
        using var model = new FastRcnnModel("small", numClasses: 3);
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

        using var model = new FastRcnnModel("small", numClasses: 3);
        ModelFiles.Save(_dir, model, ClassNames);
        File.Delete(Path.Combine(_dir, "model.safetensors"));
        error = Assert.Throws<FileNotFoundException>(() => ModelFiles.Load(_dir));
        Assert.Contains(Path.Combine(_dir, "model.safetensors"), error.Message);
    }

    [Fact]
    public void Class_count_disagreeing_with_the_weights_is_an_error_naming_both_files()
    {
        using var model = new FastRcnnModel("small", numClasses: 3);
        ModelFiles.Save(_dir, model, ClassNames);
        string jsonPath = Path.Combine(_dir, "model.json");
        var json = JsonNode.Parse(File.ReadAllText(jsonPath))!;
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
        using var model = new FastRcnnModel("small", numClasses: 3);
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
        var error = Assert.Throws<InvalidDataException>(() => ModelFiles.Load(_dir));
        Assert.Contains(weightsPath, error.Message);
        Assert.Contains("box_head.fc7.bias", error.Message);

        File.WriteAllBytes(weightsPath, [9, 9, 9]);
        Assert.Contains(weightsPath, Assert.Throws<InvalidDataException>(() => ModelFiles.Load(_dir)).Message);
    }

    [Fact]
    public void Class_names_must_match_the_model()
    {
        using var model = new FastRcnnModel("small", numClasses: 3);
        Assert.Throws<ArgumentException>(() => ModelFiles.Save(_dir, model, ["a", "b"]));
    }
}
