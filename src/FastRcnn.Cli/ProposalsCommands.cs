using System.CommandLine;
using FastRcnn.Data;
using FastRcnn.IO;
using FastRcnn.Imaging;
using FastRcnn.Proposals;
using Spectre.Console;

namespace FastRcnn.Cli;

/// <summary>
/// <c>fastrcnn proposals …</c>: compute selective-search proposals for a dataset split into a
/// <see cref="ProposalFile"/> (parallel, cached by content, resumable), and <c>proposals eval</c>: their recall.
/// </summary>
public static class ProposalsCommands
{
    /// <summary>The <c>proposals</c> command and its <c>eval</c> subcommand.</summary>
    public static Command Build()
    {
        var dataset = DatasetOption();
        var split = SplitOption();
        var outFile = new Option<string?>("--out") { Description = "Proposal file to write (.npz: one float32 (R, 4) x1,y1,x2,y2 array per image id)." };
        var search = new SearchOptions();
        var model = ModelProposalsCommand.ModelOption();
        var command = new Command("proposals",
            "Compute selective-search proposals for every image of a split: in parallel, cached by image content and settings, " +
            "resumable after an interruption (finished images are journalled in <out>.partial); with --model, a Faster R-CNN model's RPN proposals. Subcommand: eval.")
        {
            dataset, split, outFile, model,
        };
        search.AddTo(command);
        command.Subcommands.Add(ProposalsEvalCommand.Build());
        command.SetAction((parse, cancel) => Task.FromResult(parse.GetValue(model) is { } modelDir
            ? ModelProposalsCommand.Run(modelDir, parse.GetValue(dataset), parse.GetValue(split), parse.GetValue(outFile), cancel)
            : Compute(parse, dataset, split, outFile, search, cancel)));
        return command;
    }

    private static int Compute(ParseResult parse, Option<string?> datasetOption, Option<string?> splitOption, Option<string?> outOption,
        SearchOptions search, CancellationToken cancel)
    {
        string? datasetPath = parse.GetValue(datasetOption), output = parse.GetValue(outOption);
        if (datasetPath is null) return CliErrors.Fail("--dataset is required");
        if (output is null) return CliErrors.Fail("--out is required (a .npz file)");
        if (!output.EndsWith(".npz", StringComparison.OrdinalIgnoreCase)) return CliErrors.Fail($"{output}: the proposal file must end in .npz");
        using var interrupt = InterruptSignals.Listen(cancel);   // Ctrl+C / SIGTERM: the journal keeps finished images; exit 130 / 143
        cancel = interrupt.Token;
        try
        {
            using var imageLimit = search.Input.ApplyImageLimit(parse);
            var run = search.Read(parse);
            using var outputLock = Distribution.IsLead ? DirectoryLock.AcquireFor(output) : null;   // rank 0 writes the file
            var ds = DatasetLoader.Load(datasetPath, parse.GetValue(splitOption), search.Input.LoadOptions(parse));
            DataStatsView.WarnSizeMismatches(ds);
            AnsiConsole.MarkupLine($"[bold]{ds.Images.Count}[/] images of [blue]{Markup.Escape(ds.Source)}[/] ({Markup.Escape(ds.Split)}); " +
                                   $"{Markup.Escape(run.Search.Fingerprint())}");
            string journal = DatasetProposals.JournalPath(output);
            if (File.Exists(journal)) AnsiConsole.MarkupLine($"[yellow]resuming:[/] {Markup.Escape(journal)} holds finished images of an earlier run");
            if (Distribution.IsDistributed)
                AnsiConsole.MarkupLine($"{Distribution.Communicator.Size} processes: each searches every {Distribution.Communicator.Size}th image, rank 0 writes the file");
            var stats = WithProgress(ds.Images.Count, "selective search",
                p => DatasetProposals.Export(ds, output, run, p, cancel, Distribution.Communicator));
            PrintStats(stats, output);
            return 0;
        }
        catch (OperationCanceledException)
        {
            CliErrors.Fail($"interrupted; finished images are kept in {DatasetProposals.JournalPath(output)} — run the same command again to resume");
            return interrupt.ExitCode;
        }
        catch (Exception e) when (CliErrors.IsInputError(e))
        {
            return CliErrors.Fail(e.Message);
        }
    }

