using FastRcnn.Data;
using FastRcnn.Modeling;
using FastRcnn.Training;

namespace FastRcnn.Tests.Distributed;

/// <summary><c>mpiexec -n 2 fastrcnn proposals</c> and <c>eval</c> shard the images and write what one process writes.</summary>
[Collection(MpiCollection.Name)]
public sealed class MpiShardingTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    [MpiFact]
    public void Proposals_of_two_ranks_are_the_bytes_of_one_process()
    {
        using var dir = new TempDir();
        string one = dir.Combine("one.npz"), two = dir.Combine("two.npz");
        string[] common = ["proposals", "--dataset", MpiTestData.Root, "--split", "train", "--no-cache", "--max-boxes", "300"];
        var single = MpiJob.Run(1, Limit, [.. common, "--out", one]);
        Assert.True(single.Exit == 0, single.Output);
        var parallel = MpiJob.Run(2, Limit, [.. common, "--out", two]);
        Assert.True(parallel.Exit == 0, parallel.Output);
        Assert.Contains("2 processes: each searches every 2th image", parallel.Output);
        Assert.Equal(File.ReadAllBytes(one), File.ReadAllBytes(two));
        // The library's single-process export of the fixture gives the same bytes too.
        Assert.Equal(File.ReadAllBytes(MpiTestData.TrainProposals), File.ReadAllBytes(two));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.partial*"));
    }

    [MpiFact]
    public void Eval_on_two_ranks_writes_the_metrics_of_one_process()
    {
        using var dir = new TempDir();
        // A seeded, untrained model: its detections are many and arbitrary, which exercises the merge.
        var dataset = DatasetLoader.Load(MpiTestData.Root, "test");
        string modelDir = dir.Combine("model");
        using (var model = (TrainingOptions.ShapesSmall with { Seed = 3 }).CreateModel(dataset.NumClasses))
            ModelFiles.Save(modelDir, model, dataset.ClassNames.Skip(1).ToArray(), null);
        string[] common = ["eval", "--model", modelDir, "--dataset", MpiTestData.Root, "--split", "test", "--proposals", MpiTestData.TestProposals, "--scale", "192"];
        var single = MpiJob.Run(1, Limit, [.. common, "--out", dir.Combine("one")]);
        Assert.True(single.Exit == 0, single.Output);
        var parallel = MpiJob.Run(2, Limit, [.. common, "--out", dir.Combine("two")]);
        Assert.True(parallel.Exit == 0, parallel.Output);
        foreach (var file in new[] { "metrics.csv", "detections_coco.json" })
            Assert.Equal(File.ReadAllText(dir.Combine("one", file)), File.ReadAllText(dir.Combine("two", file)));
        Assert.Equal(Strip(File.ReadAllText(dir.Combine("one", "metrics.json"))), Strip(File.ReadAllText(dir.Combine("two", "metrics.json"))));
    }

    /// <summary>metrics.json without lines that name the time of writing, if any.</summary>
    private static string Strip(string json) =>
        string.Join('\n', json.Split('\n').Where(l => !l.Contains("Utc\"", StringComparison.Ordinal) && !l.Contains("seconds", StringComparison.Ordinal)));
}
