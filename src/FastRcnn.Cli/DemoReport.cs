using System.Globalization;
using System.Net;
using System.Text;
using FastRcnn.Compression;
using FastRcnn.Data;
using FastRcnn.Imaging;
using FastRcnn.Inference;
using FastRcnn.Training;
using static TorchSharp.torch;

namespace FastRcnn.Cli;

/// <summary>One step of the demo: its name, wall time and outcome line.</summary>
public sealed record DemoStep(string Name, double Seconds, string Outcome);

/// <summary>One model evaluated on the test split: metrics, per-stage detection times summed over the images, and where its files are.</summary>
internal sealed record DemoEvaluation(string ModelDirectory, string OutputDirectory, EvaluationSummary Summary, StageTimes Times, int Images)
{
    public double MillisecondsPerImage(TimeSpan t) => t.TotalMilliseconds / Math.Max(1, Images);
}

/// <summary>A test image with its detections drawn (PNG bytes).</summary>
internal sealed record DemoSample(string ImageId, byte[] Png, int Objects, int Detections);

/// <summary>
/// The demo's self-contained HTML report: every figure is an inline PNG, so the one file can be mailed or
/// archived. Sections: summary, steps, per-class AP, precision–recall curves, loss curve, sample detections,
/// time per stage (the paper's Figure 2 split), and truncated SVD before/after.
/// </summary>
internal sealed class DemoReport
{
    public required DemoSettings Settings { get; init; }
    public required int Seed { get; init; }

    /// <summary>The evaluated dataset's class names, background at index 0.</summary>
    public required IReadOnlyList<string> ClassNames { get; init; }
    public List<DemoStep> Steps { get; } = [];
    public IReadOnlyList<TrainingStep> Losses { get; set; } = [];
    public DemoEvaluation? Dense { get; set; }
    public DemoEvaluation? Compressed { get; set; }
    public CompressionReport? Compression { get; set; }
    public IReadOnlyList<DemoSample> Samples { get; set; } = [];
    public double TotalSeconds { get; set; }

    /// <summary>Where training started: the pre-trained weights' name, or null for random weights.</summary>
    public string? StartWeights { get; set; }

    /// <summary>The training run's options (for the augmentation and RoI sampling it used).</summary>
    public TrainingOptions? Training { get; set; }

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Detects objects in <paramref name="image"/> and draws those scoring ≥ 0.5.</summary>
    public static DemoSample Sample(Detector detector, ImageRecord image, Tensor? proposals)
    {
        var rgb = ImageIO.Read(image.ImagePath);
        var result = detector.Detect(rgb, proposals);
        var shown = result.Objects.Where(o => o.Score >= 0.5).ToList();
        var drawn = Drawing.DrawBoxes(rgb, shown.Select(o => new LabeledBox(o.Box.X1, o.Box.Y1, o.Box.X2, o.Box.Y2, o.ClassIndex, o.ClassName, o.Score)));
        using var png = new MemoryStream();
        ImageIO.EncodePng(drawn, png);
        return new DemoSample(image.Id, png.ToArray(), image.Objects.Count, shown.Count);
    }

    /// <summary>Writes the report to <paramref name="path"/> (a temporary file, then renamed).</summary>
    public void Write(string path)
    {
        var dense = Dense ?? throw new InvalidOperationException("the dense model has not been evaluated");
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>FastRcnn demo</title><style>")
            .Append("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}")
            .Append("table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 9px;text-align:right}")
            .Append("td:first-child,th:first-child{text-align:left}th{background:#f3f3f3}img{max-width:100%}")
            .Append(".grid{display:flex;flex-wrap:wrap;gap:10px}.grid figure{margin:0;width:340px}figcaption{font-size:.85em;color:#555}")
            .Append("</style></head><body>\n");
        string architecture = Training?.Architecture == Modeling.DetectorArchitecture.FasterRcnn
            ? $"Faster R-CNN ({Training.Schedule.ToString().ToLowerInvariant()} training)" : "Fast R-CNN";
        html.Append($"<h1>{E(architecture)} on Shapes</h1>\n<p>")
            .Append(E($"FastRcnn demo, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} CPU cores; seed {Seed}; ")
                + E($"{Settings.TrainImages} training and {Settings.TestImages} test images; small backbone fine-tuned from {StartWeights ?? "random weights (from scratch)"} for {Settings.Iterations} iterations ")
                + E($"(N = 2 images, 64 RoIs each{TrainingDetails()}); tested at s ∈ {{{string.Join(", ", Settings.Detection.EffectiveScales)}}} (each RoI pooled at the scale where its side is nearest {Settings.Detection.CanonicalRoiSize:F0} px); ")
                + E($"total time {TotalSeconds / 60:F1} min."))
            .Append("</p>\n");

        Summary(html, dense);
        StepsTable(html);
        PerClass(html, dense);
        html.Append("<h2>Precision–recall</h2>\n<div class=\"grid\">");
        foreach (var png in Directory.EnumerateFiles(dense.OutputDirectory, "pr_*.png").Order(StringComparer.Ordinal))
            html.Append("<figure>").Append(Img(File.ReadAllBytes(png))).Append("<figcaption>").Append(E(Path.GetFileNameWithoutExtension(png)[3..])).Append("</figcaption></figure>");
        html.Append("</div>\n");
        LossCurve(html);
        html.Append("<h2>Sample test detections (score ≥ 0.5)</h2>\n<div class=\"grid\">");
        foreach (var s in Samples)
            html.Append("<figure>").Append(Img(s.Png)).Append("<figcaption>").Append(E($"{s.ImageId}: {s.Detections} detections, {s.Objects} objects annotated")).Append("</figcaption></figure>");
        html.Append("</div>\n");
        Timing(html, dense);
        Svd(html, dense);
        html.Append("</body></html>\n");

        FastRcnn.IO.AtomicFile.WriteAllText(path, html.ToString());
    }

