using FastRcnn.Modeling.Svm;

namespace FastRcnn.Tests.Modeling.Svm;

public sealed class HardNegativeMiningTests
{
    private static readonly LinearSvmOptions Svm = new(C: 0.05, Tolerance: 1e-3);

    [Fact]
    public void SelectHardMatchesANaiveLoop()
    {
        var entry = SvmTestData.Entries(seed: 1, images: 1, proposals: 60)[0];
        var model = new LinearSvmModel([0.3f, -0.2f, 0.5f, 0.1f, -0.4f, 0.2f], -0.8f);
        var mining = new HardNegativeMiningOptions();
        for (int c = 1; c <= 2; c++)
        {
            var expected = new List<int>();
            for (int row = 0; row < entry.Rows; row++)
            {
                if (entry.GtClasses[row] != 0 || entry.ClassIoU[row * 2 + c - 1] >= 0.3f) continue;
                double score = -0.8;
                for (int j = 0; j < 6; j++) score += model.Weights[j] * (entry.Fc7[row * 6 + j] * 1.5f);
                if (score > -1) expected.Add(row);
            }
            Assert.NotEmpty(expected);
            Assert.Equal(expected, HardNegativeMining.SelectHard(entry, c, model, 1.5f, mining));
        }
    }

    [Fact]
    public void OnePassEqualsTheNaiveProcedure()
    {
        using var dir = new TempDir();
        var entries = SvmTestData.Entries(seed: 2, images: 5, proposals: 40);
        var cache = SvmTestData.Cache(dir, entries);
        const float scale = 0.7f;
        var mining = new HardNegativeMiningOptions(RetrainAfter: int.MaxValue);
        var mined = HardNegativeMining.Train(cache, scale, Svm, mining);

        for (int c = 1; c <= 2; c++)
        {
            float[] Feature(FeatureCacheEntry e, int row) => e.Fc7.Skip(row * 6).Take(6).Select(v => v * scale).ToArray();
            bool IsNegative(FeatureCacheEntry e, int row) => e.GtClasses[row] == 0 && e.ClassIoU[row * 2 + c - 1] < 0.3f;
            var positives = entries.SelectMany(e => Enumerable.Range(0, e.Rows).Where(r => e.GtClasses[r] == c).Select(r => Feature(e, r))).ToList();
            // The first image's negatives all score 0 > −1 under the zero model; train, drop the easy ones.
            var negatives = Enumerable.Range(0, entries[0].Rows).Where(r => IsNegative(entries[0], r)).Select(r => Feature(entries[0], r)).ToList();
            var model = LinearSvm.Train(positives, negatives, Svm).Model;
            negatives = negatives.Where(x => model.Score(x) >= -1.2f).ToList();
            // Every later image adds its negatives the first model scores above −1; one final training.
            foreach (var e in entries.Skip(1))
                negatives.AddRange(Enumerable.Range(0, e.Rows).Where(r => IsNegative(e, r)).Select(r => Feature(e, r)).Where(x => model.Score(x) > -1f));
            var final = LinearSvm.Train(positives, negatives, Svm);

            var ours = mined[c - 1];
            Assert.Equal(2, ours.Retrainings);
            Assert.Equal(positives.Count, ours.Positives);
            Assert.Equal(final.Primal, ours.Objective, 6);
            Assert.Equal(final.Model.Weights, ours.Model.Weights);
            Assert.Equal(final.Model.Bias, ours.Model.Bias);
        }
    }

    [Fact]
    public void MiningApproachesTrainingOnEveryNegative()
    {
        using var dir = new TempDir();
        var entries = SvmTestData.Entries(seed: 3, images: 8, proposals: 80);
        var cache = SvmTestData.Cache(dir, entries);
        var mined = HardNegativeMining.Train(cache, 1f, Svm, new HardNegativeMiningOptions(Passes: 2, RetrainAfter: 50));
        for (int c = 1; c <= 2; c++)
        {
            var positives = entries.SelectMany(e => Enumerable.Range(0, e.Rows).Where(r => e.GtClasses[r] == c).Select(r => e.Fc7Row(r).ToArray())).ToList();
            var all = entries.SelectMany(e => Enumerable.Range(0, e.Rows)
                .Where(r => e.GtClasses[r] == 0 && e.ClassIoU[r * 2 + c - 1] < 0.3f).Select(r => e.Fc7Row(r).ToArray())).ToList();
            var full = LinearSvm.Train(positives, all, Svm);
            double minedObjective = LinearSvm.PrimalObjective(mined[c - 1].Model, positives, all, Svm);
            Assert.True(mined[c - 1].Negatives < all.Count, $"class {c}: mining kept all {all.Count} negatives");
            Assert.True(minedObjective <= full.Primal * 1.02, $"class {c}: mined objective {minedObjective} vs {full.Primal} on every negative");
        }
    }
}
