using SkiaSharp;

namespace FastRcnn.Data;

/// <summary>A fill (paint plus the shader and bitmap it holds); disposing it releases all three.</summary>
internal sealed class ShapeFill : IDisposable
{
    public ShapeFill(SKPaint paint, SKShader? shader = null, SKBitmap? bitmap = null)
    {
        Paint = paint;
        Shader = shader;
        Bitmap = bitmap;
        if (shader is not null) { paint.Shader = shader; }
    }

    public SKPaint Paint { get; }
    private SKShader? Shader { get; }
    private SKBitmap? Bitmap { get; }

    public void Dispose()
    {
        Paint.Dispose();
        Shader?.Dispose();
        Bitmap?.Dispose();
    }
}

/// <summary>
/// Colours and textures of the Shapes benchmark: flat, linear/radial gradient, stripes/checks, and
/// mottled noise fills. All randomness from the caller's RNG.
/// </summary>
internal static class ShapesTextures
{
    private static readonly SKSamplingOptions Linear = new(SKFilterMode.Linear, SKMipmapMode.None);
    private static readonly SKSamplingOptions Nearest = new(SKFilterMode.Nearest, SKMipmapMode.None);

    /// <summary>An opaque colour from HSV with saturation in [s0, s1) and value in [v0, v1).</summary>
    public static SKColor RandomColor(Random rng, float s0, float s1, float v0, float v1, float? hue = null) =>
        SKColor.FromHsv(hue ?? rng.NextSingle() * 360f, 100f * ShapeGeometry.Range(rng, s0, s1), 100f * ShapeGeometry.Range(rng, v0, v1));

    /// <summary>A colour related to <paramref name="c"/>: hue shifted by up to ±<paramref name="hueShift"/>°, value moved.</summary>
    public static SKColor Related(SKColor c, Random rng, float hueShift)
    {
        c.ToHsv(out float h, out float s, out float v);
        float nv = Math.Clamp(v + ShapeGeometry.Range(rng, -45f, 45f), 8f, 100f);
        return SKColor.FromHsv((h + ShapeGeometry.Range(rng, -hueShift, hueShift) + 360f) % 360f, s, nv);
    }

    /// <summary>
    /// A fill paint for a shape whose device bounds are <paramref name="b"/>: flat (30%), gradient (25%),
    /// stripes or checks (20%) or mottled noise (25%) around <paramref name="c"/>.
    /// </summary>
    public static ShapeFill Fill(Random rng, SKRect b, SKColor c)
    {
        var paint = new SKPaint { IsAntialias = true, Color = c, Style = SKPaintStyle.Fill };
        double u = rng.NextDouble();
        if (u < 0.30) { return new ShapeFill(paint); }
        if (u < 0.55)
        {
            var c2 = Related(c, rng, 60f);
            float a = rng.NextSingle() * 2 * MathF.PI, r = MathF.Max(b.Width, b.Height) / 2 + 1;
            var shader = rng.Next(3) == 0
                ? SKShader.CreateRadialGradient(new SKPoint(b.MidX + r * 0.4f * MathF.Cos(a), b.MidY + r * 0.4f * MathF.Sin(a)), r * 1.3f,
                    [c, c2], SKShaderTileMode.Clamp)
                : SKShader.CreateLinearGradient(new SKPoint(b.MidX - r * MathF.Cos(a), b.MidY - r * MathF.Sin(a)),
                    new SKPoint(b.MidX + r * MathF.Cos(a), b.MidY + r * MathF.Sin(a)), [c, c2], SKShaderTileMode.Clamp);
            return new ShapeFill(paint, shader);
        }
        if (u < 0.75)
        {
            var bitmap = Stripes(rng, c, Related(c, rng, 180f), rng.Next(3, 10), checks: rng.Next(4) == 0);
            var m = SKMatrix.CreateRotationDegrees(rng.NextSingle() * 180f);
            return new ShapeFill(paint, bitmap.ToShader(SKShaderTileMode.Repeat, SKShaderTileMode.Repeat, Nearest, m), bitmap);
        }
        var noise = Mottle(rng, c, 8, 8, 50);
        float scale = ShapeGeometry.Range(rng, 1.5f, 6f);
        var nm = SKMatrix.Concat(SKMatrix.CreateRotationDegrees(rng.NextSingle() * 90f), SKMatrix.CreateScale(scale, scale));
        return new ShapeFill(paint, noise.ToShader(SKShaderTileMode.Repeat, SKShaderTileMode.Repeat, Linear, nm), noise);
    }

    /// <summary>A w×h bitmap of colours around <paramref name="c"/> (each channel ± <paramref name="spread"/>).</summary>
    public static SKBitmap Mottle(Random rng, SKColor c, int w, int h, int spread)
    {
        var bmp = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Premul));
        var px = bmp.GetPixelSpan();
        for (int i = 0; i < w * h; i++)
        {
            px[4 * i] = (byte)Math.Clamp(c.Red + rng.Next(-spread, spread + 1), 0, 255);
            px[4 * i + 1] = (byte)Math.Clamp(c.Green + rng.Next(-spread, spread + 1), 0, 255);
            px[4 * i + 2] = (byte)Math.Clamp(c.Blue + rng.Next(-spread, spread + 1), 0, 255);
            px[4 * i + 3] = 255;
        }
        return bmp;
    }

    /// <summary>Stripes of period p (half c1, half c2), or a p×p checkerboard.</summary>
    private static SKBitmap Stripes(Random rng, SKColor c1, SKColor c2, int p, bool checks)
    {
        int half = Math.Max(1, p / 2 + rng.Next(-1, 2));
        var bmp = new SKBitmap(new SKImageInfo(p, checks ? p : 1, SKColorType.Rgba8888, SKAlphaType.Premul));
        for (int y = 0; y < bmp.Height; y++)
        {
            for (int x = 0; x < p; x++)
            {
                bool first = checks ? (x < p / 2) ^ (y < p / 2) : x < half;
                bmp.SetPixel(x, y, first ? c1 : c2);
            }
        }
        return bmp;
    }
}
