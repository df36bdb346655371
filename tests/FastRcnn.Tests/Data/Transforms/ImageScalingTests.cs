using FastRcnn.Data.Transforms;
using FastRcnn.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Data.Transforms;

public class ImageScalingTests
{
    [Theory]
    [InlineData(375, 500, 600, 1000, 600.0 / 375, 600, 800)]      // VOC landscape: 1.6
    [InlineData(500, 375, 600, 1000, 600.0 / 375, 800, 600)]      // portrait: same factor
    [InlineData(300, 1200, 600, 1000, 1000.0 / 1200, 250, 1000)]  // longer side capped
    [InlineData(600, 1000, 600, 1000, 1.0, 600, 1000)]            // exactly at the cap
    [InlineData(500, 833, 600, 1000, 1.2, 600, 1000)]             // 833·1.2 = 999.6 rounds to 1000: not over
    [InlineData(500, 834, 600, 1000, 1000.0 / 834, 600, 1000)]    // 834·1.2 = 1000.8 rounds to 1001: capped
    [InlineData(800, 800, 600, 1000, 0.75, 600, 600)]             // shrinking
    [InlineData(375, 500, 1200, 2000, 3.2, 1200, 1600)]           // multi-scale top level
    public void Scale_factor_and_size_follow_short_side_and_max_size(int h, int w, int shortSide, int maxSize,
        double factor, int sh, int sw)
    {
        double s = ImageScaling.ScaleFactor(h, w, shortSide, maxSize);
        Assert.Equal(factor, s, 12);
        Assert.Equal((sh, sw), ImageScaling.ScaledSize(h, w, s));
    }

    [Fact]
    public void Invalid_sizes_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => ImageScaling.ScaleFactor(0, 5, 600, 1000));
        Assert.Throws<ArgumentException>(() => ImageScaling.ScaleFactor(5, 5, 0, 1000));
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageScaling.ScaledSize(5, 5, double.NaN));
    }

    [Fact]
    public void Bilinear_upscale_matches_hand_values_with_half_pixel_centres()
    {
        using var scope = NewDisposeScope();
        var img = tensor(new float[] { 0, 4, 8, 12 }, new long[] { 1, 2, 2 });
        var up = ImageScaling.Resize(img, 4, 4);
        // Source coordinate (d + 0.5)/2 − 0.5, clamped at the borders: columns blend 0,¼,¾,1 and
        // rows likewise, so out[y,x] = row[y] + col[x] with col = (0,1,3,4), row = (0,2,6,8).
        float[] col = { 0, 1, 3, 4 }, row = { 0, 2, 6, 8 };
        var got = up.data<float>().ToArray();
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 4; x++)
                Assert.Equal(row[y] + col[x], got[4 * y + x], 5);
    }

    [Fact]
    public void Scale_resizes_the_image_and_records_the_factor()
    {
        using var scope = NewDisposeScope();
        var img = rand(3, 30, 40);
        using var scaled = ImageScaling.Scale(img, shortSide: 45, maxSize: 100);
        Assert.Equal(new long[] { 3, 45, 60 }, scaled.Image.shape);
        Assert.Equal(new ImageScale(30, 40, 45, 60, 1.5), scaled.Scale);
        Assert.Equal(1.5, scaled.Scale.FactorX, 12);
        Assert.Equal(ScalarType.Float32, scaled.Image.dtype);

        var batch = rand(2, 3, 30, 40);
        Assert.Equal(new long[] { 2, 3, 15, 20 }, ImageScaling.Rescale(batch, 0.5).Image.shape);
    }

    [Fact]
    public void Uint8_images_stay_uint8_and_agree_with_float_resizing()
    {
        using var scope = NewDisposeScope();
        var u8 = randint(0, 256, new long[] { 3, 21, 17 }).to_type(ScalarType.Byte);
        var a = ImageScaling.Resize(u8, 13, 29);
        var b = ImageScaling.Resize(u8.to_type(ScalarType.Float32), 13, 29);
        Assert.Equal(ScalarType.Byte, a.dtype);
        Assert.True((a.to_type(ScalarType.Float32) - b).abs().max().item<float>() <= 0.5f + 1e-4f);
        var constant = SafeScalars.Full([3, 5, 7], 77, ScalarType.Byte);
        Assert.True(ImageScaling.Resize(constant, 11, 3).Eq(77).all().item<bool>());
    }

    [Fact]
    public void Same_size_resize_returns_an_equal_copy()
    {
        using var scope = NewDisposeScope();
        var img = rand(3, 4, 5);
        var same = ImageScaling.Resize(img, 4, 5);
        TensorAssert.Equal(img, same);
        same.Add_(1);
        Assert.False(TensorAssert.Same(img, same));
    }

    [Fact]
    public void Boxes_scale_with_the_image_and_map_back()
    {
        using var scope = NewDisposeScope();
        var boxes = tensor(new float[] { 10, 20, 110, 220, 0, 0, 500, 375 }, new long[] { 2, 4 });
        var scale = new ImageScale(375, 500, 600, 800, 1.6);
        var scaled = scale.ToScaled(boxes);
        Assert.Equal(new float[] { 16, 32, 176, 352, 0, 0, 800, 600 }, scaled.data<float>().ToArray());
        Assert.Equal(boxes.data<float>().ToArray(), scale.ToOriginal(scaled).data<float>().ToArray());
        var classSpecific = ImageScaling.ScaleBoxes(ones(3, 8), 0.5);
        Assert.True(classSpecific.Eq(0.5f).all().item<bool>());
        Assert.Throws<ArgumentException>(() => ImageScaling.ScaleBoxes(ones(3, 5), 2));
    }
}
