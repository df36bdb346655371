namespace FastRcnn.Proposals;

/// <summary>The colour spaces selective search diversifies over (Uijlings et al., IJCV 2013, Table 1).</summary>
public enum ColorSpace
{
    /// <summary>R, G, B as given.</summary>
    Rgb,

    /// <summary>Hue (0–360° → 0–255), saturation and value (each 0–255).</summary>
    Hsv,

    /// <summary>CIE L*a*b* (D65, sRGB): L·255/100, a + 128, b + 128 (OpenCV's 8-bit convention).</summary>
    Lab,

    /// <summary>Normalised r = R/(R+G+B), g = G/(R+G+B) (scaled to 0–255) and intensity (R+G+B)/3.</summary>
    RgI,

    /// <summary>The hue channel of <see cref="Hsv"/> alone (one channel).</summary>
    Hue,

    /// <summary>Luma 0.299 R + 0.587 G + 0.114 B (one channel).</summary>
    Intensity,
}

/// <summary>
/// Conversions of 8-bit interleaved RGB (HWC) into the planar 8-bit images of the
/// <see cref="ColorSpace"/>s. Every output channel uses the whole 0–255 range, so colour distances
/// and the segmentation constant k mean the same in every space.
/// </summary>
public static class ColorSpaces
{
    private const int CbrtTableSize = 1024;
    private static readonly float[] s_srgbToLinear = BuildSrgbTable();
    private static readonly float[] s_labF = BuildLabFTable();

    /// <summary>Channels C of <paramref name="space"/>: 1 for <see cref="ColorSpace.Hue"/> and <see cref="ColorSpace.Intensity"/>, else 3.</summary>
    public static int Channels(ColorSpace space) => space is ColorSpace.Hue or ColorSpace.Intensity ? 1 : 3;

    /// <summary>Converts interleaved RGB bytes (H·W·3, row-major) into <paramref name="space"/>.</summary>
    public static PlanarImage Convert(ReadOnlySpan<byte> rgb, int width, int height, ColorSpace space)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        int n = checked(width * height);
        if (rgb.Length != 3L * n)
            throw new ArgumentException($"Expected {3L * n} RGB bytes for {width}×{height}, got {rgb.Length}.", nameof(rgb));
        var image = new PlanarImage(Channels(space), width, height);
        var d = image.Data.AsSpan();
        switch (space)
        {
            case ColorSpace.Rgb:
                for (int p = 0; p < n; p++)
                {
                    d[p] = rgb[3 * p];
                    d[n + p] = rgb[3 * p + 1];
                    d[2 * n + p] = rgb[3 * p + 2];
                }
                break;
            case ColorSpace.Hsv:
            case ColorSpace.Hue:
                bool hueOnly = space == ColorSpace.Hue;
                for (int p = 0; p < n; p++)
                {
                    int r = rgb[3 * p], g = rgb[3 * p + 1], b = rgb[3 * p + 2];
                    int max = Math.Max(r, Math.Max(g, b)), min = Math.Min(r, Math.Min(g, b));
                    d[p] = Hue(r, g, b, max, max - min);
                    if (hueOnly) continue;
                    d[n + p] = max == 0 ? (byte)0 : (byte)((255 * (max - min) + max / 2) / max);
                    d[2 * n + p] = (byte)max;
                }
                break;
            case ColorSpace.Lab:
                ToLab(rgb, d, n);
                break;
            case ColorSpace.RgI:
                for (int p = 0; p < n; p++)
                {
                    int r = rgb[3 * p], g = rgb[3 * p + 1], b = rgb[3 * p + 2], s = r + g + b;
                    d[p] = s == 0 ? (byte)85 : (byte)((255 * r + s / 2) / s);
                    d[n + p] = s == 0 ? (byte)85 : (byte)((255 * g + s / 2) / s);
                    d[2 * n + p] = (byte)((s + 1) / 3);
                }
                break;
            case ColorSpace.Intensity:
                // Fixed-point luma (weights ×2^16, they sum to 65536).
                for (int p = 0; p < n; p++)
                    d[p] = (byte)((19595 * rgb[3 * p] + 38470 * rgb[3 * p + 1] + 7471 * rgb[3 * p + 2] + 32768) >> 16);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(space), space, "Unknown colour space.");
        }
        return image;
    }

    /// <summary>Hue in degrees (0 for grey) scaled by 256/360 and floored: 0–255.</summary>
    private static byte Hue(int r, int g, int b, int max, int delta)
    {
        if (delta == 0) return 0;
        float h = max == r ? 60f * (g - b) / delta
            : max == g ? 120f + 60f * (b - r) / delta
            : 240f + 60f * (r - g) / delta;
        if (h < 0) h += 360f;
        return (byte)Math.Min(255, (int)(h * (256f / 360f)));
    }

    /// <summary>sRGB → linear RGB (table) → XYZ (D65, normalised by the white point) → L*a*b*.</summary>
    private static void ToLab(ReadOnlySpan<byte> rgb, Span<byte> d, int n)
    {
        var lin = s_srgbToLinear;
        for (int p = 0; p < n; p++)
        {
            float r = lin[rgb[3 * p]], g = lin[rgb[3 * p + 1]], b = lin[rgb[3 * p + 2]];
            float x = (0.412453f * r + 0.357580f * g + 0.180423f * b) * (1f / 0.950456f);
            float y = 0.212671f * r + 0.715160f * g + 0.072169f * b;
            float z = (0.019334f * r + 0.119193f * g + 0.950227f * b) * (1f / 1.088754f);
            float fx = LabF(x), fy = LabF(y), fz = LabF(z);
            float l = 116f * fy - 16f;                     // for y ≤ 0.008856 this equals 903.3·y
            float a = 500f * (fx - fy), bb = 200f * (fy - fz);
            d[p] = ClampByte(l * (255f / 100f));
            d[n + p] = ClampByte(a + 128f);
            d[2 * n + p] = ClampByte(bb + 128f);
        }
    }

    /// <summary>f(t) = t^(1/3) for t &gt; 0.008856, else 7.787 t + 16/116; linear interpolation in a table over [0, 1].</summary>
    private static float LabF(float t)
    {
        float u = Math.Clamp(t, 0f, 1f) * (CbrtTableSize - 1);
        int i = Math.Min((int)u, CbrtTableSize - 2);
        float frac = u - i;
        return s_labF[i] + frac * (s_labF[i + 1] - s_labF[i]);
    }

    private static byte ClampByte(float v) => (byte)Math.Clamp((int)(v + 0.5f), 0, 255);

    private static float[] BuildSrgbTable()
    {
        var t = new float[256];
        for (int i = 0; i < 256; i++)
        {
            double c = i / 255.0;
            t[i] = (float)(c <= 0.04045 ? c / 12.92 : Math.Pow((c + 0.055) / 1.055, 2.4));
        }
        return t;
    }

    private static float[] BuildLabFTable()
    {
        var t = new float[CbrtTableSize];
        for (int i = 0; i < CbrtTableSize; i++)
        {
            double v = i / (double)(CbrtTableSize - 1);
            t[i] = (float)(v > 0.008856 ? Math.Cbrt(v) : 7.787 * v + 16.0 / 116.0);
        }
        return t;
    }
}
