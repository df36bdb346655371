using SkiaSharp;

namespace FastRcnn.Data;

/// <summary>
/// Renders one Shapes image: background, distractors under the objects, 0–8 objects and 0–2
/// occluding distractors in random z-order, then annotates each object from per-object masks.
/// </summary>
/// <remarks>
/// Visibility: every drawn item's coverage mask (anti-aliased alpha ≥ 128) over its full, unclipped
/// extent is rasterised; an ownership map of the W×H image records which item is on top at each pixel.
/// For object i, v_i = (pixels owned by i) / (pixels of i's full mask, including any part beyond
/// the border). Objects with v_i &lt; <see cref="DropBelow"/> are not annotated (nothing left to see);
/// objects with v_i &lt; <see cref="DifficultBelow"/> or with a clipped box of √(w·h) &lt; <see cref="TinyBelow"/> px are
/// marked difficult. The box is the full shape geometry's tight bounds (occluded parts included),
/// rounded outwards to whole pixels and clipped to the image.
/// </remarks>
internal static class ShapesScene
{
    public const float DropBelow = 0.1f;
    public const float DifficultBelow = 0.4f;
    public const float TinyBelow = 16f;

    private sealed record Item(SKPath Path, SKPaint MaskPaint, ShapeFill Fill, SKPaint? Outline, int ObjectIndex, ShapeClass Class);

