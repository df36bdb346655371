using FastRcnn.Proposals;

namespace FastRcnn.Tests.Proposals;

public class ColorSpacesTests
{
    private static byte[] Pixel(ColorSpace space, byte r, byte g, byte b)
    {
        var image = ColorSpaces.Convert(new[] { r, g, b }, 1, 1, space);
        return image.Data;
    }

    [Theory]
    [InlineData(255, 0, 0, 0, 255, 255)]
    [InlineData(0, 255, 0, 85, 255, 255)]      // 120° · 256/360 = 85.3
    [InlineData(0, 0, 255, 170, 255, 255)]     // 240° → 170.7
    [InlineData(128, 128, 128, 0, 0, 128)]
    [InlineData(0, 0, 0, 0, 0, 0)]
    [InlineData(255, 0, 255, 213, 255, 255)]   // 300° → 213.3
    public void Hsv(byte r, byte g, byte b, int h, int s, int v) =>
        Assert.Equal(new byte[] { (byte)h, (byte)s, (byte)v }, Pixel(ColorSpace.Hsv, r, g, b));

    [Theory]
    [InlineData(255, 255, 255, 255, 128, 128)]
    [InlineData(0, 0, 0, 0, 128, 128)]
    [InlineData(255, 0, 0, 136, 208, 195)]     // L 53.24, a 80.09, b 67.20
    [InlineData(0, 0, 255, 82, 207, 20)]       // L 32.30, a 79.19, b −107.86
    public void Lab(byte r, byte g, byte b, int l, int a, int bb)
    {
        var lab = Pixel(ColorSpace.Lab, r, g, b);
        Assert.InRange(lab[0], l - 1, l + 1);
        Assert.InRange(lab[1], a - 1, a + 1);
        Assert.InRange(lab[2], bb - 1, bb + 1);
    }

    [Fact]
    public void RgIAndIntensityAndHue()
    {
        Assert.Equal(new byte[] { 43, 85, 60 }, Pixel(ColorSpace.RgI, 30, 60, 90));
        Assert.Equal(new byte[] { 85, 85, 0 }, Pixel(ColorSpace.RgI, 0, 0, 0));
        Assert.Equal(new byte[] { 255 }, Pixel(ColorSpace.Intensity, 255, 255, 255));
        Assert.Equal(new byte[] { 76 }, Pixel(ColorSpace.Intensity, 255, 0, 0));
        Assert.Equal(new byte[] { 85 }, Pixel(ColorSpace.Hue, 0, 255, 0));
        Assert.Equal(new byte[] { 10, 20, 30 }, Pixel(ColorSpace.Rgb, 10, 20, 30));
    }

    [Fact]
    public void PlanarLayoutAndChannelCounts()
    {
        var scene = SyntheticScene.Standard();
        foreach (var space in Enum.GetValues<ColorSpace>())
        {
            var image = ColorSpaces.Convert(scene.Rgb, scene.Width, scene.Height, space);
            Assert.Equal(ColorSpaces.Channels(space), image.Channels);
            Assert.Equal(scene.Width * scene.Height * image.Channels, image.Data.Length);
        }
        var rgb = ColorSpaces.Convert(scene.Rgb, scene.Width, scene.Height, ColorSpace.Rgb);
        int p = 123 * scene.Width + 77;
        Assert.Equal(scene.Rgb[3 * p + 1], rgb.Plane(1)[p]);
        var hsv = ColorSpaces.Convert(scene.Rgb, scene.Width, scene.Height, ColorSpace.Hsv);
        var hue = ColorSpaces.Convert(scene.Rgb, scene.Width, scene.Height, ColorSpace.Hue);
        Assert.True(hsv.Plane(0).SequenceEqual(hue.Plane(0)));
        Assert.Throws<ArgumentException>(() => ColorSpaces.Convert(new byte[5], 2, 1, ColorSpace.Rgb));
    }
}
