using SkiaSharp;

namespace FastRcnn.Data;

/// <summary>
/// Shapes backgrounds: per pixel (x, y), in one managed pass over the RGBA8888 buffer,
/// <code>
/// c  = gradient(t),  t = ((x − W/2)·cos α + (y − H/2)·sin α) / (|W cos α| + |H sin α|) + ½   (2 or 3 colours)
/// c ← lerp(c, blotch(x, y), a_b)     blotch: a g_w×g_h grid (3..11 cells) of random colours, bilinear
/// c ← lerp(c, g, a_g)                grain: one random grey g per 2×2 block
/// c ← lerp(c, c_p, a_p·[stripe])     optional (40%): stripes or checks of period p at angle θ
/// </code>
/// (all but the stripes evaluated once per 2×2 block),
/// then 15–60 small clutter marks (lines, dots, arcs, squares of 3–25 px) drawn with Skia.
/// (Skia's own shaders do the same 4–5× slower here.)
/// </summary>
internal static class ShapesBackground
{
    public static void Paint(SKBitmap bitmap, Random rng)
    {
        int w = bitmap.Width, h = bitmap.Height;
        float hue = rng.NextSingle() * 360f;
        var c0 = ShapesTextures.RandomColor(rng, 0f, 0.6f, 0.2f, 1f, hue);
        var c1 = ShapesTextures.RandomColor(rng, 0f, 0.6f, 0.2f, 1f, (hue + ShapeGeometry.Range(rng, -60, 60) + 360) % 360);
        var c2 = rng.Next(2) == 0 ? c1 : ShapesTextures.RandomColor(rng, 0f, 0.7f, 0.1f, 1f);
        float angle = rng.NextSingle() * 2 * MathF.PI, cos = MathF.Cos(angle), sin = MathF.Sin(angle);
        float extent = MathF.Abs(w * cos) + MathF.Abs(h * sin);

        var blotchBase = new[] { c0, c1, c2 }[rng.Next(3)];
        using var blotch = ShapesTextures.Mottle(rng, blotchBase, rng.Next(3, 12), rng.Next(3, 12), 90);
        float blotchAlpha = rng.Next(70, 200) / 255f;

        bool pattern = rng.Next(10) < 4;
        bool checks = rng.Next(3) == 0;
        float period = ShapeGeometry.Range(rng, 4f, 24f);
        float pAngle = rng.NextSingle() * MathF.PI, pc = MathF.Cos(pAngle), ps = MathF.Sin(pAngle);
        var patternColor = ShapesTextures.RandomColor(rng, 0f, 0.8f, 0.2f, 1f);
        float patternAlpha = pattern ? rng.Next(25, 90) / 255f : 0f;
        float grainAlpha = rng.Next(10, 50) / 255f;
        uint noiseState = (uint)rng.Next() | 1u;

        var px = bitmap.GetPixelSpan();
        var blotchPx = blotch.GetPixelSpan();
        int gw = blotch.Width, gh = blotch.Height, rowBytes = bitmap.RowBytes;
        // The smooth layers and the grain are computed once per 2×2 block (b_x, b_y), sampled at pixel
        // (2·b_x, 2·b_y); only the stripes are per pixel. Horizontal bilinear taps are the same for every row.
        int hw = (w + 1) / 2, hh = (h + 1) / 2;
        var bx0 = new int[hw];
        var bx1 = new int[hw];
        var fx = new float[hw];
        for (int i = 0; i < hw; i++)
        {
            float gx = Math.Clamp((2 * i + 0.5f) * gw / w - 0.5f, 0, gw - 1);
            bx0[i] = 3 * (int)gx;
            bx1[i] = 3 * Math.Min((int)gx + 1, gw - 1);
            fx[i] = gx - (int)gx;
        }
        var blotchRow = new float[3 * gw];
        var blockRow = new byte[3 * hw];
        float dt = 2 * cos / extent, du = pc / period;
        for (int by = 0; by < hh; by++)
        {
            int y = 2 * by;
            float gy = Math.Clamp((y + 0.5f) * gh / h - 0.5f, 0, gh - 1);
            int by0 = (int)gy, by1 = Math.Min(by0 + 1, gh - 1);
            float fy = gy - by0;
            for (int j = 0; j < 3 * gw; j++)
            {
                int cell = 4 * (j / 3) + j % 3;
                blotchRow[j] = blotchPx[4 * by0 * gw + cell] * (1 - fy) + blotchPx[4 * by1 * gw + cell] * fy;
            }
            float t = (-w / 2f * cos + (y - h / 2f) * sin) / extent + 0.5f;
            for (int i = 0; i < hw; i++, t += dt)
            {
                var (r, g, b) = Gradient(Math.Clamp(t, 0f, 1f), c0, c1, c2);
                int i0 = bx0[i], i1 = bx1[i];
                float f = fx[i];
                r += (blotchRow[i0] + (blotchRow[i1] - blotchRow[i0]) * f - r) * blotchAlpha;
                g += (blotchRow[i0 + 1] + (blotchRow[i1 + 1] - blotchRow[i0 + 1]) * f - g) * blotchAlpha;
                b += (blotchRow[i0 + 2] + (blotchRow[i1 + 2] - blotchRow[i0 + 2]) * f - b) * blotchAlpha;
                float n = XorShift(ref noiseState) >> 24;
                blockRow[3 * i] = (byte)(r + (n - r) * grainAlpha + 0.5f);
                blockRow[3 * i + 1] = (byte)(g + (n - g) * grainAlpha + 0.5f);
                blockRow[3 * i + 2] = (byte)(b + (n - b) * grainAlpha + 0.5f);
            }
            for (int yy = y; yy < Math.Min(y + 2, h); yy++)
            {
                var row = px.Slice(yy * rowBytes, 4 * w);
                float u = yy * ps / period, v = yy * pc / period;
                for (int x = 0; x < w; x++, u += du)
                {
                    int k = 3 * (x >> 1);
                    byte r = blockRow[k], g = blockRow[k + 1], b = blockRow[k + 2];
                    if (pattern && Stripe(u, v - x * ps / period, checks))
                    {
                        r = (byte)(r + (patternColor.Red - r) * patternAlpha + 0.5f);
                        g = (byte)(g + (patternColor.Green - g) * patternAlpha + 0.5f);
                        b = (byte)(b + (patternColor.Blue - b) * patternAlpha + 0.5f);
                    }
                    row[4 * x] = r;
                    row[4 * x + 1] = g;
                    row[4 * x + 2] = b;
                    row[4 * x + 3] = 255;
                }
            }
        }
        using var canvas = new SKCanvas(bitmap);
        Clutter(canvas, w, h, rng, rng.Next(15, 61));
    }

