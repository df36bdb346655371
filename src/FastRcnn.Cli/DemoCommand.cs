using System.CommandLine;
using System.Diagnostics;
using FastRcnn.Compression;
using FastRcnn.Data;
using FastRcnn.Inference;
using FastRcnn.Modeling;
using FastRcnn.Modeling.Backbones;
using FastRcnn.Pretraining;
using FastRcnn.Proposals;
using FastRcnn.Training;
using Spectre.Console;

namespace FastRcnn.Cli;

/// <summary>
/// The sizes of one demo run: the Shapes splits, the training schedule, the SVD ranks of the small
/// backbone's fc6 (6400 → 512; the paper's 1/4 of the outputs) and fc7 (512 → 512), how many test images the
/// report shows, and the test-time pyramid (<see cref="Detection"/>).
/// </summary>
public sealed record DemoSettings(int TrainImages, int TestImages, int Iterations, IReadOnlyList<int> LearningRateSteps,
    int Fc6Rank, int Fc7Rank, int SampleImages)
{
    /// <summary>The full demo: about 7 minutes on a quiet 2-core machine (computing the proposals included).</summary>
    public static DemoSettings Full { get; } = new(600, 100, 3000, [2250], 128, 64, 6);

    /// <summary>The smoke test (<c>--quick</c>): the same steps on a few images, under 2 minutes.</summary>
    public static DemoSettings Quick { get; } = new(24, 12, 120, [90], 128, 64, 3);

    /// <summary>
    /// Multi-scale testing (SPEC §6) at s ∈ {400, 600, 800, 1000}: the network trains at s = 400, where the
    /// smallest Shapes objects cover one or two feature cells; each RoI is pooled from the level where its side
    /// is closest to 96 px, about the size of the objects the small network was pre-trained on (48–112 px
    /// crops) — the role 224, ImageNet's input, plays for the paper's networks. Chosen on a held-out Shapes
    /// set (seed 1000), not on the demo's test split: docs/pretraining.md.
    /// </summary>
    public DetectorOptions Detection { get; init; } = new([400, 600, 800, 1000], MaxSize: 1333, CanonicalRoiSize: 96);
}

