using System.Globalization;
using FastRcnn.Data;
using FastRcnn.IO;
using FastRcnn.Modeling;
using FastRcnn.Proposals;
using FastRcnn.Training;

namespace FastRcnn.Tests.Distributed;

/// <summary>
/// <c>mpiexec -n 2 fastrcnn train</c> against one process: 2 ranks × N = 1 make the steps of 1 process × N = 2 (same
/// images, flips, RoIs, anchors and dropout masks; losses normalised over the whole global batch), through a resume;
/// a rank that fails stops the job, naming itself.
/// </summary>
[Collection(MpiCollection.Name)]
public sealed class MpiTrainingTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    private static string[] Train(string run, int imagesPerBatch, int iterations, params string[] more) =>
    [
        "train", "--dataset", MpiTestData.Root, "--split", "train", "--proposals", MpiTestData.TrainProposals, "--scale", "192", "--max-size", "192",
        "--images-per-batch", imagesPerBatch.ToString(CultureInfo.InvariantCulture), "--iters", iterations.ToString(CultureInfo.InvariantCulture),
        "--seed", "5", "--weights", "small-shapesnet", "--lr", "0.001", "--threads", "1", "--no-prefetch", "--out", run, .. more,
    ];

    [MpiFact]
    public void Two_ranks_with_one_image_each_train_what_one_process_with_two_trains_and_resume()
    {
        using var dir = new TempDir();
        string single = dir.Combine("single"), parallel = dir.Combine("parallel");
        var one = MpiJob.Run(1, Limit, Train(single, 2, 20));
        Assert.True(one.Exit == 0, one.Output);
        // 10 iterations, then a resume from the checkpoint to 20: the resumed job must continue the same run.
        var first = MpiJob.Run(2, Limit, Train(parallel, 1, 10));
        Assert.True(first.Exit == 0, first.Output);
        Assert.Contains("data-parallel: 2 processes × 1 images = 2 images per global batch", first.Output);
        Assert.Contains("allreduce:", first.Output);
        var resumed = MpiJob.Run(2, Limit, "train", "--resume", parallel, "--out", parallel, "--iters", "20", "--threads", "1", "--no-prefetch");
        Assert.True(resumed.Exit == 0, resumed.Output);

        AssertSameParameters(single, parallel, 1e-5);
        var a = TrainingLog.Load(Path.Combine(single, TrainingLog.FileName)).Steps;
        var b = TrainingLog.Load(Path.Combine(parallel, TrainingLog.FileName)).Steps;
        Assert.Equal(20, a.Count);
        Assert.Equal(a.Select(s => s.Iteration), b.Select(s => s.Iteration));
        for (int i = 0; i < a.Count; i++)
        {
            Assert.True(Math.Abs(a[i].Loss - b[i].Loss) <= 1e-4 * Math.Abs(a[i].Loss), $"iteration {a[i].Iteration}: loss {a[i].Loss} against {b[i].Loss}");
            Assert.Equal((a[i].ForegroundRois, a[i].BackgroundRois), (b[i].ForegroundRois, b[i].BackgroundRois));
        }
        // Only rank 0 wrote: one set of files, no temporaries.
        Assert.Equal(["checkpoint_0000010.safetensors", "checkpoint_0000020.safetensors"],
            Directory.GetFiles(Path.Combine(parallel, "checkpoints")).Select(f => Path.GetFileName(f) ?? "").Order(StringComparer.Ordinal).ToArray());
    }

    [MpiFact]
    public void Faster_rcnn_trains_the_same_on_two_ranks()
    {
        using var dir = new TempDir();
        string single = dir.Combine("single"), parallel = dir.Combine("parallel");
        string[] faster = ["--architecture", "faster-rcnn"];
        var one = MpiJob.Run(1, Limit, Train(single, 2, 8, faster));
        Assert.True(one.Exit == 0, one.Output);
        var two = MpiJob.Run(2, Limit, Train(parallel, 1, 8, faster));
        Assert.True(two.Exit == 0, two.Output);
        AssertSameParameters(single, parallel, 1e-5);
        var a = TrainingLog.Load(Path.Combine(single, TrainingLog.FileName)).Steps;
        var b = TrainingLog.Load(Path.Combine(parallel, TrainingLog.FileName)).Steps;
        foreach (var name in new[] { LossNames.RpnClassification, LossNames.RpnBoxRegression, LossNames.Classification, LossNames.BoxRegression })
            Assert.Equal(a.Select(s => s.LossOf(name)), b.Select(s => s.LossOf(name)), (x, y) => Math.Abs(x - y) <= 1e-4 * Math.Max(Math.Abs(x), 1e-3));
    }

    [MpiFact]
    public void A_rank_that_fails_stops_the_job_and_names_itself()
    {
        using var dir = new TempDir();
        // A copy of the dataset whose image at stream position 1 (rank 1's image of iteration 1) cannot be decoded.
        string root = dir.Combine("shapes");
        CopyDirectory(MpiTestData.Root, root);
        var dataset = DatasetLoader.Load(root, "train");
        var options = TrainingOptions.ShapesSmall with { Seed = 5, ImagesPerBatch = 1, Scales = [192], MaxSize = 192 };
        using var model = options.CreateModel(dataset.NumClasses);
        using var sampler = new MiniBatchSampler(dataset, EmptyProposals.Instance, options, model.Pixels, rank: 1, ranks: 2);
        var broken = sampler.ImageAt(sampler.PositionOf(1, 0));
        // Cut in half: the header stays readable (every rank loads the dataset), decoding fails (only rank 1 decodes it).
        var bytes = File.ReadAllBytes(broken.ImagePath);
        File.WriteAllBytes(broken.ImagePath, bytes[..(bytes.Length / 2)]);

        string run = dir.Combine("run");
        string[] args = Train(run, 1, 5);
        args[Array.IndexOf(args, MpiTestData.Root)] = root;
        var job = MpiJob.Run(2, Limit, args);
        Assert.NotEqual(0, job.Exit);
        Assert.True(job.Output.Contains("rank 1 of 2 failed (exit code 1); stopping every rank of the job", StringComparison.Ordinal), job.Output);
        Assert.True(job.Output.Contains(Path.GetFileName(broken.ImagePath), StringComparison.Ordinal), $"the message should name {Path.GetFileName(broken.ImagePath)}:\n{job.Output}");
        Assert.False(File.Exists(Path.Combine(run, ModelFiles.WeightsFileName)));
        Assert.False(Directory.Exists(Path.Combine(run, "checkpoints")) && Directory.EnumerateFiles(Path.Combine(run, "checkpoints")).Any());
    }

    /// <summary>
    /// The two models' parameters as one vector: ‖a − b‖ ≤ <paramref name="tolerance"/> · ‖a‖ (Euclidean norms), and each tensor
    /// within 10 × <paramref name="tolerance"/> of its own norm. Both runs make the same steps; what differs is float32
    /// rounding (a batch of two images sums its gradients inside libtorch's kernels, two processes add two sums), about
    /// 1e-8 after one iteration, growing to ~1e-6 of the whole vector in 20.
    /// </summary>
    private static void AssertSameParameters(string runA, string runB, double tolerance)
    {
        var a = SafeTensors.Read(Path.Combine(runA, ModelFiles.WeightsFileName));
        var b = SafeTensors.Read(Path.Combine(runB, ModelFiles.WeightsFileName));
        Assert.Equal(a.Tensors.Select(t => t.Key), b.Tensors.Select(t => t.Key));
        double squaredNorm = 0, squaredDiff = 0;
        foreach (var (name, x) in a.Tensors)
        {
            using var x64 = x.to_type(TorchSharp.torch.ScalarType.Float64);
            using var y64 = b[name].to_type(TorchSharp.torch.ScalarType.Float64);
            using var d64 = x64.sub(y64);
            double norm = x64.norm().item<double>(), diff = d64.norm().item<double>();
            Assert.True(diff <= 10 * tolerance * Math.Max(norm, 1e-12), $"{name}: ‖a − b‖ = {diff}, ‖a‖ = {norm}");
            squaredNorm += norm * norm;
            squaredDiff += diff * diff;
        }
        Assert.True(Math.Sqrt(squaredDiff) <= tolerance * Math.Sqrt(squaredNorm), $"all parameters: ‖a − b‖ / ‖a‖ = {Math.Sqrt(squaredDiff / squaredNorm):E2}");
        foreach (var (_, t) in a.Tensors.Concat(b.Tensors)) t.Dispose();
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var d in Directory.GetDirectories(from, "*", SearchOption.AllDirectories)) Directory.CreateDirectory(d.Replace(from, to, StringComparison.Ordinal));
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from, "*", SearchOption.AllDirectories)) File.Copy(f, f.Replace(from, to, StringComparison.Ordinal));
    }
}
