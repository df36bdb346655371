using System.CommandLine;
using FastRcnn.Data;
using Spectre.Console;

namespace FastRcnn.Cli;

/// <summary><c>fastrcnn data …</c>: generate the Shapes benchmark, inspect a dataset.</summary>
public static class DataCommands
{
    /// <summary>The <c>data</c> command group.</summary>
    public static Command Build()
    {
        var data = new Command("data", "Datasets: generate the built-in Shapes benchmark, show statistics of a VOC or COCO dataset.");
        data.Subcommands.Add(ShapesCommand());
        data.Subcommands.Add(StatsCommand());
        return data;
    }

    private static Command ShapesCommand()
    {
        var outDir = new Option<string>("--out") { Description = "Output directory (VOC layout).", Required = true };
        var train = new Option<int>("--train") { Description = "Images in the train split.", DefaultValueFactory = _ => 1000 };
        var test = new Option<int>("--test") { Description = "Images in the test split.", DefaultValueFactory = _ => 300 };
        var seed = new Option<int>("--seed") { Description = "Random seed; the same seed gives the same bytes.", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "Worker threads (0: all processors); output does not depend on it." };
        var force = new Option<bool>("--force") { Description = "Replace a dataset already in --out." };
        var sizes = new Option<int[]?>("--image-size")
        {
            Description = "Smallest and largest image side in pixels, each of W, H uniform between them (default 320 500); one number: every image that size, square.",
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("shapes", "Generate the Shapes benchmark: 8 shape classes on cluttered, textured backgrounds, VOC layout, deterministic per seed.")
        {
            outDir, train, test, seed, threads, force, sizes,
        };
        command.SetAction(parse =>
        {
            var options = new ShapesOptions
            {
                TrainImages = parse.GetValue(train),
                TestImages = parse.GetValue(test),
                Seed = parse.GetValue(seed),
                Threads = parse.GetValue(threads),
                Overwrite = parse.GetValue(force),
            };
            if (parse.GetValue(sizes) is { Length: > 0 } range)
            {
                if (range.Length > 2 || range.Any(s => s < 16) || range[0] > range[^1])
                    return Fail("--image-size takes one side, or the smallest and the largest side (each ≥ 16, smallest first)");
                options = options with { MinImageSize = range[0], MaxImageSize = range[^1] };
            }
            var root = parse.GetValue(outDir)!;
            if (options.TrainImages < 0 || options.TestImages < 0 || options.TrainImages + options.TestImages == 0)
            {
                return Fail("--train and --test must be ≥ 0 and not both 0");
            }
            try
            {
                using var outputLock = FastRcnn.IO.DirectoryLock.AcquireFor(root);   // beside it: --force clears the directory
                int total = options.TrainImages + options.TestImages;
                ShapesResult? result = null;
                AnsiConsole.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                    .Start(ctx =>
                    {
                        var task = ctx.AddTask("rendering Shapes", maxValue: total);
                        result = ShapesGenerator.Generate(root, options, new SyncProgress(done => task.Value = done));
                        task.Value = total;
                    });
                var r = result!;
                AnsiConsole.MarkupLine(
                    $"wrote [bold]{r.Images}[/] images ({options.TrainImages} train, {options.TestImages} test), {r.Objects} objects " +
                    $"({r.Difficult} difficult) to [blue]{Markup.Escape(r.Root)}[/] in {r.Elapsed.TotalSeconds:F1} s: [bold]{r.ImagesPerSecond:F0} images/s[/]");
                return 0;
            }
            catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException or InvalidOperationException)
            {
                return Fail(e.Message);
            }
        });
        return command;
    }

    private static Command StatsCommand()
    {
        var dataset = new Argument<string>("dataset") { Description = "A VOC-layout directory or a COCO .json file." };
        var split = new Option<string?>("--split") { Description = "Split to read (VOC: ImageSets/Main/<split>.txt; default: every annotation)." };
        var noCheck = new Option<bool>("--no-image-check") { Description = "Do not open image headers (faster; sizes from the annotations)." };
        var verify = new Option<bool>("--verify-images") { Description = "Decode every image fully, so truncated files are found (slow)." };
        var command = new Command("stats", "Statistics of a dataset: images, objects per class, difficult/crowd counts, box size and aspect-ratio histograms.")
        {
            dataset, split, noCheck, verify,
        };
        var input = new InputOptions();
        input.AddTo(command);
        command.SetAction(parse =>
        {
            try
            {
                using var imageLimit = input.ApplyImageLimit(parse);
                var options = input.LoadOptions(parse) with
                {
                    CheckImages = !parse.GetValue(noCheck),
                    VerifyPixels = parse.GetValue(verify),
                };
                var ds = DatasetLoader.Load(parse.GetValue(dataset)!, parse.GetValue(split), options);
                DataStatsView.Print(ds, DatasetStats.Compute(ds));
                return 0;
            }
            catch (Exception e) when (CliErrors.IsInputError(e))
            {
                return Fail(e.Message);
            }
        });
        return command;
    }

    private static int Fail(string message)
    {
        AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(message)}");
        return 1;
    }

    /// <summary>An <see cref="IProgress{T}"/> that calls back on the reporting thread (no synchronisation context hop).</summary>
    private sealed class SyncProgress(Action<int> report) : IProgress<int>
    {
        private int _max;

        public void Report(int value)
        {
            // Reports arrive out of order from worker threads; keep the maximum.
            int seen;
            do
            {
                seen = Volatile.Read(ref _max);
                if (value <= seen) { return; }
            }
            while (Interlocked.CompareExchange(ref _max, value, seen) != seen);
            report(value);
        }
    }
}