    /// <summary>", background IoU [0, 0.5), any orientation, random channel order" — what differs from the paper's recipe.</summary>
    private string TrainingDetails()
    {
        if (Training is not { } t) return "";
        var parts = new List<string> { $"background IoU [{t.BackgroundIoULow.ToString(Inv)}, {t.BackgroundIoUHigh.ToString(Inv)})" };
        parts.Add(t.DescribeAugmentation());
        return ", " + string.Join(", ", parts);
    }

    private void Summary(StringBuilder html, DemoEvaluation dense)
    {
        html.Append("<h2>Results on the test split</h2>\n<table><tr><th>model</th><th>VOC07 mAP (11-point)</th><th>VOC10+ mAP (area)</th>")
            .Append("<th>COCO AP@[.5:.95]</th><th>AP50</th><th>AP75</th><th>AR@100</th><th>ms / image</th></tr>\n");
        foreach (var (name, e) in Models(dense))
        {
            var s = e.Summary;
            html.Append(Row(name, F(s.Voc07.MeanAp), F(s.Voc10.MeanAp), F(s.Coco.Ap), F(s.Coco.Ap50), F(s.Coco.Ap75), F(s.Coco.Ar100),
                e.MillisecondsPerImage(e.Times.Total).ToString("F1", Inv)));
        }
        html.Append("</table>\n");
    }

    private void StepsTable(StringBuilder html)
    {
        html.Append("<h2>Steps</h2>\n<table><tr><th>step</th><th>seconds</th><th>outcome</th></tr>\n");
        foreach (var s in Steps) html.Append("<tr><td>").Append(E(s.Name)).Append("</td><td>").Append(s.Seconds.ToString("F1", Inv))
            .Append("</td><td style=\"text-align:left\">").Append(E(s.Outcome)).Append("</td></tr>\n");
        html.Append("</table>\n");
    }

    private void PerClass(StringBuilder html, DemoEvaluation dense)
    {
        html.Append("<h2>Average precision per class</h2>\n<table><tr><th>class</th><th>objects</th><th>AP VOC07</th><th>AP VOC10+</th><th>AP COCO</th>");
        if (Compressed is not null) html.Append("<th>AP VOC07 after SVD</th>");
        html.Append("</tr>\n");
        var s = dense.Summary;
        for (int k = 0; k < s.Voc07.Classes.Count; k++)
        {
            var c = s.Voc07.Classes[k];
            var cells = new List<string> { c.Positives.ToString(Inv), F(c.Ap), F(s.Voc10.Classes[k].Ap), F(s.Coco.PerClassAp[k]) };
            if (Compressed is not null) cells.Add(F(Compressed.Summary.Voc07.Classes[k].Ap));
            html.Append(Row(ClassNames[k + 1], [.. cells]));
        }
        html.Append("</table>\n");
    }

