using System.Globalization;
using FastRcnn.IO;
using SkiaSharp;

namespace FastRcnn.Imaging;

/// <summary>One named curve of a <see cref="LineChart"/>.</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y);

/// <summary>
/// A small PNG line chart (curves over fixed axis ranges, a grid, axis labels and a legend) for
/// reports: precision–recall curves, recall against proposal count, loss curves. Drawn with
/// SkiaSharp and the font <see cref="Drawing"/> uses; without a font the lines are still drawn.
/// </summary>
public sealed record LineChart(string Title, string XLabel, string YLabel, double XMin = 0, double XMax = 1, double YMin = 0, double YMax = 1,
    bool LogX = false, int Width = 640, int Height = 480)
{
    private const float Left = 64, Right = 16, Top = 36, Bottom = 52;

    /// <summary>Renders <paramref name="series"/> (class colours from <see cref="Palette"/>, in order) to a PNG, atomically.</summary>
    public void WritePng(string path, IReadOnlyList<ChartSeries> series)
    {
        AtomicFile.WriteAllBytes(path, EncodePng(series));
    }

    /// <summary>Renders <paramref name="series"/> (class colours from <see cref="Palette"/>, in order): the PNG file's bytes.</summary>
    public byte[] EncodePng(IReadOnlyList<ChartSeries> series)
    {
        using var surface = SKSurface.Create(new SKImageInfo(Width, Height));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        var typeface = Drawing.Font.Value.Typeface;
        using var font = new SKFont(typeface ?? SKTypeface.Default, 13);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        using var grid = new SKPaint { Color = new SKColor(225, 225, 225), StrokeWidth = 1 };
        float plotW = Width - Left - Right, plotH = Height - Top - Bottom;
        float Px(double x) => Left + (float)((Tx(x) - Tx(XMin)) / (Tx(XMax) - Tx(XMin))) * plotW;
        float Py(double y) => Top + plotH - (float)((y - YMin) / (YMax - YMin)) * plotH;

        for (int i = 0; i <= 10; i++)
        {
            double fx = XMin + (XMax - XMin) * i / 10, fy = YMin + (YMax - YMin) * i / 10;
            if (LogX) fx = Math.Pow(10, Tx(XMin) + (Tx(XMax) - Tx(XMin)) * i / 10);
            canvas.DrawLine(Px(fx), Top, Px(fx), Top + plotH, grid);
            canvas.DrawLine(Left, Py(fy), Left + plotW, Py(fy), grid);
            if (i % 2 == 0 && typeface is not null)
            {
                canvas.DrawText(Label(fx), Px(fx), Top + plotH + 16, SKTextAlign.Center, font, ink);
                canvas.DrawText(Label(fy), Left - 6, Py(fy) + 4, SKTextAlign.Right, font, ink);
            }
        }
        using (var frame = new SKPaint { Color = SKColors.Black, Style = SKPaintStyle.Stroke, StrokeWidth = 1 })
            canvas.DrawRect(Left, Top, plotW, plotH, frame);
        if (typeface is not null)
        {
            canvas.DrawText(Title, Width / 2f, 22, SKTextAlign.Center, font, ink);
            canvas.DrawText(XLabel, Left + plotW / 2, Height - 12, SKTextAlign.Center, font, ink);
            canvas.Save();
            canvas.RotateDegrees(-90, 16, Top + plotH / 2);
            canvas.DrawText(YLabel, 16, Top + plotH / 2, SKTextAlign.Center, font, ink);
            canvas.Restore();
        }
        for (int s = 0; s < series.Count; s++)
        {
            var colour = Palette.ForClass(s + 1);
            using var pen = new SKPaint { Color = new SKColor(colour.R, colour.G, colour.B), StrokeWidth = 2, IsAntialias = true, Style = SKPaintStyle.Stroke };
            var builder = new SKPathBuilder();
            for (int i = 0; i < series[s].X.Count; i++)
            {
                var point = new SKPoint(Px(series[s].X[i]), Py(series[s].Y[i]));
                if (i == 0) builder.MoveTo(point); else builder.LineTo(point);
            }
            using var curve = builder.Detach();
            canvas.DrawPath(curve, pen);
            if (typeface is not null)
            {
                float y = Top + 16 + 16 * s;
                canvas.DrawLine(Left + plotW - 150, y - 4, Left + plotW - 130, y - 4, pen);
                canvas.DrawText(series[s].Name, Left + plotW - 124, y, SKTextAlign.Left, font, ink);
            }
        }
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    private double Tx(double x) => LogX ? Math.Log10(Math.Max(x, 1e-12)) : x;

    private static string Label(double v) => Math.Abs(v) >= 100 ? v.ToString("F0", CultureInfo.InvariantCulture) : v.ToString("0.##", CultureInfo.InvariantCulture);
}
