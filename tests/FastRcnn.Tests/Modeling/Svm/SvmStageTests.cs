using FastRcnn.Inference;
using FastRcnn.Modeling;
using FastRcnn.Modeling.Svm;
using FastRcnn.Ops;
using FastRcnn.Tests.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Modeling.Svm;

[Collection(TrainingCollection.Name)]
public sealed class SvmStageTests
{
    private static SvmStage RandomStage(int seed, int k, int d7, int d5)
    {
        var rng = new Random(seed);
        float R(double s) => (float)((rng.NextDouble() * 2 - 1) * s);
        var svms = Enumerable.Range(0, k).Select(_ => new LinearSvmModel(Enumerable.Range(0, d7).Select(_ => R(1)).ToArray(), R(1))).ToArray();
        var maps = Enumerable.Range(0, k).Select(_ => new LinearMap(Enumerable.Range(0, 4 * d5).Select(_ => R(0.05)).ToArray(),
            Enumerable.Range(0, 4).Select(_ => R(0.1)).ToArray(), d5)).ToArray();
        return new SvmStage(svms, 0.5f, maps, 2f);
    }

    [Fact]
    public void ScoresAndRegressesEveryProposalAsALoopDoes()
    {
        const int k = 3, d7 = 5, d5 = 4, r = 6;
        using var stage = RandomStage(1, k, d7, d5);
        var rng = new Random(2);
        var fc7 = Enumerable.Range(0, r * d7).Select(_ => (float)rng.NextDouble()).ToArray();
        var pool5 = Enumerable.Range(0, r * d5).Select(_ => (float)rng.NextDouble()).ToArray();
        var boxes = Enumerable.Range(0, r).SelectMany(i => new[] { 10f + i, 20f, 60f + 3 * i, 70f + i }).ToArray();
        using var features = new RegionFeatureSet(tensor(pool5, [r, d5]), tensor(fc7, [r, d7]));
        var (scores, decoded) = stage.Score(features, tensor(boxes, [r, 4]), 80, 90);
        var s = scores.data<float>().ToArray();
        var b = decoded.data<float>().ToArray();
        var w = stage.SvmWeights.data<float>().ToArray();
        var bias = stage.SvmBias.data<float>().ToArray();
        var rw = stage.RegressorWeights.data<float>().ToArray();
        var rb = stage.RegressorBias.data<float>().ToArray();
        for (int i = 0; i < r; i++)
        {
            Assert.Equal(float.NegativeInfinity, s[i * (k + 1)]);
            for (int j = 0; j < 4; j++) Assert.Equal(boxes[4 * i + j], b[i * 4 * (k + 1) + j]);
            for (int c = 0; c < k; c++)
            {
                double expected = bias[c];
                for (int j = 0; j < d7; j++) expected += w[c * d7 + j] * fc7[i * d7 + j] * 0.5;
                Assert.Equal(expected, s[i * (k + 1) + c + 1], 4);
                var t = new double[4];
                for (int o = 0; o < 4; o++)
                {
                    t[o] = rb[4 * c + o];
                    for (int j = 0; j < d5; j++) t[o] += rw[(4 * c + o) * d5 + j] * pool5[i * d5 + j] * 2;
                }
                double pw = boxes[4 * i + 2] - boxes[4 * i], ph = boxes[4 * i + 3] - boxes[4 * i + 1];
                double cx = boxes[4 * i] + 0.5 * pw + t[0] * pw, cy = boxes[4 * i + 1] + 0.5 * ph + t[1] * ph;
                double w2 = 0.5 * pw * Math.Exp(t[2]), h2 = 0.5 * ph * Math.Exp(t[3]);
                double[] box = [Math.Clamp(cx - w2, 0, 90), Math.Clamp(cy - h2, 0, 80), Math.Clamp(cx + w2, 0, 90), Math.Clamp(cy + h2, 0, 80)];
                for (int j = 0; j < 4; j++) Assert.Equal(box[j], b[i * 4 * (k + 1) + 4 * (c + 1) + j], 3);
            }
        }
    }

    [Fact]
    public void SavesAndLoadsExactly()
    {
        using var dir = new TempDir();
        using var stage = RandomStage(3, 2, 7, 3);
        string path = dir.Combine(SvmStage.FileName);
        stage.Save(path);
        using var loaded = SvmStage.Load(path);
        Assert.True(ModelingTestData.Same(stage.SvmWeights, loaded.SvmWeights));
        Assert.True(ModelingTestData.Same(stage.SvmBias, loaded.SvmBias));
        Assert.True(ModelingTestData.Same(stage.RegressorWeights, loaded.RegressorWeights));
        Assert.True(ModelingTestData.Same(stage.RegressorBias, loaded.RegressorBias));
        Assert.Equal((stage.Fc7Scale, stage.Pool5Scale), (loaded.Fc7Scale, loaded.Pool5Scale));
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Contains(path, Assert.Throws<InvalidDataException>(() => SvmStage.Load(path)).Message);
    }

