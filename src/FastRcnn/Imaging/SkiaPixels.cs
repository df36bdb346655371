namespace FastRcnn.Imaging;

/// <summary>
/// Conversions between <see cref="RgbImage"/> (HWC RGB, 3 bytes a pixel) and the 4-byte RGBA
/// layout Skia reads and writes (<c>SKColorType.Rgba8888</c>, rows of <c>4·W</c> bytes).
/// </summary>
internal static class SkiaPixels
{
    /// <summary>RGBA copy of <paramref name="image"/> with alpha 255 (opaque).</summary>
    public static byte[] ToRgba(RgbImage image)
    {
        var rgb = image.Data;
        var rgba = new byte[4L * image.Width * image.Height];
        for (int i = 0, j = 0; j < rgb.Length; i += 4, j += 3)
        {
            rgba[i] = rgb[j];
            rgba[i + 1] = rgb[j + 1];
            rgba[i + 2] = rgb[j + 2];
            rgba[i + 3] = 255;
        }
        return rgba;
    }

    /// <summary>An RGB image from RGBA bytes (W·H·4), dropping alpha (no compositing).</summary>
    public static RgbImage FromRgba(byte[] rgba, int width, int height)
    {
        var rgb = new byte[3L * width * height];
        for (int i = 0, j = 0; j < rgb.Length; i += 4, j += 3)
        {
            rgb[j] = rgba[i];
            rgb[j + 1] = rgba[i + 1];
            rgb[j + 2] = rgba[i + 2];
        }
        return new RgbImage(width, height, rgb);
    }
}
