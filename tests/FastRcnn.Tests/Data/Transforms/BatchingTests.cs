using FastRcnn.Data.Transforms;
using FastRcnn.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Data.Transforms;

public class BatchingTests
{
    [Fact]
    public void Pad_places_images_top_left_and_zero_fills_the_rest()
    {
        using var scope = NewDisposeScope();
        var a = rand(3, 5, 7).Add(1);      // strictly positive so padding is distinguishable
        var b = rand(3, 9, 4).Add(1);
        using var batch = Batching.Pad(new[] { a, b });
        Assert.Equal(new long[] { 2, 3, 9, 7 }, batch.Images.shape);
        Assert.Equal(new[] { (5, 7), (9, 4) }, batch.Sizes);
        TensorAssert.Equal(a, batch.Images[0, .., 0..5, 0..7]);
        TensorAssert.Equal(b, batch.Images[1, .., 0..9, 0..4]);
        Assert.True(batch.Images[0, .., 5.., ..].Eq(0).all().item<bool>());
        Assert.True(batch.Images[1, .., .., 4..].Eq(0).all().item<bool>());
        Assert.Equal(3 * 5 * 7 + 3 * 9 * 4, batch.Images.Gt(0).sum().item<long>());
    }

    [Fact]
    public void Pad_rounds_up_to_the_stride_and_uses_the_pad_value()
    {
        using var scope = NewDisposeScope();
        var a = ones(new long[] { 3, 17, 32 }, ScalarType.Byte);
        using var batch = Batching.Pad(new[] { a }, sizeDivisor: 16, padValue: 9);
        Assert.Equal(new long[] { 1, 3, 32, 32 }, batch.Images.shape);
        Assert.Equal(ScalarType.Byte, batch.Images.dtype);
        Assert.Equal(1, batch.Images[0, 2, 16, 31].item<byte>());
        Assert.Equal(9, batch.Images[0, 2, 17, 0].item<byte>());
        Assert.Equal(3 * 15 * 32, batch.Images.Eq(9).sum().item<long>());
    }

    [Fact]
    public void Pad_rejects_mixed_images()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => Batching.Pad(Array.Empty<Tensor>()));
        Assert.Throws<ArgumentException>(() => Batching.Pad(new[] { zeros(3, 4, 4), zeros(1, 4, 4) }));
        Assert.Throws<ArgumentException>(() => Batching.Pad(new[] { zeros(3, 4, 4), zeros(new long[] { 3, 4, 4 }, ScalarType.Byte) }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Batching.Pad(new[] { zeros(3, 4, 4) }, sizeDivisor: 0));
    }

    [Fact]
    public void Pyramid_has_one_level_per_scale_with_its_factor()
    {
        using var scope = NewDisposeScope();
        var img = rand(3, 15, 20);
        using var pyr = Batching.Pyramid(img, new[] { 12, 30, 60 }, maxSize: 60);
        Assert.Equal(3, pyr.Levels.Count);
        Assert.Equal(new[] { 0.8, 2.0, 3.0 }, pyr.Factors);     // 60 on the short side would make the long side 80 > 60
        Assert.Equal(new long[] { 3, 12, 16 }, pyr.Levels[0].Image.shape);
        Assert.Equal(new long[] { 3, 30, 40 }, pyr.Levels[1].Image.shape);
        Assert.Equal(new long[] { 3, 45, 60 }, pyr.Levels[2].Image.shape);
        using var batch = pyr.ToBatch(sizeDivisor: 16);
        Assert.Equal(new long[] { 3, 3, 48, 64 }, batch.Images.shape);
        Assert.Equal((12, 16), batch.Sizes[0]);
    }

    [Fact]
    public void Rois_go_to_the_level_where_their_area_is_closest_to_224_squared()
    {
        using var scope = NewDisposeScope();
        using var pyr = new ImagePyramid(new[] { 1.0, 2.0 }.Select(f =>
            new ScaledImage(zeros(3, 1, 1), new ImageScale(1, 1, 1, 1, f))).ToList());
        var boxes = tensor(new float[]
        {
            0, 0, 224, 224,     // area 224² at level 0                     → 0
            10, 10, 122, 122,   // 112²: level 0 |12544−50176|, level 1 0    → 1
            0, 0, 150, 150,     // 22500 vs 90000: 27676 vs 39824            → 0
            0, 0, 140, 140,     // 19600 vs 78400: 30576 vs 28224            → 1
        }, new long[] { 4, 4 });
        Assert.Equal(new long[] { 0, 1, 0, 1 }, pyr.AssignLevels(boxes).data<long>().ToArray());
        var (rois, levels) = pyr.ProjectRois(boxes);
        Assert.Equal(new long[] { 0, 1, 0, 1 }, levels.data<long>().ToArray());
        Assert.Equal(new float[] { 0, 0, 0, 224, 224, 1, 20, 20, 244, 244, 0, 0, 0, 150, 150, 1, 0, 0, 280, 280 },
            rois.data<float>().ToArray());
    }

    [Fact]
    public void Single_level_pyramid_assigns_everything_to_level_zero()
    {
        using var scope = NewDisposeScope();
        var img = rand(3, 10, 10);
        using var pyr = Batching.Pyramid(img, new[] { 20 }, maxSize: 100);
        var (rois, levels) = pyr.ProjectRois(tensor(new float[] { 1, 1, 2, 2, 0, 0, 10, 10 }, new long[] { 2, 4 }));
        Assert.True(levels.Eq(0).all().item<bool>());
        Assert.Equal(new float[] { 0, 2, 2, 4, 4, 0, 0, 0, 20, 20 }, rois.data<float>().ToArray());
    }
}
