using FastRcnn.Data;
using Spectre.Console;

namespace FastRcnn.Cli;

/// <summary>Spectre rendering of <see cref="DatasetStats"/>.</summary>
internal static class DataStatsView
{
    public static void Print(DetectionDataset ds, DatasetStats stats)
    {
        var summary = new Table().Title("[bold]dataset[/]").AddColumn("item").AddColumn(new TableColumn("value"));
        summary.AddRow("source", Markup.Escape(ds.Source));
        summary.AddRow("split", Markup.Escape(ds.Split));
        summary.AddRow("classes (K)", ds.NumClasses.ToString());
        summary.AddRow("images", stats.Images.ToString());
        summary.AddRow("images without objects", stats.ImagesWithoutObjects.ToString());
        summary.AddRow("objects", stats.Objects.ToString());
        summary.AddRow("objects per image", stats.Images == 0 ? "-" : $"{(double)stats.Objects / stats.Images:F2}");
        summary.AddRow("image size (W×H)", $"{stats.MinImageSize.Width}–{stats.MaxImageSize.Width} × {stats.MinImageSize.Height}–{stats.MaxImageSize.Height}");
        summary.AddRow("load report", Markup.Escape(ds.Report.ToString()));
        AnsiConsole.Write(summary);

        var classes = new Table().Title("[bold]objects per class[/]")
            .AddColumn(new TableColumn("#").RightAligned()).AddColumn("class")
            .AddColumn(new TableColumn("objects").RightAligned()).AddColumn(new TableColumn("images").RightAligned())
            .AddColumn(new TableColumn("difficult").RightAligned()).AddColumn(new TableColumn("crowd").RightAligned())
            .AddColumn(new TableColumn("truncated").RightAligned());
        foreach (var c in stats.Classes)
        {
            classes.AddRow(c.ClassIndex.ToString(), Markup.Escape(c.Name), c.Objects.ToString(), c.Images.ToString(),
                c.Difficult.ToString(), c.Crowd.ToString(), c.Truncated.ToString());
        }
        classes.AddRow("", "[bold]all[/]", stats.Objects.ToString(), "", stats.Classes.Sum(c => c.Difficult).ToString(),
            stats.Classes.Sum(c => c.Crowd).ToString(), stats.Classes.Sum(c => c.Truncated).ToString());
        AnsiConsole.Write(classes);

        AnsiConsole.Write(HistogramTable("box size √(w·h), px", stats.BoxSize));
        AnsiConsole.Write(HistogramTable("aspect ratio w/h", stats.AspectRatio));
        foreach (var note in ds.Report.Notes.Take(10))
        {
            AnsiConsole.MarkupLine($"[yellow]note:[/] {Markup.Escape(note)}");
        }
        if (ds.Report.Notes.Count > 10) { AnsiConsole.MarkupLine($"[yellow]… {ds.Report.Notes.Count - 10} more notes[/]"); }
    }

    /// <summary>
    /// One warning line when images' annotated sizes disagree with the decoded files (for the commands that do not
    /// print the whole load report): boxes are read against the decoded image, which may be the wrong one.
    /// </summary>
    public static void WarnSizeMismatches(DetectionDataset ds)
    {
        if (ds.Report.SizeMismatches == 0) return;
        string example = ds.Report.Notes.FirstOrDefault(n => n.Contains("annotated size", StringComparison.Ordinal)) ?? "";
        AnsiConsole.MarkupLine($"[yellow]warning:[/] {ds.Report.SizeMismatches} image(s) are annotated with another size than the decoded image " +
            $"(boxes are taken on the decoded image; `data stats` lists them), e.g. {Markup.Escape(example)}");
    }

    private static Table HistogramTable(string title, Histogram h)
    {
        int total = Math.Max(1, h.Counts.Sum()), peak = Math.Max(1, h.Counts.Max());
        var table = new Table().Title($"[bold]{Markup.Escape(title)}[/]").AddColumn("bin")
            .AddColumn(new TableColumn("count").RightAligned()).AddColumn(new TableColumn("%").RightAligned()).AddColumn("");
        for (int i = 0; i < h.Counts.Count; i++)
        {
            int bar = (int)Math.Round(30.0 * h.Counts[i] / peak);
            table.AddRow(Markup.Escape(h.Labels[i]), h.Counts[i].ToString(), $"{100.0 * h.Counts[i] / total:F1}",
                "[green]" + new string('█', bar) + "[/]");
        }
        return table;
    }
}
