using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using FastRcnn.Data;
using FastRcnn.Distributed;
using FastRcnn.Evaluation;
using FastRcnn.IO;
using FastRcnn.Imaging;
using FastRcnn.Inference;
using FastRcnn.Modeling;
using FastRcnn.Proposals;
using FastRcnn.Training;
using FastRcnn.Runtime;
using Spectre.Console;
using static TorchSharp.torch;

namespace FastRcnn.Cli;

/// <summary>The three evaluations of one detection run.</summary>
internal sealed record EvaluationSummary(VocResult Voc07, VocResult Voc10, CocoResult Coco);

/// <summary><c>fastrcnn eval</c>: VOC07/VOC10+ AP and COCO metrics of a model on a dataset split, with every result file.</summary>
public static class EvalCommand
{
    public static Command Build()
    {
        var model = new Option<string?>("--model") { Description = "A trained model directory (needed unless --detections is given)." };
        var dataset = new Option<string>("--dataset") { Description = "A VOC-layout directory or a COCO .json file.", Required = true };
        var split = new Option<string?>("--split") { Description = "The split to evaluate (VOC: ImageSets/Main/<split>.txt)." };
        var proposals = new Option<string?>("--proposals") { Description = "Proposals: an .npz (one float32 (R,4) array per image id), 'auto' (selective search) or 'rpn' (a Faster R-CNN model's own). Default: the model's own for Faster R-CNN, else 'auto'." };
        var cacheDir = new Option<string?>("--cache-dir") { Description = "Proposal cache folder for 'auto' (default ~/.cache/fastrcnn/proposals, or $FASTRCNN_CACHE)." };
        var detections = new Option<string?>("--detections") { Description = "Evaluate a COCO-results JSON of detections instead of running the model." };
        var outDir = new Option<string?>("--out") { Description = "Where to write the results (default: <model>/eval-<split>)." };
        var scales = new TestScaleOptions();
        var precision = PrecisionOption.ForDetection();
        var command = new Command("eval", "Evaluate detections on a dataset split: PASCAL VOC AP (2007 11-point and 2010+ area) and COCO AP@[.5:.95]/AP50/AP75/AR@100.")
        {
            model, dataset, split, proposals, cacheDir, detections, outDir, precision.Option,
        };
        foreach (var option in scales.All) command.Options.Add(option);
        var engine = new EngineOptions();
        foreach (var option in engine.All) command.Options.Add(option);
        var input = new InputOptions();
        input.AddTo(command);
        command.SetAction(parse =>
        {
            try
            {
                using var imageLimit = input.ApplyImageLimit(parse);
                var ds = DatasetLoader.Load(parse.GetValue(dataset)!, parse.GetValue(split), input.LoadOptions(parse));
                DataStatsView.WarnSizeMismatches(ds);
                string splitName = parse.GetValue(split) ?? ds.Split;
                string? modelDir = parse.GetValue(model);
                string? detectionsFile = parse.GetValue(detections);
                if (modelDir is null && detectionsFile is null) throw new ArgumentException("give --model (to run detection) or --detections (a results file)");
                string output = parse.GetValue(outDir) ?? Path.Combine(modelDir ?? Path.GetDirectoryName(Path.GetFullPath(detectionsFile!))!, $"eval-{splitName}");
                using var outputLock = Distribution.IsLead ? DirectoryLock.Acquire(output) : null;   // rank 0 writes the results
                IReadOnlyList<Detection> dets;
                if (detectionsFile is not null)
                {
                    if (!Distribution.IsLead) return 0;   // nothing to share: rank 0 evaluates the file
                    dets = ResultFiles.ReadCoco(detectionsFile, ds);
                }
                else
                {
                    using var detector = Detector.Load(modelDir!, engine.Apply(parse, scales.Read(parse)) with { Precision = precision.Read(parse) ?? Precision.Fp32 });
                    var spec = parse.GetValue(proposals) is { } text ? ProposalSpec.Parse(text) : detector.NeedsProposals ? ProposalSpec.SelectiveSearch : ProposalSpec.Rpn;
                    // Selective search for 'auto' runs once: rank 0 fills the cache, the other ranks then read it.
                    if (!Distribution.IsLead) Distribution.Communicator.Barrier();
                    var source = ProposalSource(spec, detector, ds, parse.GetValue(cacheDir));
                    if (Distribution.IsLead && Distribution.IsDistributed) Distribution.Communicator.Barrier();
                    var run = Detect(detector, ds, source, output, CancellationToken.None, Distribution.Communicator);
                    if (!Distribution.IsLead) return 0;
                    dets = run.Detections;
                    AnsiConsole.MarkupLine($"detection ({detector.Precision.Name()}): {run.Times.Total.TotalMilliseconds / Math.Max(run.Images, 1):F0} ms per image " +
                        $"(proposals {run.Times.Proposals.TotalMilliseconds / Math.Max(run.Images, 1):F0} ms)");
                }
                Report(ds, splitName, dets, output);
                return 0;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException or DatasetFormatException or NotSupportedException)
            {
                AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
                return 1;
            }
        });
        return command;
    }

