using FastRcnn.Imaging;
using FastRcnn.Proposals;
using ScottPlot;

namespace FastRcnn.Cli;

/// <summary>
/// The recall-versus-proposals figure of <c>proposals eval</c> (ScottPlot): for each proposal set, recall at
/// IoU 0.5 (solid), 0.7 (dashed) and average recall (dotted) against the mean number of boxes per image
/// actually kept (log scale).
/// </summary>
internal static class RecallPlot
{
    private static readonly Lock s_fontGate = new();
    private static string? s_font;

    /// <summary>Writes the PNG to <paramref name="path"/> (a temporary file, then a rename).</summary>
    public static void Write(string path, string title, IReadOnlyList<(string Label, ProposalRecallReport Report)> reports)
    {
        var plot = new Plot();
        if (Font() is { } font) plot.Font.Set(font);
        var palette = new ScottPlot.Palettes.Category10();
        double minX = double.MaxValue, maxX = 1;
        for (int s = 0; s < reports.Count; s++)
        {
            var (label, report) = reports[s];
            var points = report.Points.Where(p => p.MeanProposals > 0).ToArray();
            if (points.Length == 0) continue;
            double[] xs = points.Select(p => Math.Log10(p.MeanProposals)).ToArray();
            minX = Math.Min(minX, xs.Min());
            maxX = Math.Max(maxX, xs.Max());
            var color = palette.GetColor(s);
            foreach (var (name, pattern, values) in new (string, LinePattern, double[])[]
                     {
                         ("recall@0.5", LinePattern.Solid, points.Select(p => p.Recall50).ToArray()),
                         ("recall@0.7", LinePattern.Dashed, points.Select(p => p.Recall70).ToArray()),
                         ("AR 0.5:0.95", LinePattern.Dotted, points.Select(p => p.AverageRecall).ToArray()),
                     })
            {
                var line = plot.Add.Scatter(xs, values);
                line.Color = color;
                line.LinePattern = pattern;
                line.LineWidth = 2;
                line.MarkerSize = 5;
                line.LegendText = $"{label}: {name}";
            }
        }
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        foreach (int n in new[] { 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000 })
        {
            double x = Math.Log10(n);
            if (x >= Math.Floor(Math.Min(minX, maxX)) - 1e-9 && x <= Math.Ceiling(maxX) + 1e-9) ticks.AddMajor(x, n.ToString());
        }
        plot.Axes.Bottom.TickGenerator = ticks;
        plot.Axes.SetLimitsY(0, 1.02);
        plot.Axes.Bottom.Label.Text = "proposals per image (best-ranked kept; log scale)";
        plot.Axes.Left.Label.Text = "recall";
        plot.Title(title);
        plot.ShowLegend(Alignment.LowerRight);
        FastRcnn.IO.AtomicFile.WriteAllBytes(path, plot.GetImageBytes(960, 600, ImageFormat.Png));
    }

    /// <summary>
    /// Registers a font file with ScottPlot once: SkiaSharp's self-contained Linux build has no fontconfig,
    /// so without a file no text is drawn (<see cref="FontLocator"/> finds one). Null when none is found.
    /// </summary>
    private static string? Font()
    {
        lock (s_fontGate)
        {
            if (s_font is not null) return s_font.Length == 0 ? null : s_font;
            var (typeface, source) = FontLocator.Load();
            typeface?.Dispose();
            s_font = "";
            if (source is not null && File.Exists(source))
            {
                const string name = "FastRcnn Plot Font";
                Fonts.AddFontFile(name, source);
                s_font = name;
            }
            return s_font.Length == 0 ? null : s_font;
        }
    }
}