    [Fact]
    public void TrainsFromTheBoxRegressionExamplesOfTheCache()
    {
        using var dir = new TempDir();
        var entries = SvmTestData.Entries(seed: 4, images: 4, proposals: 30);
        var cache = SvmTestData.Cache(dir, entries);
        var (stage, report) = SvmStageTrainer.Train(cache);
        using (stage)
        {
            // Class c's regressor learns from its ground-truth rows and the proposals over 0.6 matched to it.
            for (int c = 1; c <= 2; c++)
            {
                int expected = entries.Sum(e => Enumerable.Range(0, e.Rows).Count(r => e.MatchedClasses[r] == c && (e.GtClasses[r] > 0 || e.MaxIoU[r] > 0.6f)));
                Assert.Equal(expected, report.Regressors[c - 1].Examples);
                Assert.Equal(entries.Sum(e => e.GtClasses.Count(g => g == c)), report.Svms[c - 1].Positives);
            }
            Assert.Equal(2, stage.NumClasses);
            Assert.True(report.Fc7Scale > 0 && report.Pool5Scale > 0);
        }
    }

    [Fact]
    public void CachesAModelsFeaturesAndPredictsWithTheStage()
    {
        torch.random.manual_seed(5);
        var dataset = TrainingTestData.Dataset;
        var small = dataset with { Images = dataset.Images.Take(2).ToList() };
        using var model = new TwoStageModel("small", dataset.NumClasses, seed: 5);
        var transform = new ImageTransform([160], 256, model.Pixels);
        Tensor ProposalsOf(FastRcnn.Data.ImageRecord image) =>
            TrainingTestData.Proposals.ProposalsFor(image.Id, image.Width, image.Height).narrow(0, 0, 40);
        using var dir = new TempDir();
        var cache = FeatureCache.Build(model, small, transform, ProposalsOf, dir.Combine("cache"));

        Assert.Equal(2, cache.Count);
        var files = Directory.GetFiles(dir.Combine("cache"));
        Assert.Equal(3, files.Length); // two entries and the index, no temporaries
        Assert.Equal(files.Sum(f => new FileInfo(f).Length), cache.TotalBytes);
        for (int i = 0; i < 2; i++)
        {
            var image = small.Images[i];
            var entry = cache.Read(i);
            var gt = image.Objects.Where(o => !o.Difficult && !o.Crowd).ToList();
            Assert.Equal(gt.Select(o => (long)o.ClassIndex), entry.GtClasses.Take(gt.Count));
            Assert.All(entry.GtClasses.Skip(gt.Count), g => Assert.Equal(0, g));
            // Overlaps against a loop over the ground truth.
            var iou = BoxOps.PairwiseIoU(tensor(entry.Boxes, [entry.Rows, 4]),
                tensor(gt.SelectMany(o => new[] { o.Box.X1, o.Box.Y1, o.Box.X2, o.Box.Y2 }).ToArray(), [gt.Count, 4])).data<float>().ToArray();
            for (int row = 0; row < entry.Rows; row++)
            {
                for (int c = 1; c <= dataset.NumClasses; c++)
                {
                    float best = 0;
                    for (int j = 0; j < gt.Count; j++) if (gt[j].ClassIndex == c) best = Math.Max(best, iou[row * gt.Count + j]);
                    Assert.Equal(best, entry.IoUWithClass(row, c));
                }
                Assert.Equal(Enumerable.Range(0, gt.Count).Max(j => iou[row * gt.Count + j]), entry.MaxIoU[row]);
            }
            Assert.Equal(Enumerable.Range(0, entry.Rows).Where(r => r < gt.Count || entry.MaxIoU[r] > 0.6f).Select(r => (long)r), entry.Pool5Rows);
            // The cached features are the model's features of those boxes.
            using var test = transform.Apply(FastRcnn.Imaging.ImageIO.Read(image.ImagePath).ToTensor());
            using var features = model.RegionFeatures(test, tensor(entry.Boxes, [entry.Rows, 4]));
            Assert.Equal(features.Fc7.data<float>().ToArray(), entry.Fc7);
            Assert.Equal(features.Pool5.index_select(0, tensor(entry.Pool5Rows)).data<float>().ToArray(), entry.Pool5);
        }

        var (stage, _) = SvmStageTrainer.Train(cache);
        using (stage)
        {
            model.SvmStage = stage;
            var image = small.Images[0];
            using var test = transform.Apply(FastRcnn.Imaging.ImageIO.Read(image.ImagePath).ToTensor());
            var proposals = BoxOps.Clip(ProposalsOf(image), image.Height, image.Width);
            using var predictions = model.Predict(test, proposals, new PredictOptions(Deduplicate: true));
            using var features = model.RegionFeatures(test, proposals);
            var (scores, boxes) = stage.Score(features, proposals, image.Height, image.Width);
            Assert.True(scores.allclose(predictions.Probabilities, rtol: 1e-4, atol: 1e-4));
            Assert.True(boxes.allclose(predictions.Boxes, rtol: 1e-4, atol: 1e-3));
            model.SvmStage = null;
        }
    }
}