    /// <summary>
    /// Runs <paramref name="detector"/> over <paramref name="ds"/> with a progress bar and writes the detections
    /// as COCO results JSON (<c>detections_coco.json</c>, with the dataset's category ids) into <paramref name="output"/>.
    /// </summary>
    /// <remarks>With a <paramref name="communicator"/> of several processes each detects its share and only rank 0 writes.</remarks>
    internal static SplitDetections Detect(Detector detector, DetectionDataset ds, Func<ImageRecord, Tensor?>? proposals, string output, CancellationToken cancel,
        ICommunicator? communicator = null)
    {
        communicator ??= SingleProcess.Instance;
        SplitDetections run = null!;
        AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask($"detecting ({ds.Images.Count} images)", maxValue: ds.Images.Count);
                if (communicator.Size > 1) task.Description = $"detecting ({ds.Images.Count} images, every {communicator.Size}th on this rank)";
                run = DatasetDetection.Run(detector, ds, proposals, new Progress<int>(n => task.Value = n), cancel, communicator);
            });
        if (communicator.Rank != 0) return run;
        Directory.CreateDirectory(output);
        ResultFiles.WriteCoco(Path.Combine(output, "detections_coco.json"), run.Detections, ds.CategoryIds);
        return run;
    }

    /// <summary>Proposals of each image: a proposal file, selective search through the content-keyed cache, or none (the model's own RPN).</summary>
    private static Func<ImageRecord, Tensor?>? ProposalSource(ProposalSpec spec, Detector detector, DetectionDataset dataset, string? cacheDir)
    {
        if (spec.Kind == ProposalSpecKind.Rpn)
        {
            if (detector.NeedsProposals)
                throw new ArgumentException($"--proposals {ProposalSpec.RpnWord} needs a Faster R-CNN model; this one is {detector.Model.Architecture.Name()} (use 'auto' or a .npz file)");
            return null;
        }
        var source = spec.Open(dataset, cacheDir);
        return image => source.ProposalsFor(image.Id, image.Width, image.Height);
    }

    /// <summary>Prints the per-class table and writes metrics JSON/CSV, VOC results files and PR plots into <paramref name="output"/>.</summary>
    internal static EvaluationSummary Report(DetectionDataset ds, string split, IReadOnlyList<Detection> dets, string output)
    {
        int k = ds.NumClasses;
        var voc07 = VocEvaluator.Evaluate(ds.Images, dets, k, VocApMetric.ElevenPoint);
        var voc10 = VocEvaluator.Evaluate(ds.Images, dets, k, VocApMetric.Area);
        var coco = CocoEvaluator.Evaluate(ds.Images, dets, k);

        var table = new Table().Title($"{Markup.Escape(ds.Source)} ({Markup.Escape(split)}): {ds.Images.Count} images")
            .AddColumn("class").AddColumn(new TableColumn("objects").RightAligned()).AddColumn(new TableColumn("detections").RightAligned())
            .AddColumn(new TableColumn("AP VOC07").RightAligned()).AddColumn(new TableColumn("AP VOC10+").RightAligned()).AddColumn(new TableColumn("AP COCO").RightAligned());
        static string F(double v) => double.IsFinite(v) ? v.ToString("F3", CultureInfo.InvariantCulture) : "–";
        for (int c = 1; c <= k; c++)
            table.AddRow(Markup.Escape(ds.ClassNames[c]), voc07.Classes[c - 1].Positives.ToString(), voc07.Classes[c - 1].Detections.ToString(),
                F(voc07.Classes[c - 1].Ap), F(voc10.Classes[c - 1].Ap), F(coco.PerClassAp[c - 1]));
        table.AddRow("[bold]mean[/]", "", "", $"[bold]{F(voc07.MeanAp)}[/]", $"[bold]{F(voc10.MeanAp)}[/]", $"[bold]{F(coco.Ap)}[/]");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"COCO: AP {F(coco.Ap)}, AP50 {F(coco.Ap50)}, AP75 {F(coco.Ap75)}, AR@100 {F(coco.Ar100)}");

        ResultFiles.WriteSummaryJson(Path.Combine(output, "metrics.json"), ds.ClassNames, voc07, voc10, coco,
            new JsonObject { ["dataset"] = ds.Source, ["split"] = split, ["images"] = ds.Images.Count, ["detections"] = dets.Count });
        ResultFiles.WriteSummaryCsv(Path.Combine(output, "metrics.csv"), ds.ClassNames, voc07, voc10, coco);
        ResultFiles.WriteVoc(Path.Combine(output, "voc_results"), split, ds.ClassNames, dets);
        var curves = voc10.Classes.Where(c => c.Detections > 0 && c.Positives > 0)
            .Select(c => new ChartSeries(ds.ClassNames[c.ClassIndex], c.Recall, c.Precision)).ToList();
        var chart = new LineChart($"precision–recall, {split} (mAP VOC07 {F(voc07.MeanAp)})", "recall", "precision");
        chart.WritePng(Path.Combine(output, "pr_all.png"), curves);
        foreach (var curve in curves)
            (chart with { Title = $"{curve.Name}: AP VOC07 {F(voc07.Classes[ds.ClassIndexOf(curve.Name) - 1].Ap)}" })
                .WritePng(Path.Combine(output, $"pr_{curve.Name}.png"), [curve]);
        AnsiConsole.MarkupLine($"wrote metrics.json, metrics.csv, voc_results/, pr_*.png to {Markup.Escape(output)}");
        return new EvaluationSummary(voc07, voc10, coco);
    }
}