/// <summary>
/// <c>fastrcnn demo</c>: the whole paper in one command — generate Shapes, selective search (cached),
/// train the small backbone, evaluate (VOC07, VOC10+, COCO), compress fc6/fc7 by truncated SVD and evaluate
/// again, then write a self-contained HTML report.
/// </summary>
public static class DemoCommand
{
    public static Command Build()
    {
        var outDir = new Option<string>("--out") { Description = "Output folder: shapes/, model/, model-svd/, eval/, eval-svd/, report.html.", DefaultValueFactory = _ => "demo" };
        var quick = new Option<bool>("--quick") { Description = "A reduced run (24 train / 12 test images, 120 iterations) for smoke tests: under 2 minutes." };
        var seed = new Option<int>("--seed") { Description = "Seed of the dataset and of training.", DefaultValueFactory = _ => 0 };
        var iters = new Option<int?>("--iters") { Description = "Training iterations (default 3000; --quick 120)." };
        var cacheDir = new Option<string?>("--cache-dir") { Description = "Proposal cache folder (default ~/.cache/fastrcnn/proposals, or $FASTRCNN_CACHE)." };
        var fromScratch = new Option<bool>("--from-scratch") { Description = "Start from random weights instead of the built-in small-shapesnet pre-training (the paper always fine-tunes a pre-trained network)." };
        var architecture = new Option<string?>("--architecture") { Description = "fast-rcnn (default: the paper's, with selective search) or faster-rcnn (a region proposal network instead)." };
        var schedule = new Option<string?>("--schedule") { Description = "faster-rcnn: joint (default) or alternating (the paper's 4 steps: RPN, Fast R-CNN, RPN, Fast R-CNN head)." };
        var command = new Command("demo", "Run the whole system on the built-in Shapes benchmark: data, proposals, training, evaluation, SVD compression, HTML report.")
        {
            outDir, quick, seed, iters, cacheDir, fromScratch, architecture, schedule,
        };
        command.SetAction((parse, cancel) =>
        {
            try
            {
                var settings = parse.GetValue(quick) ? DemoSettings.Quick : DemoSettings.Full;
                if (parse.GetValue(iters) is { } n)
                {
                    if (n < 1) throw new ArgumentException("--iters must be ≥ 1");
                    settings = settings with { Iterations = n, LearningRateSteps = [(int)Math.Round(n * 0.75)] };
                }
                string? weights = parse.GetValue(fromScratch) ? null : BuiltinWeights.Resolve(BuiltinWeights.SmallShapesNet);
                var arch = parse.GetValue(architecture) is { } a ? DetectorArchitectures.Parse(a) : DetectorArchitecture.FastRcnn;
                var plan = parse.GetValue(schedule) is { } s
                    ? Enum.TryParse<TrainingSchedule>(s, ignoreCase: true, out var parsed) ? parsed : throw new ArgumentException($"--schedule must be joint or alternating, got '{s}'")
                    : TrainingSchedule.Joint;
                if (arch.UsesSvmStage())
                    throw new ArgumentException($"the demo runs fast-rcnn or faster-rcnn; train {arch.Name()} with 'fastrcnn train --architecture {arch.Name()}'");
                if (plan == TrainingSchedule.Alternating && arch != DetectorArchitecture.FasterRcnn)
                    throw new ArgumentException("--schedule alternating is for --architecture faster-rcnn");
                return Task.FromResult(Run(Path.GetFullPath(parse.GetValue(outDir)!), settings, parse.GetValue(seed), weights, parse.GetValue(cacheDir), arch, plan, cancel));
            }
            catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException or DatasetFormatException)
            {
                AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
                return Task.FromResult(1);
            }
        });
        return command;
    }

    private static int Run(string root, DemoSettings settings, int seed, string? weights, string? cacheDir, DetectorArchitecture architecture,
        TrainingSchedule schedule, CancellationToken cancel)
    {
        bool faster = architecture == DetectorArchitecture.FasterRcnn;
        var clock = Stopwatch.StartNew();
        var report = new DemoReport { Settings = settings, Seed = seed, ClassNames = ShapesGenerator.ClassNames };
        using var outputLock = FastRcnn.IO.DirectoryLock.Acquire(root);

        // 1. data
        string data = Path.Combine(root, "shapes");
        var shapes = new ShapesOptions { TrainImages = settings.TrainImages, TestImages = settings.TestImages, Seed = seed, Overwrite = true };
        Step(report, "Shapes dataset", () =>
        {
            if (ShapesGenerator.IsGenerated(data, shapes)) return $"{data} (already there)";
            var r = ShapesGenerator.Generate(data, shapes, cancel: cancel);
            return $"{r.Images} images, {r.Objects} objects in {r.Elapsed.TotalSeconds:F1} s";
        });
        var train = DatasetLoader.Load(data, "train");
        var test = DatasetLoader.Load(data, "test");

        // 2. proposals (Faster R-CNN's come from its own RPN)
        PrecomputedProposals? trainProposals = null, testProposals = null;
        if (!faster) Step(report, "Selective search", () =>
        {
            trainProposals = TrainCommand.OpenProposals(ProposalSpec.SelectiveSearch, train, cacheDir, "train", cancel);
            testProposals = TrainCommand.OpenProposals(ProposalSpec.SelectiveSearch, test, cacheDir, "test", cancel);
            return $"{train.Images.Count + test.Images.Count} images";
        });

        // 3. training
        string modelDir = Path.Combine(root, "model");
        var options = (TrainingOptions.ShapesSmall with
        {
            Dataset = data, Split = "train", Proposals = faster ? ProposalSpec.RpnWord : ProposalSpec.Auto, Seed = seed, Weights = weights,
            Architecture = architecture, Schedule = schedule,
            // Alternating: each RPN step as long as each detector step, the last two (shared convs frozen) half as long.
            AlternatingIterations = schedule == TrainingSchedule.Alternating
                ? [settings.Iterations, settings.Iterations, settings.Iterations / 2, settings.Iterations / 2] : null,
            // From pre-trained weights conv1 stays fixed, as the paper keeps the first convolution of its S and M networks.
            FrozenPrefixes = weights is null ? null : BackboneSpec.FeaturesUpTo(1),
            // Background RoIs from [0, 0.5) instead of the paper's [0.1, 0.5): Shapes scatters distractor blobs far from
            // any object, which the 0.1 floor never shows the classifier (VOC07 0.763 → 0.779, docs/pretraining.md).
            BackgroundIoULow = 0,
            // Shapes are drawn at any angle and in any colour, so every channel order — and, with WithAnyOrientation below,
            // every 90° rotation and mirror image — is another valid training image; the paper's left–right flip alone
            // leaves 600 images overfitted (docs/pretraining.md).
            PermuteChannels = true,
            Iterations = settings.Iterations, LearningRateSteps = settings.LearningRateSteps,
            CheckpointEvery = Math.Max(100, settings.Iterations / 3),
        }).WithAnyOrientation();
        report.Training = options;
        TrainingResult trained = null!;
        Step(report, "Training", () =>
        {
            if (Directory.Exists(modelDir)) Directory.Delete(modelDir, recursive: true);
            if (schedule == TrainingSchedule.Alternating) return TrainAlternating(report, options, train, weights, modelDir, cancel, out trained);
            using var model = options.CreateModel(train.NumClasses);
            string start = "random weights";
            if (weights is not null)
            {
                var import = BackboneWeights.ImportTorchvision(model, weights);
                if (!import.IsComplete) throw new InvalidDataException($"{weights}: the built-in weights do not fit the small backbone: {import}");
                start = $"{Path.GetFileNameWithoutExtension(weights)} ({import.Loaded.Count} tensors)";
                report.StartWeights = Path.GetFileNameWithoutExtension(weights);
            }
            using var trainer = new Trainer(model, train, (IProposalSource?)trainProposals ?? EmptyProposals.Instance, options, modelDir);
            trained = TrainingProgressView.Run(trainer, cancel);
            report.Losses = trainer.Log.Steps;
            return $"{trained.Iterations} iterations from {start} in {trained.Seconds:F0} s ({trained.Iterations / Math.Max(trained.Seconds, 1e-9):F1} it/s)";
        });
        if (trained.Cancelled) return 130;

        // 4. evaluation
        report.Dense = Evaluate(report, "Evaluation", modelDir, Path.Combine(root, "eval"), test, testProposals, settings.Detection, cancel);

        // 5. compression
        string svdDir = Path.Combine(root, "model-svd");
        Step(report, "Truncated SVD", () =>
        {
            var svd = new SvdCompressionOptions { Fc6 = LayerTruncation.ToRank(settings.Fc6Rank), Fc7 = LayerTruncation.ToRank(settings.Fc7Rank) };
            report.Compression = ModelCompression.CompressDirectory(modelDir, svdDir, svd);
            return string.Join(", ", report.Compression.Layers.Select(l => $"{l.Name} rank {l.Rank} ({l.KeptEnergyFraction:P1} energy)"));
        });
        report.Compressed = Evaluate(report, "Evaluation after SVD", svdDir, Path.Combine(root, "eval-svd"), test, testProposals, settings.Detection, cancel);

        // 6. report
        string html = Path.Combine(root, "report.html");
        Step(report, "HTML report", () =>
        {
            using var detector = Detector.Load(modelDir, settings.Detection);
            report.Samples = test.Images.Take(settings.SampleImages)
                .Select(image =>
                {
                    using var scope = TorchSharp.torch.NewDisposeScope();
                    return DemoReport.Sample(detector, image, testProposals?.ProposalsFor(image.Id, image.Width, image.Height));
                })
                .ToList();
            report.TotalSeconds = clock.Elapsed.TotalSeconds;
            report.Write(html);
            return html;
        });

        AnsiConsole.MarkupLine($"[bold]demo done in {clock.Elapsed.TotalMinutes:F1} min[/]: VOC07 mAP {report.Dense!.Summary.Voc07.MeanAp:F3} " +
            $"(after SVD {report.Compressed!.Summary.Voc07.MeanAp:F3}), COCO AP {report.Dense.Summary.Coco.Ap:F3}; report: {Markup.Escape(html)}");
        return 0;
    }

    private static DemoEvaluation Evaluate(DemoReport report, string title, string modelDir, string outDir, DetectionDataset test,
        PrecomputedProposals? proposals, DetectorOptions detection, CancellationToken cancel)
    {
        DemoEvaluation result = null!;
        Step(report, title, () =>
        {
            using var detector = Detector.Load(modelDir, detection);
            Func<ImageRecord, TorchSharp.torch.Tensor?>? proposalsFor = proposals is null ? null : image => proposals.ProposalsFor(image.Id, image.Width, image.Height);
            var run = EvalCommand.Detect(detector, test, proposalsFor, outDir, cancel);
            var summary = EvalCommand.Report(test, "test", run.Detections, outDir);
            result = new DemoEvaluation(modelDir, outDir, summary, run.Times, run.Images);
            return $"VOC07 mAP {summary.Voc07.MeanAp:F3}, {run.Times.Total.TotalMilliseconds / Math.Max(1, run.Images):F0} ms per image";
        });
        return result;
    }

    /// <summary>Faster R-CNN's 4-step alternating training into <paramref name="modelDir"/> (steps in its subfolders).</summary>
    private static string TrainAlternating(DemoReport report, TrainingOptions options, DetectionDataset train, string? weights, string modelDir,
        CancellationToken cancel, out TrainingResult trained)
    {
        var training = new AlternatingTraining(train, options, modelDir, weights is null ? null : m => BackboneWeights.ImportTorchvision(m, weights));
        var logs = new List<TrainingStep>();
        training.RunStep = (step, token) =>
        {
            AnsiConsole.MarkupLine($"[bold]step {step.Step}/4[/] {Markup.Escape(step.Description)}");
            var result = TrainingProgressView.Run(step.Trainer, token);
            long offset = logs.Count == 0 ? 0 : logs[^1].Iteration;
            logs.AddRange(step.Trainer.Log.Steps.Select(s => s with { Iteration = s.Iteration + offset }));
            return result;
        };
        var result = training.Run(cancel);
        using var model = result.Model;
        report.Losses = logs;
        report.StartWeights = weights is null ? null : Path.GetFileNameWithoutExtension(weights);
        double seconds = result.Steps.Sum(s => s.Seconds);
        int iterations = (int)result.Steps.Sum(s => s.Iterations);
        trained = new TrainingResult(iterations, result.Cancelled, double.NaN, 0, 0, 0, seconds, result.ModelDirectory, null);
        return $"4 steps, {string.Join(" + ", Enumerable.Range(1, 4).Select(training.IterationsOf))} iterations in {seconds:F0} s";
    }

    private static void Step(DemoReport report, string name, Func<string> action)
    {
        AnsiConsole.Write(new Rule($"[bold]{Markup.Escape(name)}[/]").LeftJustified());
        var clock = Stopwatch.StartNew();
        string outcome = action();
        report.Steps.Add(new DemoStep(name, clock.Elapsed.TotalSeconds, outcome));
        AnsiConsole.MarkupLine($"[green]{Markup.Escape(name)}[/]: {Markup.Escape(outcome)} [grey]({clock.Elapsed.TotalSeconds:F1} s)[/]");
    }
}
