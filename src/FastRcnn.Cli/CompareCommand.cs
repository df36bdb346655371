using System.CommandLine;
using FastRcnn.Comparison;
using FastRcnn.Data;
using FastRcnn.Pretraining;
using Spectre.Console;

namespace FastRcnn.Cli;

/// <summary>
/// <c>fastrcnn compare</c>: the Fast R-CNN paper's Table 4 on Shapes (<see cref="Table4Comparison"/>) with a Spectre
/// progress display (one bar per method and an overall bar with the time left), then the table printed and written as
/// <c>table4.md</c>, <c>table4.csv</c> and <c>table4.html</c>.
/// </summary>
public static class CompareCommand
{
    public static Command Build()
    {
        var outDir = new Option<string>("--out") { Description = "Output folder: shapes/, one folder per method, table4.md/.csv/.html.", DefaultValueFactory = _ => "compare" };
        var quick = new Option<bool>("--quick") { Description = "Every method on 4 training and 2 test images for 8 iterations (a smoke test, about a minute)." };
        var seed = new Option<int>("--seed") { Description = "Seed of the dataset and of every training run.", DefaultValueFactory = _ => 0 };
        var iters = new Option<int?>("--iters") { Description = "Fine-tuning iterations of every method (default 1000; --quick 8)." };
        var trainImages = new Option<int?>("--train-images") { Description = "Shapes training images (default 200; --quick 4)." };
        var testImages = new Option<int?>("--test-images") { Description = "Shapes test images (default 100; --quick 2)." };
        var cacheDir = new Option<string?>("--cache-dir") { Description = "Proposal cache folder (default ~/.cache/fastrcnn/proposals, or $FASTRCNN_CACHE)." };
        var command = new Command("compare",
            "Reproduce the Fast R-CNN paper's Table 4 on Shapes: train and test R-CNN, SPPnet, Fast R-CNN, Fast R-CNN + SVD and Faster R-CNN " +
            "from the same pre-trained weights; write training time, test time, speed-ups, VOC07 mAP and feature cache size beside the paper's.")
        {
            outDir, quick, seed, iters, trainImages, testImages, cacheDir,
        };
        command.SetAction((parse, cancel) =>
        {
            try
            {
                var settings = (parse.GetValue(quick) ? ComparisonSettings.Quick : ComparisonSettings.Full) with { Seed = parse.GetValue(seed) };
                if (parse.GetValue(iters) is { } n) settings = settings with { Iterations = n };
                if (parse.GetValue(trainImages) is { } train) settings = settings with { TrainImages = train };
                if (parse.GetValue(testImages) is { } test) settings = settings with { TestImages = test };
                string root = Path.GetFullPath(parse.GetValue(outDir)!);
                return Task.FromResult(Run(root, settings, parse.GetValue(cacheDir), cancel));
            }
            catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException or DatasetFormatException)
            {
                AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
                return Task.FromResult(1);
            }
            catch (OperationCanceledException)
            {
                AnsiConsole.MarkupLine("[yellow]interrupted[/]");
                return Task.FromResult(130);
            }
        });
        return command;
    }

    private static int Run(string root, ComparisonSettings settings, string? cacheDir, CancellationToken cancel)
    {
        using var outputLock = FastRcnn.IO.DirectoryLock.Acquire(root);
        var comparison = new Table4Comparison(settings, root, BuiltinWeights.Resolve(BuiltinWeights.SmallShapesNet), cacheDir);
        AnsiConsole.MarkupLine($"[bold]Table 4 on Shapes[/]: {settings.TrainImages} training / {settings.TestImages} test images, " +
            $"{settings.Iterations} iterations per method, from {BuiltinWeights.SmallShapesNet} → [blue]{Markup.Escape(root)}[/]");
        var lines = new List<string>();
        var gate = new object();
        comparison.StepFinished += (_, line) => { lock (gate) lines.Add(line); };
        ComparisonResult result = null!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var pipelines = settings.Pipelines;
                var overall = ctx.AddTask("[bold]overall[/]", maxValue: pipelines.Count + 1);
                var prepare = ctx.AddTask("data + selective search", maxValue: 1);
                var tasks = pipelines.ToDictionary(p => p, p => ctx.AddTask(Markup.Escape(p.DisplayName()), autoStart: false, maxValue: 1));
                // Selective search reports from its worker threads: one report at a time, and bars only move forward.
                comparison.Progress = new Inline<ComparisonProgress>(p =>
                {
                    lock (gate)
                    {
                        var task = p.Pipeline is { } pipeline ? tasks[pipeline] : prepare;
                        if (!task.IsStarted) task.StartTask();
                        if (p.Pipeline is not null && prepare.Value < 1) prepare.Value = 1;
                        task.Value = Math.Max(task.Value, p.Fraction);
                        task.Description = Markup.Escape($"{(p.Pipeline?.DisplayName() ?? "data")}: {p.Stage}");
                        int index = p.Pipeline is { } at ? pipelines.ToList().IndexOf(at) + 1 : 0;
                        overall.Value = Math.Max(overall.Value, index + p.Fraction);
                        foreach (var line in lines) AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]");
                        lines.Clear();
                    }
                });
                result = comparison.Run(cancel);
                overall.Value = overall.MaxValue;
            });
        foreach (var line in lines) AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]");

        var paths = Table4Report.Write(result, root);
        // Ours, then the paper's numbers for the same rows: two tables that fit a terminal.
        var header = Table4Report.HeaderFor(result);
        var cells = Table4Report.Cells(result);
        foreach (var (title, columns) in new[] { ("Table 4 on Shapes (this machine)", Enumerable.Range(0, 8)), ("the paper (VOC07, VGG16, K40 GPU)", new[] { 0, 8, 9, 10, 11, 12 }.AsEnumerable()) })
        {
            var table = new Table().Title(Markup.Escape(title));
            foreach (int i in columns) table.AddColumn(i == 0 ? new TableColumn(Markup.Escape(header[i])) : new TableColumn(Markup.Escape(header[i])).RightAligned());
            foreach (var row in cells) table.AddRow(columns.Select(i => Markup.Escape(row[i])).ToArray());
            AnsiConsole.Write(table);
        }
        AnsiConsole.MarkupLine($"[bold]compare done in {result.TotalSeconds / 60:F1} min[/]; wrote {string.Join(", ", paths.Select(p => Markup.Escape(Path.GetFileName(p))))} to [blue]{Markup.Escape(root)}[/]");
        return 0;
    }

    /// <summary>An <see cref="IProgress{T}"/> that reports on the calling thread.</summary>
    private sealed class Inline<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
