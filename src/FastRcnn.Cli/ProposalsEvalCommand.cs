using System.CommandLine;
using System.Globalization;
using System.Text;
using FastRcnn.Data;
using FastRcnn.IO;
using FastRcnn.Proposals;
using Spectre.Console;

namespace FastRcnn.Cli;

/// <summary>
/// <c>fastrcnn proposals eval</c>: recall of one or more proposal sets on a split — at IoU 0.5 and 0.7 and
/// averaged over IoU 0.5:0.05:0.95, as a function of the number of best-ranked proposals kept — as a
/// table, a CSV and a PNG plot (<see cref="RecallPlot"/>).
/// </summary>
internal static class ProposalsEvalCommand
{
    public static Command Build()
    {
        var dataset = ProposalsCommands.DatasetOption();
        var split = ProposalsCommands.SplitOption();
        var proposals = new Option<string[]>("--proposals")
        {
            Description = "A proposal file (.npz), or 'auto' for selective search through the cache; repeat to compare several.",
            AllowMultipleArgumentsPerToken = false,
        };
        var outDir = new Option<string?>("--out-dir") { Description = "Where recall_<split>.csv and recall_<split>.png go (default: the current directory)." };
        var budgets = new Option<string?>("--budgets") { Description = "Proposal counts to report, comma-separated (default 10,20,50,100,200,500,1000,2000; 'all' is always added)." };
        var search = new ProposalsCommands.SearchOptions();
        var sizeBins = new Option<string?>("--size-bins")
        {
            Description = "Also print recall by object size √(w·h): bin edges in pixels, comma-separated (e.g. 32,64,128 → <32, 32–64, 64–128, ≥128).",
        };
        var command = new Command("eval",
            "Recall of proposals on a split: at IoU 0.5, 0.7, and averaged over 0.5:0.05:0.95, against the number of top-ranked " +
            "proposals kept. Counts non-difficult, non-crowd ground-truth boxes. Writes a table, a CSV and a PNG plot.")
        {
            dataset, split, proposals, outDir, budgets, sizeBins,
        };
        search.AddTo(command);
        command.SetAction((parse, cancel) => Task.FromResult(Run(parse, dataset, split, proposals, outDir, budgets, sizeBins, search, cancel)));
        return command;
    }

    private static int Run(ParseResult parse, Option<string?> datasetOption, Option<string?> splitOption, Option<string[]> proposalsOption,
        Option<string?> outDirOption, Option<string?> budgetsOption, Option<string?> sizeBinsOption, ProposalsCommands.SearchOptions search, CancellationToken cancel)
    {
        string? datasetPath = parse.GetValue(datasetOption);
        var sources = parse.GetValue(proposalsOption) ?? [];
        if (datasetPath is null) return CliErrors.Fail("--dataset is required");
        if (sources.Length == 0) return CliErrors.Fail("--proposals is required: a .npz file or 'auto'");
        try
        {
            using var imageLimit = search.Input.ApplyImageLimit(parse);
            var budgetList = ParseBudgets(parse.GetValue(budgetsOption));
            var run = search.Read(parse);
            var ds = DatasetLoader.Load(datasetPath, parse.GetValue(splitOption), search.Input.LoadOptions(parse));
            DataStatsView.WarnSizeMismatches(ds);
            string dir = Path.GetFullPath(parse.GetValue(outDirOption) ?? ".");
            string csv = Path.Combine(dir, $"recall_{Safe(ds.Split)}.csv"), png = Path.Combine(dir, $"recall_{Safe(ds.Split)}.png");
            using var outputLock = DirectoryLock.AcquireFor(csv);
            var reports = new List<(string Label, ProposalRecallReport Report)>();
            var sets = new List<DatasetProposalSet>();
            foreach (string source in sources)
            {
                DatasetProposalSet set;
                string label;
                var spec = ProposalSpec.Parse(source);
                if (spec.Kind == ProposalSpecKind.Rpn)
                    return CliErrors.Fail($"--proposals {ProposalSpec.RpnWord}: write a Faster R-CNN model's proposals first (fastrcnn proposals --model DIR --dataset … --out rpn.npz), then compare that file");
                if (spec.Kind == ProposalSpecKind.SelectiveSearch)
                {
                    label = $"selective search ({run.Search.Mode.ToString().ToLowerInvariant()})";
                    set = ProposalsCommands.WithProgress(ds.Images.Count, "selective search",
                        p => DatasetProposals.Compute(ds, run, p, cancel).Proposals);
                }
                else
                {
                    label = Path.GetFileName(source);
                    var (imported, report) = DatasetProposals.Import(source, ds, allowMissing: true);
                    AnsiConsole.MarkupLine($"[grey]{Markup.Escape(report.ToString())}[/]");
                    if (report.MissingImages > 0)
                        AnsiConsole.MarkupLine($"[yellow]warning:[/] {report.MissingImages} images have no proposals in {Markup.Escape(source)} " +
                                               $"(e.g. {Markup.Escape(string.Join(", ", report.MissingExamples.Take(3)))}); they count as misses");
                    set = imported;
                }
                reports.Add((label, ProposalRecall.Evaluate(ds, image => set.BoxesOf(image.Id), budgetList)));
                sets.Add(set);
            }
            Print(ds, reports);
            if (parse.GetValue(sizeBinsOption) is { } binsText)
                PrintBySize(ds, reports.Select(r => r.Label).ToList(), sets, budgetList, ParseSizeBins(binsText));
            Directory.CreateDirectory(dir);
            WriteCsv(csv, reports);
            RecallPlot.Write(png, $"Proposal recall, {ds.Split} ({reports[0].Report.GtBoxes} objects)", reports);
            AnsiConsole.MarkupLine($"wrote [blue]{Markup.Escape(csv)}[/] and [blue]{Markup.Escape(png)}[/]");
            return 0;
        }
        catch (OperationCanceledException)
        {
            return CliErrors.Fail("interrupted; images finished so far are in the proposal cache");
        }
        catch (Exception e) when (CliErrors.IsInputError(e))
        {
            return CliErrors.Fail(e.Message);
        }
    }

