using FastRcnn.Training;

namespace FastRcnn.Tests.Training;

/// <summary>
/// Data-parallel shares of the global batch: P samplers with N images each see exactly the images, augmentation,
/// scales and image keys of one sampler with P·N.
/// </summary>
public sealed class MiniBatchShareTests
{
    [Fact]
    public void Two_shares_of_one_image_are_the_slots_of_one_batch_of_two()
    {
        var dataset = TrainingTestData.Dataset;
        var options = TrainingTestData.SmallOptions(10) with { Scales = [144, 160], MaxSize = 240, Prefetch = false };
        using var model = options.CreateModel(dataset.NumClasses);
        using var whole = new MiniBatchSampler(dataset, TrainingTestData.Proposals, options with { ImagesPerBatch = 2 }, model.Pixels);
        using var rank0 = new MiniBatchSampler(dataset, TrainingTestData.Proposals, options with { ImagesPerBatch = 1 }, model.Pixels, rank: 0, ranks: 2);
        using var rank1 = new MiniBatchSampler(dataset, TrainingTestData.Proposals, options with { ImagesPerBatch = 1 }, model.Pixels, rank: 1, ranks: 2);
        for (long i = 1; i <= 8; i++)   // 8 iterations × 2 images cross an epoch of the 12 images
        {
            using var batch = whole.Build(i);
            using var a = rank0.Build(i);
            using var b = rank1.Build(i);
            var shares = a.Info.Concat(b.Info).ToArray();
            Assert.Equal(batch.Info, shares);
            var keys = a.Targets.Concat(b.Targets).Select(t => t.SampleKey).ToArray();
            Assert.Equal(batch.Targets.Select(t => t.SampleKey), keys);
            Assert.All(keys, k => Assert.NotNull(k));
            Assert.Equal(2, keys.Distinct().Count());
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => new MiniBatchSampler(dataset, TrainingTestData.Proposals, options, model.Pixels, rank: 2, ranks: 2));
    }
}
