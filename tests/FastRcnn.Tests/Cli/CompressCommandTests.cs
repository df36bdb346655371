using System.Text.Json.Nodes;
using FastRcnn.Cli;
using FastRcnn.Data;
using FastRcnn.Imaging;
using FastRcnn.Inference;
using FastRcnn.Modeling;
using FastRcnn.Modeling.RoiHeads;
using Spectre.Console;

namespace FastRcnn.Tests.Cli;

/// <summary><c>fastrcnn compress</c>, invoked in-process on a saved (untrained) "small" model: fc6 512×6400, fc7 512×512.</summary>
[Collection(CliCollection.Name)]
public class CompressCommandTests
{
    private static (int Exit, string Output) Run(params string[] args) => CliRunner.Run(args);

    private static string SaveModel(TempDir tmp, IReadOnlyList<string> classes)
    {
        string dir = tmp.Combine("model");
        using var model = new TwoStageModel("small", classes.Count, seed: 6);
        ModelFiles.Save(dir, model, classes, new JsonObject { ["seed"] = 6, ["lr"] = 0.001 });
        return dir;
    }

    [Fact]
    public void Compresses_a_model_into_a_directory_that_load_detect_and_eval_use()
    {
        using var tmp = new TempDir();
        string data = tmp.Combine("shapes");
        ShapesGenerator.Generate(data, new ShapesOptions { TrainImages = 0, TestImages = 1, Seed = 3, MinImageSize = 160, MaxImageSize = 200 });
        var classes = ShapesGenerator.ClassNames.Skip(1).ToArray();
        string modelDir = SaveModel(tmp, classes), outDir = tmp.Combine("svd");

        var (exit, output) = Run("compress", "--model", modelDir, "--fc6", "64", "--fc7-energy", "0.9", "--out", outDir);
        Assert.True(exit == 0, output);
        Assert.Contains("512×6400", output);
        Assert.Contains("dense → 64", output);
        Assert.Contains("3,277,312 → 442,880", output);                         // 512·6400 + 512 → 64·(512 + 6400) + 512
        Assert.Contains("energy 0.9", output);

        var info = ModelFiles.ReadInfo(outDir);
        var source = ModelFiles.ReadInfo(modelDir);
        Assert.Equal(64, info.HeadRanks.Fc6);
        Assert.InRange(info.HeadRanks.Fc7 ?? 0, 1, 511);
        Assert.Equal(source.ClassNames, info.ClassNames);
        Assert.Equal((source.Backbone, source.PixelPreprocessing, source.BoxCoder, source.Seed), (info.Backbone, info.PixelPreprocessing, info.BoxCoder, info.Seed));
        Assert.Equal(0.001, info.TrainingConfig!["lr"]!.GetValue<double>());
        var record = info.Compression!;
        Assert.Equal("truncated-svd", record["method"]!.GetValue<string>());
        Assert.Equal(Path.GetFullPath(modelDir), record["source"]!.GetValue<string>());
        Assert.Equal(64, record["layers"]!["fc6"]!["requested"]!["rank"]!.GetValue<int>());
        Assert.Equal(0.9, record["layers"]!["fc7"]!["requested"]!["energy"]!.GetValue<double>());
        Assert.True(record["layers"]!["fc7"]!["energy_kept"]!.GetValue<double>() >= 0.9);
        Assert.Equal(["model", "shapes", "svd"], Directory.GetFileSystemEntries(tmp.Path).Select(f => Path.GetFileName(f) ?? "").Order().ToArray());   // no temporary left

        using (var detector = Detector.Load(outDir, new DetectorOptions(Scales: [96], MaxSize: 200)))
        {
            Assert.Equal(new BoxHeadRanks(64, info.HeadRanks.Fc7), detector.Model.BoxHead.Ranks);
            var result = detector.Detect(RgbImage.Filled(120, 100, new Rgb(90, 120, 200)), TorchSharp.torch.tensor(new float[] { 10, 10, 60, 70, 30, 5, 110, 90 }).reshape(2, 4));
            Assert.True(result.Times.Fc6 > TimeSpan.Zero && result.Times.Fc7 > TimeSpan.Zero);
        }
        string images = tmp.Combine("shapes", "JPEGImages");
        Assert.Equal(0, Run("detect", "--model", outDir, images, "--out", tmp.Combine("detect"), "--scale", "96").Exit);
        Assert.Equal(0, Run("eval", "--model", outDir, "--dataset", data, "--split", "test", "--scale", "96", "--cache-dir", tmp.Combine("cache"), "--out", tmp.Combine("eval")).Exit);

        // Again from the compressed model: fc7 further, fc6 as it is; the earlier record is kept as "previous".
        string again = tmp.Combine("svd2");
        Assert.Equal(0, Run("compress", "--model", outDir, "--fc7", "8", "--out", again).Exit);
        var twice = ModelFiles.ReadInfo(again);
        Assert.Equal(new BoxHeadRanks(64, 8), twice.HeadRanks);
        Assert.Equal(64, twice.Compression!["previous"]!["layers"]!["fc6"]!["rank"]!.GetValue<int>());
        // The same output again replaces the earlier one.
        Assert.Equal(0, Run("compress", "--model", modelDir, "--fc7", "4", "--out", again).Exit);
        Assert.Equal(new BoxHeadRanks(null, 4), ModelFiles.ReadInfo(again).HeadRanks);
    }

    [Fact]
    public void Bad_input_fails_with_an_error_naming_the_file_or_option()
    {
        using var tmp = new TempDir();
        string modelDir = SaveModel(tmp, ["cat", "dog"]), outDir = tmp.Combine("out");

        void Fails(string[] args, params string[] expected)
        {
            var (exit, output) = Run(["compress", .. args]);
            Assert.True(exit == 1, output);
            Assert.Contains("error:", output);
            foreach (var text in expected) Assert.Contains(text, output);
        }
        string missing = tmp.Combine("nomodel");
        Fails(["--model", missing, "--fc6", "8", "--out", outDir], Path.Combine(missing, "model.json"));
        Fails(["--model", modelDir, "--fc6", "0", "--out", outDir], "--fc6", "at least 1");
        Fails(["--model", modelDir, "--fc7", "513", "--out", outDir], Path.Combine(modelDir, "model.safetensors"), "fc7 is 512×512", "1 to 512");
        Fails(["--model", modelDir, "--fc6", "8", "--fc6-energy", "0.9", "--out", outDir], "--fc6-energy");
        Fails(["--model", modelDir, "--fc7-energy", "1.5", "--out", outDir], "--fc7-energy", "(0, 1]");
        Fails(["--model", modelDir, "--out", outDir], "--fc6 1024 --fc7 256");
        Fails(["--model", modelDir, "--fc6", "8", "--out", modelDir], Path.GetFullPath(modelDir));
        Assert.False(Directory.Exists(outDir));

        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "keep.txt"), "mine");
        Fails(["--model", modelDir, "--fc6", "8", "--out", outDir], outDir, "keep.txt");
        Assert.True(File.Exists(Path.Combine(outDir, "keep.txt")));

        File.WriteAllText(Path.Combine(modelDir, "model.json"), "{ nope");
        Fails(["--model", modelDir, "--fc6", "8", "--out", tmp.Combine("out2")], Path.Combine(modelDir, "model.json"));
    }
}
