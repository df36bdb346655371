using System.Globalization;
using System.Net;
using System.Text;
using FastRcnn.IO;

namespace FastRcnn.Comparison;

/// <summary>
/// Table 4 of a <see cref="ComparisonResult"/> as Markdown (<c>table4.md</c>), CSV (<c>table4.csv</c>) and a
/// self-contained HTML page (<c>table4.html</c>): per method, our training time (h), training speed-up, test seconds
/// per image without and with proposals, test speed-up, VOC07 mAP and feature cache size, beside the paper's numbers
/// for the same row (<see cref="PaperTable4"/>). Speed-ups are against the table's first row (R-CNN when it runs, as
/// in the paper) and named in the column.
/// </summary>
public static class Table4Report
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The file names written by <see cref="Write"/>.</summary>
    public static IReadOnlyList<string> FileNames { get; } = ["table4.md", "table4.csv", "table4.html"];

    /// <summary>Writes the three files into <paramref name="directory"/> (each atomically); returns their paths.</summary>
    public static IReadOnlyList<string> Write(ComparisonResult result, string directory)
    {
        ArgumentNullException.ThrowIfNull(result);
        Directory.CreateDirectory(directory);
        var paths = FileNames.Select(n => Path.Combine(directory, n)).ToArray();
        AtomicFile.WriteAllText(paths[0], Markdown(result));
        AtomicFile.WriteAllText(paths[1], Csv(result));
        AtomicFile.WriteAllText(paths[2], Html(result));
        return paths;
    }

    /// <summary>The row the speed-ups are measured against: the first one (R-CNN when it runs).</summary>
    public static ComparisonRow? Reference(ComparisonResult result) => result.Rows.Count > 0 ? result.Rows[0] : null;

    private static readonly string[] Header =
    [
        "method", "train time (h)", "train speed-up", "test s/image", "test s/image with proposals", "test speed-up", "VOC07 mAP", "feature cache (MB)",
        "paper: train time (h)", "paper: train speed-up", "paper: test s/image", "paper: test speed-up", "paper: VOC07 mAP",
    ];

    /// <summary>The cells of every row, formatted (– where there is no number).</summary>
    public static IReadOnlyList<string[]> Cells(ComparisonResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var reference = Reference(result);
        return result.Rows.Select(r => new[]
        {
            r.Pipeline.DisplayName(),
            F(r.TrainSeconds / 3600, "F4"),
            reference is null ? "–" : F(reference.TrainSeconds / r.TrainSeconds, "F1") + "×",
            F(r.TestSecondsPerImage, "F3"),
            F(r.TestSecondsWithProposals, "F3"),
            reference is null ? "–" : F(reference.TestSecondsPerImage / r.TestSecondsPerImage, "F1") + "×",
            F(100 * r.Voc07Map, "F1"),
            F(r.CacheBytes / 1e6, "F1"),
            F(r.Paper.TrainHours, "G3"),
            r.Paper.TrainSpeedup is { } ts ? F(ts, "G3") + "×" : "–",
            F(r.Paper.TestSecondsPerImage ?? r.Paper.TestSecondsWithProposals, "G3") + (r.Paper.TestSecondsPerImage is null && r.Paper.TestSecondsWithProposals is not null ? " (with proposals)" : ""),
            r.Paper.TestSpeedup is { } te ? F(te, "G3") + "×" : "–",
            F(r.Paper.Voc07Map, "F1"),
        }).ToList();
    }

    /// <summary>The Markdown page: a caption of what ran, the table, and each row's details.</summary>
    public static string Markdown(ComparisonResult result)
    {
        var md = new StringBuilder();
        md.Append("# Table 4 on Shapes\n\n").Append(Caption(result)).Append("\n\n");
        var header = HeaderFor(result);
        md.Append("| ").Append(string.Join(" | ", header)).Append(" |\n|").Append(string.Concat(header.Select((_, i) => i == 0 ? "---|" : "---:|"))).Append('\n');
        foreach (var row in Cells(result)) md.Append("| ").Append(string.Join(" | ", row)).Append(" |\n");
        md.Append('\n');
        foreach (var r in result.Rows) md.Append("- ").Append(r.Pipeline.DisplayName()).Append(": ").Append(r.Details).Append('\n');
        return md.ToString();
    }

    /// <summary>The CSV table (invariant culture, a header row, seconds and mAP unrounded).</summary>
    public static string Csv(ComparisonResult result)
    {
        var csv = new StringBuilder("method,train_seconds,test_seconds_per_image,test_seconds_with_proposals,voc07_map,feature_cache_bytes," +
            "paper_train_hours,paper_train_speedup,paper_test_seconds_per_image,paper_test_seconds_with_proposals,paper_test_speedup,paper_voc07_map\n");
        static string N(double? v) => v is { } x && double.IsFinite(x) ? x.ToString("R", Inv) : "";
        foreach (var r in result.Rows)
            csv.Append(string.Join(',', r.Pipeline.DisplayName(), N(r.TrainSeconds), N(r.TestSecondsPerImage), N(r.TestSecondsWithProposals), N(r.Voc07Map),
                r.CacheBytes.ToString(Inv), N(r.Paper.TrainHours), N(r.Paper.TrainSpeedup), N(r.Paper.TestSecondsPerImage), N(r.Paper.TestSecondsWithProposals),
                N(r.Paper.TestSpeedup), N(r.Paper.Voc07Map))).Append('\n');
        return csv.ToString();
    }

    /// <summary>The HTML page: the caption, the table, and each row's details; no external resources.</summary>
    public static string Html(ComparisonResult result)
    {
        static string E(string s) => WebUtility.HtmlEncode(s);
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Table 4 on Shapes</title><style>")
            .Append("body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;color:#222}")
            .Append("table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 9px;text-align:right}")
            .Append("td:first-child,th:first-child{text-align:left}th{background:#f3f3f3}td.paper,th.paper{color:#666;background:#fafafa}")
            .Append("</style></head><body>\n<h1>Table 4 on Shapes</h1>\n<p>").Append(E(Caption(result))).Append("</p>\n<table><tr>");
        var header = HeaderFor(result);
        for (int i = 0; i < header.Length; i++) html.Append(i >= 8 ? "<th class=\"paper\">" : "<th>").Append(E(header[i])).Append("</th>");
        html.Append("</tr>\n");
        foreach (var row in Cells(result))
        {
            html.Append("<tr>");
            for (int i = 0; i < row.Length; i++) html.Append(i >= 8 ? "<td class=\"paper\">" : "<td>").Append(E(row[i])).Append("</td>");
            html.Append("</tr>\n");
        }
        html.Append("</table>\n<ul>");
        foreach (var r in result.Rows) html.Append("<li>").Append(E($"{r.Pipeline.DisplayName()}: {r.Details}")).Append("</li>");
        html.Append("</ul>\n<p>").Append(E("Paper: VOC07 test, VGG16 (L), one K40 GPU (SPEC §10). Ours: Shapes, the small backbone, CPU.")).Append("</p>\n</body></html>\n");
        return html.ToString();
    }

    /// <summary>The column names (the speed-up columns name their reference row).</summary>
    public static string[] HeaderFor(ComparisonResult result)
    {
        var header = (string[])Header.Clone();
        if (Reference(result) is { } reference)
        {
            header[2] = $"train speed-up (vs {reference.Pipeline.DisplayName()})";
            header[5] = $"test speed-up (vs {reference.Pipeline.DisplayName()})";
        }
        return header;
    }

    private static string Caption(ComparisonResult result)
    {
        var s = result.Settings;
        return string.Create(Inv, $"Shapes seed {s.Seed}: {s.TrainImages} training and {s.TestImages} test images; every method fine-tuned from the same pre-trained small ") +
            string.Create(Inv, $"backbone for {s.Iterations} iterations; selective search (fast mode) {result.ProposalSecondsPerImage:F3} s per image; ") +
            string.Create(Inv, $"{result.Cpu}; whole run {result.TotalSeconds / 60:F1} min, finished {result.Finished:yyyy-MM-dd HH:mm} UTC. ") +
            "Test times are means over the test split; training times exclude proposals.";
    }

    private static string F(double? value, string format) => value is { } v && double.IsFinite(v) ? v.ToString(format, Inv) : "–";
}