    /// <summary>Runs <paramref name="work"/> under a progress bar showing images/s and the remaining time.</summary>
    internal static T WithProgress<T>(int total, string what, Func<IProgress<ProposalProgress>, T> work)
    {
        T result = default!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(what, maxValue: Math.Max(1, total));
                var gate = new object();
                result = work(new Reporter(p =>
                {
                    lock (gate)
                    {
                        if (p.Done < task.Value) return;
                        task.Value = p.Done;
                        task.Description = $"{what}: {p.Done}/{p.Total} images, {p.ImagesPerSecond:F1}/s ({p.Reused} reused)";
                    }
                }));
                task.Value = task.MaxValue;
            });
        return result;
    }

    private static void PrintStats(ProposalRunStats stats, string output)
    {
        var table = new Table().AddColumn("item").AddColumn(new TableColumn("value"));
        table.AddRow("images", stats.Images.ToString());
        table.AddRow("computed", stats.Computed.ToString());
        table.AddRow("from cache", stats.FromCache + (stats.CacheDirectory is { } dir ? $" ({Markup.Escape(dir)})" : " (cache off)"));
        table.AddRow("resumed from journal", stats.FromJournal.ToString());
        if (stats.CorruptCacheEntries > 0) table.AddRow("[yellow]damaged cache entries recomputed[/]", stats.CorruptCacheEntries.ToString());
        table.AddRow("time", $"{stats.Elapsed.TotalSeconds:F1} s ({stats.Images / Math.Max(stats.Elapsed.TotalSeconds, 1e-9):F1} images/s)");
        table.AddRow("written", Markup.Escape(Path.GetFullPath(output)) + " + " + Markup.Escape(Path.GetFileName(DatasetProposals.SettingsPath(output))));
        AnsiConsole.Write(table);
        if (stats.JournalNote is { } note) AnsiConsole.MarkupLine($"[yellow]note:[/] {Markup.Escape(note)}");
    }

    internal static Option<string?> DatasetOption() => new("--dataset") { Description = "A VOC-layout directory or a COCO .json file." };

    internal static Option<string?> SplitOption() => new("--split") { Description = "Split to use (VOC: ImageSets/Main/<split>.txt; default: every annotation)." };

    /// <summary>The selective-search and cache options shared by <c>proposals</c> and <c>proposals eval</c>.</summary>
    internal sealed class SearchOptions
    {
        private readonly Option<SelectiveSearchMode> _mode = new("--mode") { Description = "Selective-search preset: fast (default), quality or single.", DefaultValueFactory = _ => SelectiveSearchMode.Fast };
        private readonly Option<int?> _maxBoxes = new("--max-boxes") { Description = "Keep at most this many boxes per image (the best ranked)." };
        private readonly Option<float?> _diverse = new("--diverse-iou") { Description = "Move boxes overlapping a better-ranked box this much (IoU) behind the rest: better recall for small top-N (off by default)." };
        private readonly Option<ulong> _seed = new("--seed") { Description = "Seed of the ranking's random factors." };
        private readonly Option<string?> _cacheDir = new("--cache-dir") { Description = $"Proposal cache directory (default {ProposalCache.DefaultDirectory}; $FASTRCNN_CACHE moves it)." };
        private readonly Option<bool> _noCache = new("--no-cache") { Description = "Neither read nor write the proposal cache." };
        private readonly Option<int> _threads = new("--threads") { Description = "Images computed at once (0: all processors)." };
        private readonly Option<long?> _maxPixels = new("--max-search-pixels")
        {
            Description = $"Search images of more pixels on a copy scaled down to this many, boxes mapped back (default {SelectiveSearchOptions.DefaultMaxPixels}; 0: full size always).",
        };

        /// <summary>The input flags (--max-image-pixels, --skip-degenerate-boxes, --skip-bad-images), applied by the commands around their run.</summary>
        public InputOptions Input { get; } = new();

        public void AddTo(Command command)
        {
            foreach (var o in new Option[] { _mode, _maxBoxes, _diverse, _seed, _cacheDir, _noCache, _threads, _maxPixels }) command.Options.Add(o);
            Input.AddTo(command);
        }

        public ProposalRunOptions Read(ParseResult parse)
        {
            if (parse.GetValue(_threads) < 0) throw new ArgumentException("--threads must be ≥ 0");
            long? maxPixels = parse.GetValue(_maxPixels) ?? SelectiveSearchOptions.DefaultMaxPixels;
            if (maxPixels < 0) throw new ArgumentException($"--max-search-pixels must be ≥ 0, got {maxPixels}");
            var search = new SelectiveSearchOptions
            {
                Mode = parse.GetValue(_mode), MaxBoxes = parse.GetValue(_maxBoxes), DiverseIoU = parse.GetValue(_diverse), Seed = parse.GetValue(_seed),
                MaxPixels = maxPixels == 0 ? null : maxPixels,
            };
            search.Validate();
            return new ProposalRunOptions
            {
                Search = search,
                UseCache = !parse.GetValue(_noCache),
                CacheDirectory = parse.GetValue(_cacheDir),
                Threads = parse.GetValue(_threads),
            };
        }
    }

    /// <summary>Forwards every report synchronously on the worker thread that made it.</summary>
    private sealed class Reporter(Action<ProposalProgress> report) : IProgress<ProposalProgress>
    {
        public void Report(ProposalProgress value) => report(value);
    }
}