    /// <summary>Renders the image for <paramref name="seed"/>; returns its annotation and encoded bytes.</summary>
    public static (ImageRecord Record, byte[] Encoded) Render(int seed, string id, string imagePath, ShapesOptions o)
    {
        var rng = new Random(seed);
        int w = rng.Next(o.MinImageSize, o.MaxImageSize + 1), h = rng.Next(o.MinImageSize, o.MaxImageSize + 1);
        using var bitmap = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Premul));
        ShapesBackground.Paint(bitmap, rng);
        using (var canvas = new SKCanvas(bitmap))
        {
            int under = rng.Next(1, 6);
            for (int i = 0; i < under; i++)
            {
                var d = Distractor(rng, w, h, 0.5f);
                Draw(canvas, d);
                Dispose(d);
            }
        }

        var items = new List<Item>();
        int numObjects = rng.NextDouble() < 0.03 ? 0 : rng.Next(1, 9);
        var placed = new List<SKRect>();
        for (int i = 0; i < numObjects; i++)
        {
            var item = PlaceObject(rng, w, h, items.Count(t => t.ObjectIndex >= 0), placed);
            if (item is not null) { items.Add(item); placed.Add(item.Path.TightBounds); }
        }
        int over = items.Count == 0 ? 0 : rng.Next(0, 3);
        for (int i = 0; i < over; i++)
        {
            items.Insert(rng.Next(1, items.Count + 1), Distractor(rng, w, h, 0.3f));
        }

        var owner = new int[w * h];
        Array.Fill(owner, -1);
        int objectCount = items.Count(t => t.ObjectIndex >= 0);
        var fullPixels = new int[objectCount];
        using (var canvas = new SKCanvas(bitmap))
        {
            foreach (var item in items)
            {
                Draw(canvas, item);
                int full = ShapesMask.Stamp(item.Path, item.MaskPaint, owner, w, h, item.ObjectIndex);
                if (item.ObjectIndex >= 0) { fullPixels[item.ObjectIndex] = full; }
            }
        }
        var visiblePixels = new int[objectCount];
        foreach (int k in owner) { if (k >= 0) { visiblePixels[k]++; } }

        var objects = new List<ObjectAnnotation>();
        foreach (var item in items.Where(t => t.ObjectIndex >= 0))
        {
            float visible = fullPixels[item.ObjectIndex] == 0 ? 0f : (float)visiblePixels[item.ObjectIndex] / fullPixels[item.ObjectIndex];
            if (visible < DropBelow) { continue; }
            var b = item.Path.TightBounds;
            if (item.Outline is not null) { b.Inflate(item.Outline.StrokeWidth / 2, item.Outline.StrokeWidth / 2); }
            var full = new BoundingBox(MathF.Floor(b.Left), MathF.Floor(b.Top), MathF.Ceiling(b.Right), MathF.Ceiling(b.Bottom));
            var box = full.ClipTo(w, h);
            if (!box.IsValid) { continue; }
            bool difficult = visible < DifficultBelow || MathF.Sqrt(box.Area) < TinyBelow;
            objects.Add(new ObjectAnnotation(box, (int)item.Class, difficult, Truncated: full.IsOutside(w, h)));
        }
        foreach (var item in items) { Dispose(item); }

        var encoded = Encode(bitmap, rng, o.JpegQuality);
        return (new ImageRecord(id, imagePath, w, h, objects.AsReadOnly()), encoded);
    }

    private static Item? PlaceObject(Random rng, int w, int h, int index, List<SKRect> placed)
    {
        var cls = (ShapeClass)(1 + rng.Next(ShapeGeometry.NumClasses));
        using var unit = ShapeGeometry.ObjectPath(cls, rng);
        float maxSize = 0.5f * Math.Min(w, h);
        // Size d (the unit shape's extent 2 maps to d) log-uniform in [12, min(W, H)/2].
        float d = MathF.Exp(ShapeGeometry.Range(rng, MathF.Log(12f), MathF.Log(maxSize)));
        float maxAspect = cls is ShapeClass.Ellipse or ShapeClass.Rectangle ? 2.4f : 1.5f;
        float aspect = MathF.Exp(ShapeGeometry.Range(rng, -MathF.Log(maxAspect), MathF.Log(maxAspect)));
        float rotation = rng.NextSingle() * 360f;
        for (int attempt = 0; attempt < 12; attempt++)
        {
            float cx = rng.NextSingle() * w, cy = rng.NextSingle() * h;
            var path = Transformed(unit, d / 2, aspect, rotation, cx, cy);
            var bounds = path.TightBounds;
            if (placed.Any(p => IoU(p, bounds) > 0.5f)) { path.Dispose(); continue; }
            var color = ShapesTextures.RandomColor(rng, 0.3f, 1f, 0.25f, 1f);
            var fill = ShapesTextures.Fill(rng, bounds, color);
            SKPaint? outline = null;
            if (rng.Next(10) < 3)
            {
                outline = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = ShapeGeometry.Range(rng, 1f, 3f),
                    Color = ShapesTextures.Related(color, rng, 30f) };
            }
            return new Item(path, MaskPaint(outline?.StrokeWidth ?? 0, strokeOnly: false), fill, outline, index, cls);
        }
        return null;
    }

    /// <summary>A non-class shape; <paramref name="maxFraction"/> of min(W, H) bounds its size.</summary>
    private static Item Distractor(Random rng, int w, int h, float maxFraction)
    {
        var (unit, relStroke) = ShapeGeometry.DistractorPath(rng);
        // Filled distractors start at 28 px so that small ones are not taken for circles or stars.
        float d = MathF.Exp(ShapeGeometry.Range(rng, MathF.Log(relStroke > 0 ? 16f : 28f), MathF.Log(maxFraction * Math.Min(w, h))));
        float aspect = MathF.Exp(ShapeGeometry.Range(rng, -0.5f, 0.5f));
        var path = Transformed(unit, d / 2, aspect, rng.NextSingle() * 360f, rng.NextSingle() * w, rng.NextSingle() * h);
        unit.Dispose();
        var fill = ShapesTextures.Fill(rng, path.TightBounds, ShapesTextures.RandomColor(rng, 0.2f, 1f, 0.2f, 1f));
        float stroke = relStroke * d / 2;
        if (relStroke > 0)
        {
            fill.Paint.Style = SKPaintStyle.Stroke;
            fill.Paint.StrokeWidth = MathF.Max(1.5f, stroke);
            fill.Paint.StrokeCap = SKStrokeCap.Butt; // square ends: a short thick stroke must not pass for an ellipse
        }
        return new Item(path, MaskPaint(relStroke > 0 ? fill.Paint.StrokeWidth : 0, strokeOnly: relStroke > 0), fill, null, -1, 0);
    }

    private static SKPaint MaskPaint(float stroke, bool strokeOnly) => new()
    {
        IsAntialias = true,
        Color = SKColors.White,
        Style = strokeOnly ? SKPaintStyle.Stroke : stroke > 0 ? SKPaintStyle.StrokeAndFill : SKPaintStyle.Fill,
        StrokeWidth = stroke,
        StrokeCap = SKStrokeCap.Butt,
    };

    /// <summary>p' = T(cx, cy) · R(θ) · S(r·√a, r/√a) · p.</summary>
    private static SKPath Transformed(SKPath unit, float r, float aspect, float degrees, float cx, float cy)
    {
        float sa = MathF.Sqrt(aspect);
        var m = SKMatrix.CreateScale(r * sa, r / sa);
        m = SKMatrix.Concat(SKMatrix.CreateRotationDegrees(degrees), m);
        m = SKMatrix.Concat(SKMatrix.CreateTranslation(cx, cy), m);
        var path = new SKPath(unit);
        path.Transform(m);
        return path;
    }

    private static void Draw(SKCanvas canvas, Item item)
    {
        canvas.DrawPath(item.Path, item.Fill.Paint);
        if (item.Outline is not null) { canvas.DrawPath(item.Path, item.Outline); }
    }

    private static float IoU(SKRect a, SKRect b)
    {
        var i = SKRect.Intersect(a, b);
        float inter = i.IsEmpty ? 0 : i.Width * i.Height;
        return inter / (a.Width * a.Height + b.Width * b.Height - inter);
    }

    private static byte[] Encode(SKBitmap bitmap, Random rng, int quality)
    {
        float sigma = rng.Next(5) == 0 ? ShapeGeometry.Range(rng, 0.4f, 1.0f) : 0f;
        if (sigma > 0)
        {
            using var blurred = new SKBitmap(bitmap.Info);
            using (var canvas = new SKCanvas(blurred))
            using (var filter = SKImageFilter.CreateBlur(sigma, sigma, SKShaderTileMode.Clamp))
            using (var paint = new SKPaint { ImageFilter = filter })
            {
                canvas.DrawBitmap(bitmap, 0, 0, new SKSamplingOptions(SKFilterMode.Nearest), paint);
            }
            return EncodeJpeg(blurred, quality);
        }
        return EncodeJpeg(bitmap, quality);
    }

    private static byte[] EncodeJpeg(SKBitmap bitmap, int quality)
    {
        using var pixmap = bitmap.PeekPixels() ?? throw new InvalidOperationException("bitmap has no pixels");
        using var data = pixmap.Encode(new SKJpegEncoderOptions(quality, SKJpegEncoderDownsample.Downsample420, SKJpegEncoderAlphaOption.Ignore))
            ?? throw new InvalidOperationException("JPEG encoding failed");
        return data.ToArray();
    }

    private static void Dispose(Item item)
    {
        item.Path.Dispose();
        item.MaskPaint.Dispose();
        item.Fill.Dispose();
        item.Outline?.Dispose();
    }
}
