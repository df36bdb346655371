using System.Globalization;
using System.Runtime.InteropServices;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Imaging;

/// <summary>A box to draw: <c>(x1, y1, x2, y2)</c> pixels (SPEC §2), its class, and an optional label text and score.</summary>
public readonly record struct LabeledBox(float X1, float Y1, float X2, float Y2, int ClassId, string? Label = null, float? Score = null);

/// <summary>How boxes and labels are drawn.</summary>
public sealed record DrawOptions
{
    /// <summary>Box outline width in pixels (the stroke is centred on the box edges).</summary>
    public float LineWidth { get; init; } = 2;

    /// <summary>Label font size in pixels.</summary>
    public float FontSize { get; init; } = 12;

    /// <summary>Draw the label tag (class name and score) at each box.</summary>
    public bool ShowLabels { get; init; } = true;

    /// <summary>Decimals of the score in labels ("dog 0.93" with 2).</summary>
    public int ScoreDecimals { get; init; } = 2;
}

/// <summary>
/// Draws detections onto images: box outlines in the class colour (<see cref="Palette"/>) and,
/// above each box's top-left corner (inside the box when there is no room above), a filled tag in
/// the same colour with the label text ("dog 0.93") in black or white, whichever contrasts.
/// Every call draws on a copy; the input image is left unchanged.
/// </summary>
/// <remarks>
/// Text needs a font file (see <see cref="FontAvailable"/>). Without one, the tags are still
/// drawn, empty, and nothing is logged.
/// </remarks>
public static class Drawing
{
    private const float TagPadding = 2;
    internal static readonly Lazy<(SKTypeface? Typeface, string? Source)> Font = new(FontLocator.Load);

    /// <summary>True when a font was found, so labels get text.</summary>
    public static bool FontAvailable => Font.Value.Typeface is not null;

    /// <summary>The font in use: a file path, <c>system:&lt;family&gt;</c>, or null when none.</summary>
    public static string? FontSource => Font.Value.Source;

    /// <summary>Font files searched, in order (after the file named by <c>FASTRCNN_FONT</c>).</summary>
    public static IReadOnlyList<string> FontSearchPaths => FontLocator.Candidates;

    /// <summary>The label text: "name score" with <paramref name="decimals"/> decimals ("dog 0.93"), or just the name.</summary>
    public static string FormatLabel(string name, float? score, int decimals = 2) =>
        score is float s ? name + " " + s.ToString("F" + decimals, CultureInfo.InvariantCulture) : name;

    /// <summary>
    /// A copy of <paramref name="image"/> with <paramref name="boxes"/> drawn (all outlines first,
    /// then all tags). A box without <see cref="LabeledBox.Label"/> is labelled with its class id.
    /// </summary>
    public static RgbImage DrawBoxes(RgbImage image, IEnumerable<LabeledBox> boxes, DrawOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(boxes);
        var opt = options ?? new DrawOptions();
        var list = boxes.ToList();
        var rgba = SkiaPixels.ToRgba(image);
        var info = new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        var handle = GCHandle.Alloc(rgba, GCHandleType.Pinned);
        try
        {
            using var surface = SKSurface.Create(info, handle.AddrOfPinnedObject(), info.RowBytes)
                ?? throw new InvalidOperationException($"SkiaSharp could not create a {image.Width}x{image.Height} drawing surface.");
            var canvas = surface.Canvas;
            using var stroke = new SKPaint { Style = SKPaintStyle.Stroke, StrokeWidth = opt.LineWidth, IsAntialias = false };
            foreach (var b in list)
            {
                stroke.Color = ToSk(Palette.ForClass(b.ClassId));
                canvas.DrawRect(new SKRect(b.X1, b.Y1, b.X2, b.Y2), stroke);
            }
            if (opt.ShowLabels)
                foreach (var b in list)
                    DrawTag(canvas, b, opt, image.Width, image.Height);
            canvas.Flush();
        }
        finally { handle.Free(); }
        return SkiaPixels.FromRgba(rgba, image.Width, image.Height);
    }