    private void LossCurve(StringBuilder html)
    {
        if (Losses.Count == 0) return;
        var its = Losses.Select(s => (double)s.Iteration).ToArray();
        var names = Losses.SelectMany(s => s.Losses.Select(l => l.Key)).Distinct();
        var series = new[] { new ChartSeries("total", its, Smooth(Losses.Select(s => s.Loss))) }
            .Concat(names.Select(n => new ChartSeries(n, its, Smooth(Losses.Select(s => s.LossOf(n))))))
            .ToArray();
        double top = Math.Ceiling(series.Max(c => c.Y.Max()) * 2) / 2;
        var chart = new LineChart($"training loss (moving average of {Trainer.SmoothingWindow} iterations)", "iteration", "loss", 0, its[^1], 0, Math.Max(top, 0.5), Width: 720, Height: 400);
        html.Append("<h2>Training loss</h2>\n").Append(Img(chart.EncodePng(series))).Append('\n');
    }

    private void Timing(StringBuilder html, DemoEvaluation dense)
    {
        html.Append("<h2>Detection time per image (ms; proposals precomputed)</h2>\n<table><tr><th>model</th><th>conv</th><th>RoI pooling</th>")
            .Append("<th>fc6</th><th>fc7</th><th>scores + boxes</th><th>NMS</th><th>total</th></tr>\n");
        foreach (var (name, e) in Models(dense))
        {
            var t = e.Times;
            html.Append(Row(name, [.. new[] { t.Conv, t.RoiPooling, t.Fc6, t.Fc7, t.Outputs, t.Nms, t.Total }.Select(x => e.MillisecondsPerImage(x).ToString("F2", Inv))]));
        }
        html.Append("</table>\n");
    }

    private void Svd(StringBuilder html, DemoEvaluation dense)
    {
        if (Compression is null || Compressed is null) return;
        html.Append("<h2>Truncated SVD of fc6 and fc7</h2>\n<table><tr><th>layer</th><th>u × v</th><th>rank</th><th>parameters</th><th>energy kept</th></tr>\n");
        foreach (var l in Compression.Layers)
            html.Append(Row(l.Name, $"{l.Outputs} × {l.Inputs}", l.Rank.ToString(Inv), $"{l.ParametersBefore:N0} → {l.ParametersAfter:N0}",
                l.KeptEnergyFraction.ToString("P2", Inv)));
        html.Append("</table>\n");
        double fcBefore = dense.MillisecondsPerImage(dense.Times.Fc6 + dense.Times.Fc7), fcAfter = Compressed.MillisecondsPerImage(Compressed.Times.Fc6 + Compressed.Times.Fc7);
        double totalBefore = dense.MillisecondsPerImage(dense.Times.Total), totalAfter = Compressed.MillisecondsPerImage(Compressed.Times.Total);
        html.Append("<p>").Append(E(string.Create(Inv,
            $"fc6 + fc7: {fcBefore:F2} → {fcAfter:F2} ms per image; detection: {totalBefore:F1} → {totalAfter:F1} ms ({(totalAfter / totalBefore - 1) * 100:+0;-0}%); " +
            $"VOC07 mAP {dense.Summary.Voc07.MeanAp:F3} → {Compressed.Summary.Voc07.MeanAp:F3} ({(Compressed.Summary.Voc07.MeanAp - dense.Summary.Voc07.MeanAp) * 100:+0.0;-0.0} points). ")))
            .Append(E("The paper (VGG16, fc6 rank 1024, fc7 rank 256, GPU): fc6 122 → 37 ms, detection −30%, mAP −0.3 points. The small backbone's head is a ")
                + E("small share of its detection time, so the saving here is small; on VGG16 see docs/benchmarks.md."))
            .Append("</p>\n");
    }

    private IEnumerable<(string Name, DemoEvaluation Evaluation)> Models(DemoEvaluation dense)
    {
        yield return ("trained", dense);
        if (Compressed is not null) yield return ("after truncated SVD", Compressed);
    }

    private static double[] Smooth(IEnumerable<double> values, int window = Trainer.SmoothingWindow)
    {
        var v = values.ToArray();
        var result = new double[v.Length];
        double sum = 0;
        for (int i = 0; i < v.Length; i++)
        {
            sum += v[i];
            if (i >= window) sum -= v[i - window];
            result[i] = sum / Math.Min(i + 1, window);
        }
        return result;
    }

    private static string Row(string first, params string[] cells) =>
        "<tr><td>" + E(first) + "</td>" + string.Concat(cells.Select(c => "<td>" + E(c) + "</td>")) + "</tr>\n";

    private static string F(double v) => double.IsFinite(v) ? v.ToString("F3", Inv) : "–";

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string Img(byte[] png) => "<img alt=\"\" src=\"data:image/png;base64," + Convert.ToBase64String(png) + "\">";
}