    private static IReadOnlyList<double> ParseSizeBins(string text)
    {
        var edges = new List<double>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out double e) || e <= 0 || edges.Count > 0 && e <= edges[^1])
                throw new ArgumentException($"--size-bins: '{part}' is not a positive size above the previous one");
            edges.Add(e);
        }
        return edges;
    }

    /// <summary>Recall at IoU 0.5 / 0.7 per budget for each object-size bin between <paramref name="edges"/>.</summary>
    private static void PrintBySize(DetectionDataset ds, IReadOnlyList<string> labels, IReadOnlyList<DatasetProposalSet> sets,
        IReadOnlyList<int> budgets, IReadOnlyList<double> edges)
    {
        var bounds = new List<(double Min, double Max)>();
        for (int k = 0; k <= edges.Count; k++) bounds.Add((k == 0 ? 0 : edges[k - 1], k == edges.Count ? double.PositiveInfinity : edges[k]));
        var table = new Table().AddColumn("objects").AddColumn("count").AddColumn("proposals");
        foreach (var b in budgets) table.AddColumn(new TableColumn($"R@0.5 / 0.7, {b}").RightAligned());
        foreach (var (min, max) in bounds)
        {
            string name = double.IsPositiveInfinity(max) ? $"≥ {min:0} px" : min == 0 ? $"< {max:0} px" : $"{min:0}–{max:0} px";
            for (int s = 0; s < sets.Count; s++)
            {
                var set = sets[s];
                var report = ProposalRecall.Evaluate(ds, image => set.BoxesOf(image.Id), budgets, (min, max));
                var cells = new List<string> { s == 0 ? name : "", s == 0 ? report.GtBoxes.ToString(CultureInfo.InvariantCulture) : "", Markup.Escape(labels[s]) };
                cells.AddRange(report.Points.Take(budgets.Count).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Recall50:F3} / {p.Recall70:F3}")));
                table.AddRow(cells.ToArray());
            }
        }
        AnsiConsole.MarkupLine("[bold]recall by object size[/]");
        AnsiConsole.Write(table);
    }

    private static IReadOnlyList<int> ParseBudgets(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return ProposalRecall.DefaultBudgets;
        var list = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (part.Equals("all", StringComparison.OrdinalIgnoreCase)) continue;
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < 1)
                throw new ArgumentException($"--budgets: '{part}' is not a positive whole number");
            list.Add(n);
        }
        return list;
    }

    private static void Print(DetectionDataset ds, List<(string Label, ProposalRecallReport Report)> reports)
    {
        var first = reports[0].Report;
        AnsiConsole.MarkupLine($"split [bold]{Markup.Escape(ds.Split)}[/]: {first.Images} images, {first.GtBoxes} ground-truth boxes " +
                               $"(non-difficult, non-crowd; {first.IgnoredGtBoxes} difficult/crowd boxes not counted)");
        foreach (var (label, report) in reports)
        {
            var table = new Table().Title($"[bold]{Markup.Escape(label)}[/]")
                .AddColumn(new TableColumn("top N").RightAligned()).AddColumn(new TableColumn("boxes/image").RightAligned())
                .AddColumn(new TableColumn("recall@0.5").RightAligned()).AddColumn(new TableColumn("recall@0.7").RightAligned())
                .AddColumn(new TableColumn("AR 0.5:0.95").RightAligned());
            foreach (var p in report.Points)
            {
                string n = p.Budget?.ToString(CultureInfo.InvariantCulture) ?? "[bold]all[/]";
                table.AddRow(n, F(p.MeanProposals, "F1"), F(p.Recall50, "F3"), F(p.Recall70, "F3"), F(p.AverageRecall, "F3"));
            }
            AnsiConsole.Write(table);
        }
    }

    private static void WriteCsv(string path, List<(string Label, ProposalRecallReport Report)> reports)
    {
        var sb = new StringBuilder("source,split,top_n,mean_proposals,recall_0.5,recall_0.7,average_recall,gt_boxes,images\n");
        foreach (var (label, report) in reports)
            foreach (var p in report.Points)
                sb.Append(CultureInfo.InvariantCulture, $"\"{label.Replace("\"", "\"\"")}\",{report.Split},{p.Budget?.ToString(CultureInfo.InvariantCulture) ?? "all"},")
                  .Append(CultureInfo.InvariantCulture, $"{p.MeanProposals:F2},{p.Recall50:F4},{p.Recall70:F4},{p.AverageRecall:F4},{report.GtBoxes},{report.Images}\n");
        FastRcnn.IO.AtomicFile.WriteAllText(path, sb.ToString());
    }

    private static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);

    private static string Safe(string name) => string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' ? c : '_'));
}