    /// <summary>
    /// Draws detections given as tensors: <paramref name="boxes"/> (R,4), <paramref name="classIds"/>
    /// (R, integer, 1..K), optional <paramref name="scores"/> (R). Labels are
    /// <c>classNames[classId]</c> (index 0 = background) when given and in range, else the id.
    /// </summary>
    public static RgbImage DrawDetections(RgbImage image, Tensor boxes, Tensor classIds, Tensor? scores = null,
        IReadOnlyList<string>? classNames = null, DrawOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(boxes);
        ArgumentNullException.ThrowIfNull(classIds);
        if (boxes.dim() != 2 || boxes.shape[1] != 4)
            throw new ArgumentException($"boxes must have shape (R,4), got ({string.Join(",", boxes.shape)}).", nameof(boxes));
        long r = boxes.shape[0];
        if (classIds.dim() != 1 || classIds.shape[0] != r)
            throw new ArgumentException($"classIds must have shape ({r}), got ({string.Join(",", classIds.shape)}).", nameof(classIds));
        if (scores is not null && (scores.dim() != 1 || scores.shape[0] != r))
            throw new ArgumentException($"scores must have shape ({r}), got ({string.Join(",", scores.shape)}).", nameof(scores));
        float[] b;
        long[] c;
        float[]? s = null;
        using (NewDisposeScope())
        {
            b = boxes.to(CPU).to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
            c = classIds.to(CPU).to_type(ScalarType.Int64).contiguous().data<long>().ToArray();
            if (scores is not null)
                s = scores.to(CPU).to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
        }
        var list = new List<LabeledBox>((int)r);
        for (int i = 0; i < r; i++)
        {
            int cls = checked((int)c[i]);
            string? name = classNames is not null && cls >= 0 && cls < classNames.Count ? classNames[cls] : null;
            list.Add(new LabeledBox(b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3], cls, name, s?[i]));
        }
        return DrawBoxes(image, list, options);
    }

    /// <summary>Where the tag of box <paramref name="b"/> goes: integer pixel rect (left, top, right, bottom) and text baseline.</summary>
    internal static (SKRectI Tag, float TextX, float Baseline, string Text) LayoutTag(LabeledBox b, DrawOptions opt,
        int imageWidth, int imageHeight, SKFont? font)
    {
        string text = FormatLabel(b.Label ?? b.ClassId.ToString(CultureInfo.InvariantCulture), b.Score, opt.ScoreDecimals);
        float textW, ascent, descent;
        if (font is not null)
        {
            textW = font.MeasureText(text);
            ascent = font.Metrics.Ascent;     // negative: above the baseline
            descent = font.Metrics.Descent;
        }
        else
        {
            textW = 0.6f * opt.FontSize * text.Length;
            ascent = -0.9f * opt.FontSize;
            descent = 0.25f * opt.FontSize;
        }
        int w = (int)MathF.Ceiling(textW + 2 * TagPadding), h = (int)MathF.Ceiling(descent - ascent + 2 * TagPadding);
        float half = opt.LineWidth / 2;
        int left = (int)MathF.Floor(b.X1 - half);
        left = Math.Max(0, Math.Min(left, imageWidth - w));
        int top = (int)MathF.Floor(b.Y1 - half) - h;
        if (top < 0)
            top = Math.Max(0, Math.Min((int)MathF.Ceiling(b.Y1 + half), imageHeight - h));
        var tag = new SKRectI(left, top, left + w, top + h);
        return (tag, left + TagPadding, top + TagPadding - ascent, text);
    }

    private static void DrawTag(SKCanvas canvas, LabeledBox b, DrawOptions opt, int width, int height)
    {
        var typeface = Font.Value.Typeface;
        using var font = typeface is null ? null : new SKFont(typeface, opt.FontSize) { Edging = SKFontEdging.Antialias };
        var (tag, x, baseline, text) = LayoutTag(b, opt, width, height, font);
        var color = Palette.ForClass(b.ClassId);
        using var fill = new SKPaint { Style = SKPaintStyle.Fill, Color = ToSk(color), IsAntialias = false };
        canvas.DrawRect(tag, fill);
        if (font is null)
            return;
        using var ink = new SKPaint { Color = ToSk(TextColor(color)), IsAntialias = true };
        canvas.DrawText(text, x, baseline, SKTextAlign.Left, font, ink);
    }

    /// <summary>Black text on light tags, white on dark ones.</summary>
    internal static Rgb TextColor(Rgb background) => background.Luma > 150 ? Rgb.Black : Rgb.White;

    private static SKColor ToSk(Rgb c) => new(c.R, c.G, c.B);
}
