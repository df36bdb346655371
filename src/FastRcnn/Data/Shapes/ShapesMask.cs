using SkiaSharp;

namespace FastRcnn.Data;

/// <summary>Per-item coverage masks for the Shapes visibility computation.</summary>
internal static class ShapesMask
{
    /// <summary>
    /// Rasterises <paramref name="path"/> with <paramref name="paint"/> into an 8-bit mask over its full
    /// (unclipped) extent, writes <paramref name="itemIndex"/> into <paramref name="owner"/> (W×H, row-major)
    /// at every covered in-image pixel (coverage ≥ 128 of 255), and returns the number of covered pixels
    /// including those beyond the image border.
    /// </summary>
    public static int Stamp(SKPath path, SKPaint paint, int[] owner, int width, int height, int itemIndex)
    {
        var b = path.Bounds; // control-point bounds: a superset of the geometry
        float pad = paint.Style == SKPaintStyle.Fill ? 1f : paint.StrokeWidth / 2 + 1f;
        b.Inflate(pad, pad);
        var r = new SKRectI((int)MathF.Floor(b.Left), (int)MathF.Floor(b.Top), (int)MathF.Ceiling(b.Right), (int)MathF.Ceiling(b.Bottom));
        int mw = r.Width, mh = r.Height;
        if (mw <= 0 || mh <= 0) { return 0; }

        using var mask = new SKBitmap(new SKImageInfo(mw, mh, SKColorType.Alpha8, SKAlphaType.Premul));
        mask.Erase(SKColors.Transparent);
        using (var canvas = new SKCanvas(mask))
        {
            canvas.Translate(-r.Left, -r.Top);
            canvas.DrawPath(path, paint);
        }
        var px = mask.GetPixelSpan();
        int rowBytes = mask.RowBytes, covered = 0;
        for (int y = 0; y < mh; y++)
        {
            int iy = r.Top + y;
            bool rowInside = iy >= 0 && iy < height;
            var row = px.Slice(y * rowBytes, mw);
            for (int x = 0; x < mw; x++)
            {
                if (row[x] < 128) { continue; }
                covered++;
                int ix = r.Left + x;
                if (rowInside && ix >= 0 && ix < width) { owner[iy * width + ix] = itemIndex; }
            }
        }
        return covered;
    }
}
