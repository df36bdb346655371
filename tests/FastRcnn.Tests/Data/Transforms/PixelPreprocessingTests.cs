using FastRcnn.Data.Transforms;
using FastRcnn.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Data.Transforms;

public class PixelPreprocessingTests
{
    /// <summary>A 1×2 RGB image: pixel 0 = (10, 20, 30), pixel 1 = (255, 0, 128).</summary>
    private static Tensor HandImage() =>
        tensor(new byte[] { 10, 255, 20, 0, 30, 128 }, new long[] { 3, 1, 2 });

    [Fact]
    public void Caffe_preset_is_bgr_minus_means_on_a_hand_pixel()
    {
        using var scope = NewDisposeScope();
        var y = PixelPreprocessing.CaffeBgr.Apply(HandImage());
        Assert.Equal(ScalarType.Float32, y.dtype);
        Assert.Equal(new long[] { 3, 1, 2 }, y.shape);
        // channel 0 = B, 1 = G, 2 = R
        Assert.Equal(30 - 102.9801f, y[0, 0, 0].item<float>(), 4);
        Assert.Equal(20 - 115.9465f, y[1, 0, 0].item<float>(), 4);
        Assert.Equal(10 - 122.7717f, y[2, 0, 0].item<float>(), 4);
        Assert.Equal(128 - 102.9801f, y[0, 0, 1].item<float>(), 4);
        Assert.Equal(0 - 115.9465f, y[1, 0, 1].item<float>(), 4);
        Assert.Equal(255 - 122.7717f, y[2, 0, 1].item<float>(), 4);
    }

    [Fact]
    public void Torchvision_preset_is_rgb_unit_range_standardised_on_a_hand_pixel()
    {
        using var scope = NewDisposeScope();
        var y = PixelPreprocessing.TorchvisionRgb.Apply(HandImage());
        Assert.Equal((10 / 255.0 - 0.485) / 0.229, y[0, 0, 0].item<float>(), 5);
        Assert.Equal((20 / 255.0 - 0.456) / 0.224, y[1, 0, 0].item<float>(), 5);
        Assert.Equal((30 / 255.0 - 0.406) / 0.225, y[2, 0, 0].item<float>(), 5);
        Assert.Equal((1.0 - 0.485) / 0.229, y[0, 0, 1].item<float>(), 5);
        Assert.Equal((0.0 - 0.456) / 0.224, y[1, 0, 1].item<float>(), 5);
        Assert.Equal((128 / 255.0 - 0.406) / 0.225, y[2, 0, 1].item<float>(), 5);
    }

    [Theory]
    [InlineData("caffe-bgr")]
    [InlineData("torchvision-rgb")]
    public void Invert_undoes_apply_and_batches_match_single_images(string name)
    {
        using var scope = NewDisposeScope();
        var p = PixelPreprocessing.FromName(name);
        Assert.Equal(name, p.Name);
        var img = randint(0, 256, new long[] { 3, 6, 5 }).to_type(ScalarType.Byte);
        var back = p.Invert(p.Apply(img));
        Assert.True((back - img.to_type(ScalarType.Float32)).abs().max().item<float>() < 1e-3f);
        Assert.Equal(RgbImage.FromTensor(img).Data, RgbImage.FromTensor(back).Data);

        var batch = stack(new[] { img, img.flip(2) });
        var batched = p.Apply(batch);
        Assert.Equal(new long[] { 2, 3, 6, 5 }, batched.shape);
        Assert.True(batched[1].allclose(p.Apply(img.flip(2))));
        Assert.True(p.Apply(img.to_type(ScalarType.Float32)).allclose(p.Apply(img)));   // float 0–255 input too
    }

    [Fact]
    public void Presets_compare_by_value_and_bad_inputs_are_rejected()
    {
        using var scope = NewDisposeScope();
        Assert.Equal(PixelPreprocessing.CaffeBgr, PixelPreprocessing.CaffeBgr with { });
        Assert.NotEqual(PixelPreprocessing.CaffeBgr, PixelPreprocessing.TorchvisionRgb);
        Assert.Throws<ArgumentException>(() => PixelPreprocessing.FromName("imagenet"));
        Assert.Throws<ArgumentException>(() => PixelPreprocessing.CaffeBgr.Apply(zeros(1, 4, 4)));
        Assert.Throws<ArgumentException>(() => PixelPreprocessing.CaffeBgr.Apply(zeros(3, 4)));
        Assert.Throws<ArgumentException>(() => PixelPreprocessing.CaffeBgr.Apply(zeros(new long[] { 3, 4, 4 }, ScalarType.Int32)));
    }
}