    private static (float R, float G, float B) Gradient(float t, SKColor c0, SKColor c1, SKColor c2)
    {
        // Three stops at 0, ½, 1 (c2 = c1 makes it a two-colour ramp from c0 to c1 over [0, ½]).
        SKColor a = t < 0.5f ? c0 : c1, b = t < 0.5f ? c1 : c2;
        float u = t < 0.5f ? 2 * t : 2 * t - 1;
        return (a.Red + (b.Red - a.Red) * u, a.Green + (b.Green - a.Green) * u, a.Blue + (b.Blue - a.Blue) * u);
    }

    /// <summary>Stripe parity of u = (x cos θ + y sin θ)/p; checks: XOR with the parity of v = (y cos θ − x sin θ)/p.</summary>
    private static bool Stripe(float u, float v, bool checks)
    {
        bool s = ((int)MathF.Floor(u) & 1) == 0;
        return checks ? s ^ (((int)MathF.Floor(v) & 1) == 0) : s;
    }

    private static uint XorShift(ref uint s)
    {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        return s;
    }

    /// <summary>Small marks: thin lines, dots, short arcs and tiny squares, 3–25 px.</summary>
    private static void Clutter(SKCanvas canvas, int w, int h, Random rng, int count)
    {
        using var paint = new SKPaint { IsAntialias = true };
        for (int i = 0; i < count; i++)
        {
            paint.Color = ShapesTextures.RandomColor(rng, 0f, 1f, 0f, 1f).WithAlpha((byte)rng.Next(80, 256));
            float x = rng.NextSingle() * w, y = rng.NextSingle() * h, s = ShapeGeometry.Range(rng, 3f, 25f);
            float a = rng.NextSingle() * 2 * MathF.PI;
            switch (rng.Next(4))
            {
                case 0:
                    paint.Style = SKPaintStyle.Stroke;
                    paint.StrokeWidth = ShapeGeometry.Range(rng, 0.7f, 2.5f);
                    canvas.DrawLine(x, y, x + s * MathF.Cos(a), y + s * MathF.Sin(a), paint);
                    break;
                case 1:
                    paint.Style = SKPaintStyle.Fill;
                    canvas.DrawCircle(x, y, s / 5, paint);
                    break;
                case 2:
                    paint.Style = SKPaintStyle.Stroke;
                    paint.StrokeWidth = ShapeGeometry.Range(rng, 0.7f, 2f);
                    canvas.DrawArc(new SKRect(x - s / 2, y - s / 2, x + s / 2, y + s / 2), a * 57.3f, ShapeGeometry.Range(rng, 30, 160), false, paint);
                    break;
                default:
                    paint.Style = SKPaintStyle.Fill;
                    canvas.DrawRect(x, y, s / 4, s / 4, paint);
                    break;
            }
        }
    }
}
