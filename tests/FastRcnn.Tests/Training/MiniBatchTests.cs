using FastRcnn.Data;
using FastRcnn.Data.Transforms;
using FastRcnn.Imaging;
using FastRcnn.Modeling;
using FastRcnn.Proposals;
using FastRcnn.Tests.Data;
using FastRcnn.Tests.Data.Transforms;
using FastRcnn.Training;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Training;

/// <summary>Mini-batch construction: flip and scale arithmetic on boxes and proposals, padding, seeded order, filtering.</summary>
public sealed class MiniBatchTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A W×H noise PNG with its objects (boxes in the project convention) as an in-memory record.</summary>
    private ImageRecord Image(string id, int width, int height, params ObjectAnnotation[] objects)
    {
        string path = _dir.Combine(id + ".png");
        var pixels = new byte[3 * width * height];
        new Random(id.GetHashCode(StringComparison.Ordinal)).NextBytes(pixels);
        ImageIO.WritePng(new RgbImage(width, height, pixels), path);
        return new ImageRecord(id, path, width, height, objects);
    }

    private static ObjectAnnotation Obj(float x1, float y1, float x2, float y2, int cls = 1, bool difficult = false, bool crowd = false) =>
        new(new BoundingBox(x1, y1, x2, y2), cls, difficult, crowd);

    private static DetectionDataset Dataset(params ImageRecord[] images) =>
        new(DetectionDataset.MakeClassNames(["a", "b"]), images, "train", LoadReport.Empty, "in-memory");

    private static PrecomputedProposals Proposals(params (string Id, float[][] Boxes)[] items) =>
        new(items.ToDictionary(i => i.Id, i => tensor(i.Boxes.SelectMany(b => b).ToArray(), [i.Boxes.Length, 4], float32)));

    private static float[][] Rows(Tensor t) =>
        Enumerable.Range(0, (int)t.shape[0]).Select(r => t[r].data<float>().ToArray()).ToArray();

    [Fact]
    public void Flip_and_scale_map_boxes_and_proposals_with_the_same_arithmetic()
    {
        // 40×30 image (W×H); s = 60/30 = 2 (60·40/30 = 80 ≤ 100): boxes ×2; flipped x ↦ 40 − x first.
        var image = Image("img", 40, 30, Obj(0, 2, 10, 12, cls: 1), Obj(25.5f, 5, 40, 30, cls: 2, difficult: true));
        var proposals = Proposals(("img", [[1, 1, 21, 11], [0, 0, 40, 30]]));
        var pixels = PixelPreprocessing.TorchvisionRgb;
        var (plain, plainTargets, plainInfo) = TrainingSample.Load(image, proposals, pixels, SampleAugmentation.None, shortSide: 60, maxSize: 100, useDifficult: true);
        var (flipped, flippedTargets, flippedInfo) = TrainingSample.Load(image, proposals, pixels, SampleAugmentation.HorizontalFlip, shortSide: 60, maxSize: 100, useDifficult: true);

        Assert.Equal(2.0, plainInfo.ScaleFactor);
        Assert.Equal((60, 80), (plainInfo.Height, plainInfo.Width));
        Assert.Equal([3L, 60, 80], plain.shape);
        Assert.Equal([[0, 4, 20, 24], [51, 10, 80, 60]], Rows(plainTargets.GtBoxes));
        Assert.Equal([[2, 2, 42, 22], [0, 0, 80, 60]], Rows(plainTargets.ProposalBoxes));
        Assert.Equal([1L, 2L], plainTargets.GtClasses.data<long>().ToArray());   // difficult kept (the original's choice)

        Assert.True(flippedInfo.Flipped);
        Assert.Equal([[60, 4, 80, 24], [0, 10, 29, 60]], Rows(flippedTargets.GtBoxes));    // (W − x2, y1, W − x1, y2)·s
        Assert.Equal([[38, 2, 78, 22], [0, 0, 80, 60]], Rows(flippedTargets.ProposalBoxes));
        // The image: flip-then-scale equals scale-then-flip of the unflipped input (bilinear resizing is mirror-symmetric).
        Assert.True(flipped.allclose(plain.flip(-1), rtol: 0, atol: 1e-4));
        // Pixel preprocessing applied: mean ≈ 0.5·255 scaled by torchvision's mean/std, not raw 0–255 values.
        Assert.InRange(plain.max().item<float>(), 1.5f, 3f);

        var (_, noDifficult, _) = TrainingSample.Load(image, proposals, pixels, SampleAugmentation.None, shortSide: 60, maxSize: 100, useDifficult: false);
        Assert.Equal([1L], noDifficult.GtClasses.data<long>().ToArray());
    }

    [Fact]
    public void Orientation_and_channel_order_apply_to_image_boxes_and_proposals_alike()
    {
        // 40×30 image (W×H) transposed to 30×40 then flipped top–bottom; s = 60/30 = 2 again (the shorter side is now the width).
        var image = Image("img", 40, 30, Obj(0, 2, 10, 12, cls: 1));
        var proposals = Proposals(("img", [[1, 1, 21, 11]]));
        var pixels = PixelPreprocessing.TorchvisionRgb;
        var orientation = new Orientation(Transpose: true, FlipX: false, FlipY: true);
        var augmentation = new SampleAugmentation(orientation, ChannelOrder: (2, 0, 1));
        var raw0255 = new PixelPreprocessing("raw", ChannelOrder.Rgb, 1f, new ChannelValues(0, 0, 0), new ChannelValues(1, 1, 1));
        var (plain, _, _) = TrainingSample.Load(image, proposals, raw0255, SampleAugmentation.None, shortSide: 30, maxSize: 100, useDifficult: true);
        var (turned, targets, info) = TrainingSample.Load(image, proposals, pixels, augmentation, shortSide: 60, maxSize: 100, useDifficult: true);
        Assert.Equal((30, 40, 80, 60, 2.0), (info.OriginalHeight, info.OriginalWidth, info.Height, info.Width, info.ScaleFactor));
        Assert.Equal(augmentation, info.Augmentation);
        Assert.False(info.Flipped);
        Assert.Equal([[4, 60, 24, 80]], Rows(targets.GtBoxes));         // (y1, x1, y2, x2) = (2, 0, 12, 10) in 30×40, then (x1, H' − y2, x2, H' − y1), ×2
        Assert.Equal([[2, 38, 22, 78]], Rows(targets.ProposalBoxes));

        // The pixels: the raw image with channels (B, R, G), turned, then preprocessed and scaled.
        var (raw, _, _) = TrainingSample.Load(image, proposals, raw0255, augmentation with { Orientation = Orientation.Identity },
            shortSide: 30, maxSize: 100, useDifficult: true);
        TensorAssert.Equal(plain.index_select(0, tensor(new long[] { 2, 0, 1 })), raw);
        var expected = ImageScaling.Rescale(pixels.Apply(orientation.Image(raw)), 2.0).Image;
        Assert.True(turned.allclose(expected, rtol: 0, atol: 1e-4));
    }

    [Fact]
    public void The_sampler_draws_all_eight_orientations_and_six_channel_orders_only_when_asked()
    {
        var images = new[] { Image("a", 40, 30, Obj(1, 1, 20, 20)) };
        var proposals = Proposals(("a", [[0, 0, 10, 10]]));
        var paper = new TrainingOptions { Backbone = "small", Seed = 5 };
        using var plain = new MiniBatchSampler(Dataset(images), proposals, paper, PixelPreprocessing.TorchvisionRgb);
        var draws = Enumerable.Range(0, 400).Select(p => plain.AugmentationAt(p)).ToArray();
        Assert.All(draws, d => Assert.True(d.ChannelOrder is null && !d.Orientation.Transpose && !d.Orientation.FlipY));
        Assert.Equal(Enumerable.Range(0, 400).Select(p => plain.FlipAt(p)), draws.Select(d => d.Orientation.FlipX));

        var any = paper with { VerticalFlipProbability = 0.5, TransposeProbability = 0.5, PermuteChannels = true };
        using var sampler = new MiniBatchSampler(Dataset(images), proposals, any, PixelPreprocessing.TorchvisionRgb);
        var all = Enumerable.Range(0, 800).Select(p => sampler.AugmentationAt(p)).ToArray();
        // Adding draws leaves the left–right flips of the paper's options as they were.
        Assert.Equal(draws.Select(d => d.Orientation.FlipX), all.Take(400).Select(d => d.Orientation.FlipX));
        foreach (var group in all.GroupBy(d => d.Orientation)) Assert.InRange(group.Count(), 60, 140);   // 8 × ~100
        Assert.Equal(8, all.Select(d => d.Orientation).Distinct().Count());
        var orders = all.GroupBy(d => d.ChannelOrder!.Value).ToArray();
        Assert.Equal(6, orders.Length);
        foreach (var group in orders)
        {
            var (r, g, b) = group.Key;
            Assert.Equal([0, 1, 2], new[] { r, g, b }.Order().ToArray());
            Assert.InRange(group.Count(), 90, 180);                                                     // 6 × ~133
        }
        using var batch = sampler.Build(3);
        Assert.Equal([sampler.AugmentationAt(4), sampler.AugmentationAt(5)], batch.Info.Select(i => i.Augmentation).ToArray());
    }

    [Fact]
    public void Max_size_caps_the_longer_side_and_crowd_regions_become_ignore_flags()
    {
        var image = Image("wide", 100, 20, Obj(10, 0, 30, 20), Obj(50, 5, 90, 15, crowd: true));
        var proposals = Proposals(("wide", [[0, 0, 100, 20]]));
        var (input, targets, info) = TrainingSample.Load(image, proposals, PixelPreprocessing.CaffeBgr, SampleAugmentation.None, shortSide: 60, maxSize: 150, useDifficult: true);
        Assert.Equal(1.5, info.ScaleFactor);                       // 60/20 = 3 would make W 300 > 150: s = 150/100
        Assert.Equal([3L, 30, 150], input.shape);
        Assert.Equal([[0, 0, 150, 30]], Rows(targets.ProposalBoxes));
        Assert.Equal([false, true], targets.GtIgnore!.data<bool>().ToArray());
    }

    [Fact]
    public void Batches_pad_to_the_largest_image_and_follow_a_seeded_epoch_order()
    {
        var images = new[]
        {
            Image("a", 40, 30, Obj(1, 1, 20, 20)), Image("b", 30, 40, Obj(2, 2, 22, 30, cls: 2)),
            Image("c", 50, 25, Obj(5, 5, 30, 20)), Image("empty", 30, 30), Image("crowd", 30, 30, Obj(0, 0, 10, 10, crowd: true)),
        };
        var proposals = Proposals(images.Select(i => (i.Id, new[] { new float[] { 0, 0, 10, 10 } })).ToArray());
        var options = new TrainingOptions { Backbone = "small", Scales = [30, 45], MaxSize = 200, Seed = 5, Prefetch = true };
        using var sampler = new MiniBatchSampler(Dataset(images), proposals, options, PixelPreprocessing.TorchvisionRgb);
        Assert.Equal(2, sampler.FilteredImages);                    // no objects; crowd only
        Assert.Equal(["a", "b", "c"], sampler.Images.Select(i => i.Id).ToArray());

        // Every epoch of 3 positions is a permutation of the trainable images; the draws repeat for the same seed.
        for (int epoch = 0; epoch < 4; epoch++)
            Assert.Equal(["a", "b", "c"], Enumerable.Range(3 * epoch, 3).Select(p => sampler.ImageAt(p).Id).Order().ToArray());
        using var again = new MiniBatchSampler(Dataset(images), proposals, options, PixelPreprocessing.TorchvisionRgb);
        Assert.Equal(Enumerable.Range(0, 30).Select(p => (sampler.ImageAt(p).Id, sampler.FlipAt(p), sampler.ScaleAt(p))).ToArray(),
            Enumerable.Range(0, 30).Select(p => (again.ImageAt(p).Id, again.FlipAt(p), again.ScaleAt(p))).ToArray());
        var flips = Enumerable.Range(0, 400).Count(p => sampler.FlipAt(p));
        Assert.InRange(flips, 160, 240);                            // p = 0.5
        Assert.Equal([30, 45], Enumerable.Range(0, 50).Select(p => sampler.ScaleAt(p)).Distinct().Order().ToArray());

        for (long iteration = 1; iteration <= 4; iteration++)
        {
            using var batch = sampler.Next(iteration);
            using var direct = again.Build(iteration);                 // prefetched and direct batches agree
            Assert.True(FastRcnn.Tests.Modeling.ModelingTestData.Same(batch.Images, direct.Images));
            Assert.Equal(2, batch.Targets.Count);
            Assert.Equal([(iteration - 1) * 2, (iteration - 1) * 2 + 1], batch.Info.Select(i => i.Position).ToArray());
            long h = batch.Info.Max(i => i.Height), w = batch.Info.Max(i => i.Width);
            Assert.Equal([2L, 3, h, w], batch.Images.shape);
            for (int i = 0; i < 2; i++)
            {
                var info = batch.Info[i];
                Assert.Equal(sampler.ImageAt(info.Position).Id, info.Id);
                Assert.Equal(sampler.FlipAt(info.Position), info.Flipped);
                var pad = batch.Images[i];
                Assert.Equal(0f, pad.narrow(1, info.Height, h - info.Height).abs().sum().item<float>());   // bottom padding is 0
                Assert.Equal(0f, pad.narrow(2, info.Width, w - info.Width).abs().sum().item<float>());     // right padding is 0
                Assert.True(pad.narrow(1, 0, info.Height).narrow(2, 0, info.Width).abs().sum().item<float>() > 0);
            }
        }
    }

    [Fact]
    public void A_split_without_trainable_objects_is_a_clear_error()
    {
        var images = new[] { Image("empty", 30, 30) };
        var e = Assert.Throws<ArgumentException>(() => new MiniBatchSampler(Dataset(images), Proposals(("empty", [])),
            new TrainingOptions { Backbone = "small" }, PixelPreprocessing.TorchvisionRgb));
        Assert.Contains("none of its 1 images has an object", e.Message);
        e = Assert.Throws<ArgumentException>(() => new MiniBatchSampler(Dataset(), Proposals(),
            new TrainingOptions { Backbone = "small" }, PixelPreprocessing.TorchvisionRgb));
        Assert.Contains("no images", e.Message);
    }
}
