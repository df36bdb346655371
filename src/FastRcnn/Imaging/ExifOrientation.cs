namespace FastRcnn.Imaging;

/// <summary>
/// The EXIF <c>Orientation</c> tag (0x0112): how the stored pixels are turned for display. Cameras store the
/// sensor's rows and record the turn, and browsers, PIL's <c>ImageOps.exif_transpose</c> and detectron2's
/// <c>read_image</c> apply it; <see cref="ImageIO"/> decodes every image in its displayed orientation, which
/// is what annotation tools show and box annotations refer to.
/// </summary>
/// <remarks>
/// Values, as (stored → displayed): 1 as stored; 2 mirrored left–right; 3 turned 180°; 4 mirrored top–bottom;
/// 5 transposed (mirrored about the main diagonal); 6 turned 90° clockwise; 7 transverse (mirrored about the
/// anti-diagonal); 8 turned 90° counter-clockwise. 5–8 swap width and height. Any other value means 1.
/// </remarks>
public static class ExifOrientation
{
    /// <summary>The tag value that leaves the pixels as stored.</summary>
    public const int Normal = 1;

    /// <summary>Whether <paramref name="orientation"/> swaps width and height (5–8).</summary>
    public static bool SwapsSides(int orientation) => orientation is >= 5 and <= 8;

    /// <summary>The displayed size of a <paramref name="width"/>×<paramref name="height"/> stored image.</summary>
    public static (int Width, int Height) DisplayedSize(int width, int height, int orientation) =>
        SwapsSides(orientation) ? (height, width) : (width, height);

    /// <summary>A few words for <paramref name="orientation"/>, e.g. "6: turned 90° clockwise".</summary>
    public static string Describe(int orientation) => orientation switch
    {
        2 => "2: mirrored left–right",
        3 => "3: turned 180°",
        4 => "4: mirrored top–bottom",
        5 => "5: transposed",
        6 => "6: turned 90° clockwise",
        7 => "7: transverse",
        8 => "8: turned 90° counter-clockwise",
        _ => "1: as stored",
    };

    /// <summary>
    /// The displayed image of <paramref name="stored"/> pixels with tag <paramref name="orientation"/>: a new image,
    /// or <paramref name="stored"/> itself for 1 (and unknown values).
    /// </summary>
    public static RgbImage Apply(RgbImage stored, int orientation)
    {
        ArgumentNullException.ThrowIfNull(stored);
        if (orientation is < 2 or > 8) return stored;
        int w = stored.Width, h = stored.Height;
        var (dw, dh) = DisplayedSize(w, h, orientation);
        var src = stored.Data;
        var dst = new byte[src.Length];
        for (int y = 0; y < dh; y++)
        {
            for (int x = 0; x < dw; x++)
            {
                // The stored pixel (sx, sy) shown at (x, y).
                var (sx, sy) = orientation switch
                {
                    2 => (w - 1 - x, y),
                    3 => (w - 1 - x, h - 1 - y),
                    4 => (x, h - 1 - y),
                    5 => (y, x),
                    6 => (y, h - 1 - x),
                    7 => (w - 1 - y, h - 1 - x),
                    _ => (w - 1 - y, x),
                };
                int s = 3 * (sy * w + sx), d = 3 * (y * dw + x);
                dst[d] = src[s];
                dst[d + 1] = src[s + 1];
                dst[d + 2] = src[s + 2];
            }
        }
        return new RgbImage(dw, dh, dst);
    }
}
