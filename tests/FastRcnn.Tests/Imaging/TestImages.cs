using FastRcnn.Imaging;

namespace FastRcnn.Tests.Imaging;

/// <summary>Small synthetic images, a hand-written BMP encoder and a throw-away directory for the imaging tests.</summary>
internal static class TestImages
{
    /// <summary>A W×H image of smooth colour gradients (JPEG-friendly but not flat).</summary>
    public static RgbImage Gradient(int width, int height)
    {
        var d = new byte[3 * width * height];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int i = 3 * (y * width + x);
                d[i] = (byte)(255 * x / Math.Max(1, width - 1));
                d[i + 1] = (byte)(255 * y / Math.Max(1, height - 1));
                d[i + 2] = (byte)(255 * (x + y) / Math.Max(1, width + height - 2));
            }
        return new RgbImage(width, height, d);
    }

    /// <summary>A W×H image of seeded random bytes (every value occurs; tests lossless paths).</summary>
    public static RgbImage Noise(int width, int height, int seed)
    {
        var d = new byte[3 * width * height];
        new Random(seed).NextBytes(d);
        return new RgbImage(width, height, d);
    }

    /// <summary>
    /// Encodes a 24-bit uncompressed BMP (BITMAPINFOHEADER, BGR, rows bottom-up and padded to 4
    /// bytes), written by hand so the BMP decoder is tested against an independent encoder.
    /// </summary>
    public static byte[] Bmp24(RgbImage img)
    {
        int rowBytes = (3 * img.Width + 3) & ~3;
        int dataSize = rowBytes * img.Height, fileSize = 54 + dataSize;
        var b = new byte[fileSize];
        b[0] = (byte)'B'; b[1] = (byte)'M';
        BitConverter.TryWriteBytes(b.AsSpan(2), fileSize);
        BitConverter.TryWriteBytes(b.AsSpan(10), 54);            // pixel data offset
        BitConverter.TryWriteBytes(b.AsSpan(14), 40);            // BITMAPINFOHEADER size
        BitConverter.TryWriteBytes(b.AsSpan(18), img.Width);
        BitConverter.TryWriteBytes(b.AsSpan(22), img.Height);    // positive: bottom-up rows
        BitConverter.TryWriteBytes(b.AsSpan(26), (short)1);      // planes
        BitConverter.TryWriteBytes(b.AsSpan(28), (short)24);     // bits per pixel
        BitConverter.TryWriteBytes(b.AsSpan(34), dataSize);
        BitConverter.TryWriteBytes(b.AsSpan(38), 2835);          // 72 dpi
        BitConverter.TryWriteBytes(b.AsSpan(42), 2835);
        for (int y = 0; y < img.Height; y++)
        {
            int row = 54 + (img.Height - 1 - y) * rowBytes;
            for (int x = 0; x < img.Width; x++)
            {
                var p = img[x, y];
                b[row + 3 * x] = p.B;
                b[row + 3 * x + 1] = p.G;
                b[row + 3 * x + 2] = p.R;
            }
        }
        return b;
    }

    /// <summary>Mean absolute difference per channel value of two images of equal size.</summary>
    public static double MeanAbsDiff(RgbImage a, RgbImage b)
    {
        Assert.Equal((a.Width, a.Height), (b.Width, b.Height));
        long sum = 0;
        for (int i = 0; i < a.Data.Length; i++)
            sum += Math.Abs(a.Data[i] - b.Data[i]);
        return sum / (double)a.Data.Length;
    }
}
