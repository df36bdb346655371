using System.CommandLine;
using System.Globalization;
using FastRcnn.Data;
using FastRcnn.IO;
using FastRcnn.Imaging;
using FastRcnn.Modeling;
using FastRcnn.Modeling.Backbones;
using FastRcnn.Pretraining;
using FastRcnn.Proposals;
using FastRcnn.Runtime;
using FastRcnn.Training;
using Spectre.Console;

namespace FastRcnn.Cli;

/// <summary>
/// <c>fastrcnn train</c>: Fast R-CNN training (SPEC §5) of a VOC or COCO dataset with precomputed (.npz) or
/// selective-search proposals. Option values come from, in increasing priority: the defaults of the backbone
/// (<see cref="TrainingOptions.DefaultsFor"/>: the paper's, or for the default <c>small</c> one <see cref="TrainingOptions.ShapesSmall"/>), <c>--config</c>,
/// or with <c>--resume</c> the checkpoint's configuration, then the options given on the command line.
/// </summary>
public static class TrainCommand
{
    private sealed record Args
    {
        public required Option<string?> Dataset, Split, ValSplit, Proposals, CacheDir, Backbone, Weights, Config, Resume, Architecture, Schedule;
        public required Option<string> Out;
        public required Option<int?> Iters, MaxSize, Seed, CheckpointEvery, ValidateEvery, ImagesPerBatch, RoisPerImage, Threads;
        public required Option<double?> Lr, Gamma, Flip, Momentum, WeightDecay;
        public required Option<int[]?> Steps, Scales, AlternatingIters;
        public required Option<bool> MultiScale, AnyOrientation, PermuteChannels, NoPrefetch, Force;
        public required Option<bool> AllowPartialWeights, ScaleLr;
        public required InputOptions Input;
        public required Option<bool?> RetainMemory;
        public required PrecisionOption Precision;
    }

    public static Command Build()
    {
        var a = new Args
        {
            Dataset = new("--dataset") { Description = "A VOC-layout directory or a COCO .json file." },
            Split = new("--split") { Description = "Split to train on (VOC: ImageSets/Main/<split>.txt; default: every annotation)." },
            ValSplit = new("--val-split") { Description = "Split for periodic validation (RoI accuracy and loss; with --validate-every)." },
            Proposals = new("--proposals") { Description = "An .npz with one float32 (R,4) x1,y1,x2,y2 array per image id (original pixels), or 'auto' (selective search, fast mode). Not used by faster-rcnn (its RPN proposes)." },
            Architecture = new("--architecture") { Description = "fast-rcnn (default; external proposals), faster-rcnn (a region proposal network on the shared features), rcnn (warped regions through the whole network, then feature cache, SVMs and box regressors; 128-window batches: 4 images × 32, 25% foreground, background IoU [0, 0.5)) or sppnet (spatial pyramid pooling over conv features at five scales, fc layers fine-tuned with the conv layers frozen, then feature cache, SVMs and box regressors)." },
            Schedule = new("--schedule") { Description = "faster-rcnn: joint (approximate joint training, default) or alternating (the paper's 4 steps)." },
            AlternatingIters = new("--alternating-iters") { Description = "faster-rcnn alternating: iterations of the 4 steps (default: --iters each).", AllowMultipleArgumentsPerToken = true },
            CacheDir = new("--cache-dir") { Description = "Proposal cache folder for 'auto' (default ~/.cache/fastrcnn/proposals, or $FASTRCNN_CACHE)." },
            Backbone = new("--backbone") { Description = $"Backbone: {string.Join(", ", BackboneFactory.Names)} (default small, with the Shapes settings: scale 400, max size 666, lr 0.01, 6000 iterations)." },
            Weights = new("--weights") { Description = "Pre-trained weights for the trunk and fc6/fc7: a .safetensors file or a PyTorch .pth state dict with torchvision names (ImageNet), or 'small-shapesnet' (built in: the small backbone pre-trained on Shapes crops)." },
            Input = new(),
            AllowPartialWeights = new("--allow-partial-weights")
            {
                Description = $"Train from --weights that set less than {100 * WeightImportReport.DefaultMinTrunkShare:F0}% of the trunk's tensors " +
                    "(the rest keep their random start); without it such weights, usually made for another backbone, are refused.",
            },
            Config = new("--config") { Description = "A JSON file of training options (snake_case, as training_config.json); command-line options override it." },
            Resume = new("--resume") { Description = "Continue from a checkpoint file, or the newest checkpoint of a run directory." },
            Out = new("--out") { Description = "Output directory: model.safetensors, model.json, checkpoints/, loss_log.csv.", Required = true },
            Iters = new("--iters") { Description = "SGD iterations (paper: 40000)." },
            MaxSize = new("--max-size") { Description = "Cap on the longer side after scaling (paper: 1000; 2000 multi-scale)." },
            Seed = new("--seed") { Description = "Seed of everything (weights, data order, flips, scales, RoI sampling, dropout)." },
            CheckpointEvery = new("--checkpoint-every") { Description = "Write a checkpoint every N iterations (0: only at the end)." },
            ValidateEvery = new("--validate-every") { Description = "Validate on --val-split every N iterations." },
            ImagesPerBatch = new("--images-per-batch") { Description = "N, images per mini-batch (paper: 2); under mpiexec -n P, per process (global batch P·N)." },
            ScaleLr = new("--scale-lr") { Description = "Under mpiexec -n P: multiply the learning rate by P (the linear scaling rule for the P-times larger global batch)." },
            RoisPerImage = new("--rois-per-image") { Description = "RoIs sampled per image (paper: 64)." },
            Threads = new("--threads") { Description = "CPU threads (default: all processors)." },
            Lr = new("--lr") { Description = "Base learning rate (paper: 0.001; biases 2×)." },
            Gamma = new("--gamma") { Description = "Learning-rate factor at each step (paper: 0.1)." },
            Flip = new("--flip") { Description = "Horizontal-flip probability (paper: 0.5)." },
            AnyOrientation = new("--any-orientation")
            {
                Description = "Also transpose and flip top–bottom, each with p = 0.5 (and left–right at 0.5): all 8 rotations and mirror images, " +
                    "for objects seen at any angle (aerial, microscope, Shapes). The paper flips left–right only.",
            },
            PermuteChannels = new("--permute-channels") { Description = "Reorder each image's R, G, B channels at random: for classes that colour does not define (Shapes)." },
            Momentum = new("--momentum") { Description = "SGD momentum (paper: 0.9)." },
            WeightDecay = new("--weight-decay") { Description = "Weight decay (paper: 0.0005)." },
            Steps = new("--step") { Description = "Iterations after which the rate is multiplied by --gamma (paper: 30000).", AllowMultipleArgumentsPerToken = true },
            Scales = new("--scale") { Description = "Shorter side(s) s; one is drawn per image (paper: 600).", AllowMultipleArgumentsPerToken = true },
            MultiScale = new("--multi-scale") { Description = "The paper's multi-scale training: s ∈ {480, 576, 688, 864, 1200}, max size 2000." },
            NoPrefetch = new("--no-prefetch") { Description = "Load mini-batches on the training thread." },
            Force = new("--force") { Description = "Start a new run in an --out directory that already holds one." },
            Precision = new PrecisionOption("Box head (fc6, fc7) arithmetic: fp32 (default) or bf16, mixed precision (bfloat16 products, " +
                "float32 master weights, optimizer state, loss and checkpoints; a run resumes in either setting); auto: bf16 where the CPU has avx512_bf16 or amx_bf16 and its products measure faster."),
            RetainMemory = new("--retain-freed-memory")
            {
                Description = "true: keep freed native memory in the process (less kernel time per iteration, but heap fragmentation raises the peak: VGG16 +0.7 GB); " +
                    "false: return it (glibc's default). Default: true for the small backbone, false for the ImageNet-sized ones.",
            },
        };
        var command = new Command("train", "Train a Fast R-CNN detector (single-stage, multi-task loss, SGD; SPEC §5), or a Faster R-CNN one (--architecture faster-rcnn).")
        {
            a.Dataset, a.Split, a.ValSplit, a.Proposals, a.Architecture, a.Schedule, a.AlternatingIters, a.CacheDir, a.Backbone, a.Weights, a.AllowPartialWeights, a.Config, a.Resume, a.Out, a.Iters, a.Lr, a.Steps, a.Gamma,
            a.Scales, a.MaxSize, a.MultiScale, a.Flip, a.AnyOrientation, a.PermuteChannels, a.ImagesPerBatch, a.RoisPerImage, a.Momentum, a.WeightDecay, a.Seed,
            a.CheckpointEvery, a.ValidateEvery, a.Threads, a.NoPrefetch, a.Force, a.RetainMemory, a.ScaleLr, a.Precision.Option,
        };
        a.Input.AddTo(command);
        command.SetAction((parse, cancel) => Task.FromResult(Run(parse, a, cancel)));
        return command;
    }

    private static int Run(ParseResult parse, Args a, CancellationToken cancel)
    {
        using var interrupt = InterruptSignals.Listen(cancel);   // Ctrl+C / SIGTERM: finish the iteration, checkpoint, exit 130 / 143
        cancel = interrupt.Token;
        try
        {
            using var imageLimit = a.Input.ApplyImageLimit(parse);
            if (parse.GetValue(a.Threads) is { } threads) CpuRuntime.SetThreads(threads > 0 ? threads : Environment.ProcessorCount);
            // Retained freed memory saves the kernel's page faults (VGG16: ~3 s of CPU per iteration) but fragments
            // the heap: VGG16's peak would pass PyTorch's, so large backbones release it (docs/benchmarks.md).
            string outDir = Path.GetFullPath(parse.GetValue(a.Out)!);
            if (parse.GetValue(a.Resume) is { } run && AlternatingTrainView.IsAlternatingRun(run)) return AlternatingTrainView.Resume(run, interrupt, cancel);
            TrainingCheckpoint? checkpoint = parse.GetValue(a.Resume) is { } resume ? TrainingCheckpoint.Read(ResolveCheckpoint(resume)) : null;
            var options = ResolveOptions(parse, a, checkpoint);
            var communicator = Distribution.Communicator;
            if (parse.GetValue(a.ScaleLr))
            {
                if (checkpoint is not null) throw new ArgumentException("--scale-lr is not for --resume: the checkpoint's learning rate is already the run's.");
                options = options with { LearningRate = options.LearningRate * communicator.Size };
            }
            // Rank 0 writes the run (and locks --out); the other ranks write nothing.
            using var outputLock = Distribution.IsLead ? DirectoryLock.Acquire(outDir) : null;
            if (checkpoint is null && Distribution.IsLead) CheckFreshOutput(outDir, parse.GetValue(a.Force));
            if (Distribution.IsDistributed && options.Architecture.UsesSvmStage())
                throw new ArgumentException("R-CNN's SVM stage runs in one process; under mpiexec train fast-rcnn or faster-rcnn (joint).");
            CpuRuntime.RetainFreedMemory(parse.GetValue(a.RetainMemory) ?? BackboneFactory.Spec(options.Backbone).Name == "small");

            string datasetPath = options.Dataset ?? throw new ArgumentException("--dataset is required (or \"dataset\" in --config).");
            var proposalSpec = options.Architecture.ProposesRegions()
                ? ProposalSpec.Rpn
                : ProposalSpec.Parse(options.Proposals ?? throw new ArgumentException("--proposals is required: an .npz file or 'auto'."));
            var dataset = DatasetLoader.Load(datasetPath, options.Split, a.Input.LoadOptions(parse));
            if (dataset.Images.Count == 0)
                throw new ArgumentException($"{dataset.Source}: split '{options.Split ?? "(all)"}' has no images.");
            AnsiConsole.MarkupLine($"dataset [blue]{Markup.Escape(dataset.Source)}[/] split [bold]{Markup.Escape(dataset.Split)}[/]: " +
                $"{dataset.Images.Count} images, {dataset.NumObjects} objects, {dataset.NumClasses} classes");
            DataStatsView.WarnSizeMismatches(dataset);
            options.CheckImageSizes(dataset.Images);
            if (options.Architecture.ProposesRegions() && options.Schedule == TrainingSchedule.Alternating)
            {
                if (Distribution.IsDistributed) throw new ArgumentException("the alternating schedule runs in one process; under mpiexec use --schedule joint.");
                return AlternatingTrainView.Run(dataset, options, outDir, resumed: false, interrupt, cancel);
            }
            // Selective search for 'auto' runs once: rank 0 fills the cache, the other ranks then read it.
            if (!Distribution.IsLead) communicator.Barrier();
            IProposalSource proposals = proposalSpec.IsExternal ? OpenProposals(proposalSpec, dataset, parse.GetValue(a.CacheDir), "training", cancel) : EmptyProposals.Instance;
            if (Distribution.IsLead && Distribution.IsDistributed) communicator.Barrier();

            using var model = options.CreateModel(dataset.NumClasses);
            if (checkpoint is null && options.Weights is { } weights)
            {
                var report = BackboneWeights.ImportTorchvision(model, weights);
                AnsiConsole.MarkupLine($"weights [blue]{Markup.Escape(weights)}[/]: loaded {report.Loaded.Count} tensors" +
                    (report.IsComplete ? "" : $", [yellow]{report.Missing.Count} missing, {report.ShapeMismatches.Count} of another shape[/]") +
                    (report.Unexpected.Count > 0 ? $", {report.Unexpected.Count} unused" : ""));
                CheckTrunkShare(report, options.Backbone, parse.GetValue(a.AllowPartialWeights));
            }
            using var trainer = new Trainer(model, dataset, proposals, options, Distribution.IsLead ? outDir : null, communicator);
            if (checkpoint is not null)
            {
                using (checkpoint) trainer.Restore(checkpoint);
                AnsiConsole.MarkupLine($"resumed from [blue]{Markup.Escape(checkpoint.Path)}[/] at iteration {checkpoint.Iteration}");
            }
            AttachValidation(parse, a, trainer, options, cancel);
            if (trainer.Sampler.FilteredImages > 0)
                AnsiConsole.MarkupLine($"[yellow]left out (no trainable object): {trainer.Sampler.FilteredImages} of {dataset.Images.Count} images[/]");
            string schedule = string.Create(CultureInfo.InvariantCulture,
                $"for {options.Iterations} iterations, seed {options.Seed}, scales [{string.Join(", ", options.Scales)}] max {options.MaxSize}, " +
                $"lr {options.LearningRate} (×{options.LearningRateGamma} after [{string.Join(", ", options.LearningRateSteps)}]), {options.DescribeAugmentation()}");
            AnsiConsole.MarkupLine($"training [bold]{Markup.Escape(options.Architecture.Name())} {Markup.Escape(options.Backbone)}[/] {Markup.Escape(schedule)} → [blue]{Markup.Escape(outDir)}[/]");
            if (Distribution.IsDistributed)
                AnsiConsole.MarkupLine($"data-parallel: {communicator.Size} processes × {options.ImagesPerBatch} images = {communicator.Size * options.ImagesPerBatch} images per global batch");

            var result = Distribution.IsLead ? TrainingProgressView.Run(trainer, cancel) : trainer.Run(cancel);
            int stepsRun = trainer.Log.Steps.Count(s => s.Iteration > (checkpoint?.Iteration ?? 0));
            if (Distribution.IsDistributed && stepsRun > 0)
                AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
                    $"allreduce: {trainer.AllReduceBytes / 1e6:F1} MB per iteration, {1000 * trainer.AllReduceSeconds / stepsRun:F1} ms per iteration on average " +
                    $"(and {1000 * trainer.WaitSeconds / stepsRun:F1} ms waiting for the slowest rank)"));
            if (result.Cancelled)
            {
                AnsiConsole.MarkupLine($"[yellow]stopped at iteration {result.Iterations}[/], checkpoint [blue]{Markup.Escape(result.LastCheckpoint ?? "(none)")}[/]; " +
                    $"resume with: {Markup.Escape(ResumeCommandLine(parse, a, outDir))}");
                return interrupt.ExitCode;
            }
            AnsiConsole.MarkupLine($"done: {result.Iterations} iterations in {result.Seconds:F0} s, final loss {result.FinalLoss:F3}" +
                (result.SkippedImages > 0 ? $", {result.SkippedImages} batch images without RoIs skipped" : "") +
                $"; model in [blue]{Markup.Escape(outDir)}[/]");
            if (options.Architecture.UsesSvmStage()) RunSvmStage(model, dataset, proposals, options, outDir, cancel);
            return 0;
        }
        catch (TrainingDivergedException e)
        {
            return Fail(e.Message);
        }
        catch (Exception e) when (e is ArgumentException or DatasetFormatException or InvalidDataException or IOException
            or UnauthorizedAccessException or ImageDecodeException or KeyNotFoundException)
        {
            return Fail(e.Message);
        }
        catch (OperationCanceledException)
        {
            Fail("interrupted before training began; nothing to resume");
            return interrupt.ExitCode;
        }
    }

    /// <summary>R-CNN's stages after fine-tuning (<see cref="SvmStageTraining"/>): feature cache, SVMs, box regressors; the model is saved again with them.</summary>
    private static void RunSvmStage(Modeling.TwoStageModel model, DetectionDataset dataset, IProposalSource proposals, TrainingOptions options,
        string outDir, CancellationToken cancel)
    {
        SvmStageTrainingResult? result = null;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var features = ctx.AddTask("caching features (fc7, pool5)", maxValue: dataset.Images.Count);
                var svms = ctx.AddTask("SVMs with hard-negative mining", maxValue: dataset.Images.Count);
                var progress = new Progress<SvmStageProgress>(p =>
                {
                    var task = p.Step == "features" ? features : svms;
                    task.MaxValue = Math.Max(p.Total, 1);
                    task.Value = Math.Max(task.Value, p.Done);
                });
                result = SvmStageTraining.Run(model, dataset, proposals, options, outDir, progress: progress, cancellation: cancel);
                features.Value = features.MaxValue;
                svms.Value = svms.MaxValue;
            });
        var r = result!;
        AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"feature cache: {r.Cache.Count} images, {r.Cache.TotalBytes / 1e6:F1} MB in [blue]{Markup.Escape(r.Cache.Directory)}[/] ({r.CacheTime.TotalSeconds:F0} s); " +
            $"SVMs {r.Report.SvmTime.TotalSeconds:F1} s ({r.Report.Svms.Sum(s => s.Negatives)} hard negatives), box regressors {r.Report.RegressionTime.TotalSeconds:F1} s; " +
            $"model with its SVM stage in [blue]{Markup.Escape(outDir)}[/]"));
    }

    /// <summary>The command that continues an interrupted run: <c>fastrcnn train --resume OUT --out OUT</c> and the options a checkpoint does not hold.</summary>
    private static string ResumeCommandLine(ParseResult parse, Args a, string outDir)
    {
        static string Quote(string s) => s.Length > 0 && s.All(c => char.IsLetterOrDigit(c) || "/._-+=:,@%".Contains(c)) ? s : "'" + s.Replace("'", "'\\''") + "'";
        var words = new List<string> { "fastrcnn", "train", "--resume", outDir, "--out", outDir };
        if (parse.GetValue(a.ValSplit) is { } val) words.AddRange(["--val-split", val]);
        if (parse.GetValue(a.CacheDir) is { } cache) words.AddRange(["--cache-dir", Path.GetFullPath(cache)]);
        if (parse.GetValue(a.Threads) is { } threads) words.AddRange(["--threads", threads.ToString(CultureInfo.InvariantCulture)]);
        if (parse.GetValue(a.RetainMemory) is { } retain) words.AddRange(["--retain-freed-memory", retain ? "true" : "false"]);
        return string.Join(' ', words.Select(Quote));
    }

    /// <summary>Defaults, then the config file or the checkpoint's options, then explicit command-line options.</summary>
    private static TrainingOptions ResolveOptions(ParseResult parse, Args a, TrainingCheckpoint? checkpoint)
    {
        string? backbone = parse.GetValue(a.Backbone);
        string? config = parse.GetValue(a.Config);
        if (checkpoint is not null && config is not null)
            throw new ArgumentException("--resume continues with the checkpoint's configuration; --config cannot be combined with it.");
        var o = checkpoint?.Options ?? (config is not null ? TrainingConfig.Load(config, backbone) : TrainingOptions.DefaultsFor(backbone));
        var resumed = o;
        if (backbone is not null) o = o with { Backbone = backbone };
        if (parse.GetValue(a.Dataset) is { } dataset) o = o with { Dataset = Path.GetFullPath(dataset) };
        if (parse.GetValue(a.Split) is { } split) o = o with { Split = split };
        if (parse.GetValue(a.Architecture) is { } architecture)
        {
            o = o with { Architecture = DetectorArchitectures.Parse(architecture) };
            // R-CNN's own fine-tuning batches, unless a config or checkpoint says otherwise (explicit flags below still do).
            if (o.Architecture == DetectorArchitecture.Rcnn && checkpoint is null && config is null) o = o.WithRcnnFineTuning();
        }
        if (parse.GetValue(a.Schedule) is { } schedule)
            o = o with { Schedule = Enum.TryParse<TrainingSchedule>(schedule, ignoreCase: true, out var s) ? s : throw new ArgumentException($"--schedule must be joint or alternating, got '{schedule}'.") };
        if (parse.GetValue(a.AlternatingIters) is { Length: > 0 } alternating) o = o with { AlternatingIterations = alternating };
        if (parse.GetValue(a.Proposals) is { } proposals)
            o = o with { Proposals = ProposalSpec.Parse(proposals).ToString() };
        if (parse.GetValue(a.Weights) is { } weights) o = o with { Weights = Path.GetFullPath(BuiltinWeights.Resolve(weights)) };
        if (parse.GetValue(a.MultiScale)) o = o with { Scales = TrainingOptions.MultiScaleSides, MaxSize = 2000 };
        if (parse.GetValue(a.Scales) is { Length: > 0 } scales) o = o with { Scales = scales };
        if (parse.GetValue(a.MaxSize) is { } maxSize) o = o with { MaxSize = maxSize };
        if (parse.GetValue(a.Iters) is { } iters) o = o with { Iterations = iters };
        if (parse.GetValue(a.Lr) is { } lr) o = o with { LearningRate = lr };
        if (parse.GetValue(a.Steps) is { Length: > 0 } steps) o = o with { LearningRateSteps = steps };
        if (parse.GetValue(a.Gamma) is { } gamma) o = o with { LearningRateGamma = gamma };
        if (parse.GetValue(a.AnyOrientation)) o = o.WithAnyOrientation();
        if (parse.GetValue(a.Flip) is { } flip) o = o with { FlipProbability = flip };
        if (parse.GetValue(a.PermuteChannels)) o = o with { PermuteChannels = true };
        if (parse.GetValue(a.Momentum) is { } momentum) o = o with { Momentum = momentum };
        if (parse.GetValue(a.WeightDecay) is { } decay) o = o with { WeightDecay = decay };
        if (parse.GetValue(a.ImagesPerBatch) is { } n) o = o with { ImagesPerBatch = n };
        if (parse.GetValue(a.RoisPerImage) is { } rois) o = o with { RoisPerImage = rois };
        if (parse.GetValue(a.Seed) is { } seed) o = o with { Seed = seed };
        if (parse.GetValue(a.CheckpointEvery) is { } every) o = o with { CheckpointEvery = every };
        if (parse.GetValue(a.ValidateEvery) is { } validate) o = o with { ValidateEvery = validate };
        if (parse.GetValue(a.NoPrefetch)) o = o with { Prefetch = false };
        if (a.Precision.Read(parse) is { } precision) o = o with { Precision = precision };
        o.Validate();
        if (checkpoint is not null)
        {
            var scheduleOnly = o with { Iterations = resumed.Iterations, CheckpointEvery = resumed.CheckpointEvery, ValidateEvery = resumed.ValidateEvery, Prefetch = resumed.Prefetch };
            if (!scheduleOnly.Equals(resumed))
                AnsiConsole.MarkupLine("[yellow]warning:[/] options differ from the checkpoint's; the resumed run will not reproduce an uninterrupted one.");
        }
        return o;
    }

    /// <summary>Refuses weights that set less than <see cref="WeightImportReport.DefaultMinTrunkShare"/> of the trunk, unless allowed.</summary>
    private static void CheckTrunkShare(WeightImportReport report, string backbone, bool allowPartial)
    {
        if (report.TrunkShare >= WeightImportReport.DefaultMinTrunkShare) return;
        if (allowPartial)
        {
            AnsiConsole.MarkupLine($"[yellow]warning:[/] only {report.TrunkLoaded} of the {report.TrunkTensors} trunk tensors came from the weights (--allow-partial-weights)");
            return;
        }
        string example = report.ShapeMismatches.Count > 0 ? $"; e.g. {report.ShapeMismatches[0]}" : "";
        throw new InvalidDataException(
            $"{report.Path}: only {report.TrunkLoaded} of the {report.TrunkTensors} trunk tensors of backbone '{backbone}' loaded ({100 * report.TrunkShare:F0}%; " +
            $"at least {100 * WeightImportReport.DefaultMinTrunkShare:F0}% needed): {report.Missing.Count} missing, {report.ShapeMismatches.Count} of another shape{example}. " +
            "Are these weights for another backbone (--backbone)? Pass --allow-partial-weights to train from them anyway.");
    }

    private static string ResolveCheckpoint(string path)
    {
        if (File.Exists(path)) return path;
        string dir = Directory.Exists(Path.Combine(path, "checkpoints")) ? Path.Combine(path, "checkpoints") : path;
        if (!Directory.Exists(dir)) throw new FileNotFoundException($"{path}: no such checkpoint file or run directory", path);
        return Directory.EnumerateFiles(dir, "checkpoint_*.safetensors").Order(StringComparer.Ordinal).LastOrDefault()
            ?? throw new FileNotFoundException($"{dir}: no checkpoint_*.safetensors in this directory", dir);
    }

    private static void CheckFreshOutput(string outDir, bool force)
    {
        if (!TrainingOutputs.HoldsRun(outDir)) return;
        if (!force)
            throw new IOException($"{outDir} already holds a training run; continue it with --resume {outDir}, choose another --out, or start over with --force");
        // Only what training (and eval of its model) wrote: a user's own files stay.
        var kept = TrainingOutputs.DeleteRun(outDir);
        if (kept.Count > 0)
            AnsiConsole.MarkupLine($"[yellow]kept {kept.Count} file(s) that training did not write:[/] {Markup.Escape(string.Join(", ", kept.Take(5).Select(f => Path.GetRelativePath(outDir, f))))}");
    }

    /// <summary>
    /// An .npz proposal file (validated against the dataset, what was clipped or dropped printed), or selective search
    /// through the content-keyed cache.
    /// </summary>
    internal static PrecomputedProposals OpenProposals(ProposalSpec spec, DetectionDataset dataset, string? cacheDir, string what, CancellationToken cancel)
    {
        if (spec.Kind == ProposalSpecKind.File)
        {
            var (loaded, report) = TrainingProposals.Load(spec.Path!, dataset);
            AnsiConsole.MarkupLine($"[grey]{what} proposals: {Markup.Escape(report.ToString())}[/]");
            if (report.Drops.Total > 0)
                AnsiConsole.MarkupLine($"[yellow]warning:[/] {report.Drops.Total} unusable proposal boxes dropped: {Markup.Escape(report.Drops.ToString())}");
            return loaded;
        }
        if (spec.Kind != ProposalSpecKind.SelectiveSearch) return spec.Open(dataset, cacheDir);
        PrecomputedProposals? result = null;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask($"selective search ({what} images, cached)", maxValue: dataset.Images.Count);
                result = spec.Open(dataset, cacheDir, new Progress<ProposalProgress>(p => task.Value = Math.Max(task.Value, p.Done)), cancel);
                task.Value = dataset.Images.Count;
            });
        return result!;
    }

    private static void AttachValidation(ParseResult parse, Args a, Trainer trainer, TrainingOptions options, CancellationToken cancel)
    {
        if (parse.GetValue(a.ValSplit) is not { } valSplit)
        {
            if (options.ValidateEvery > 0) AnsiConsole.MarkupLine("[yellow]warning:[/] --validate-every without --val-split: no validation");
            return;
        }
        if (options.ValidateEvery <= 0) throw new ArgumentException("--val-split needs --validate-every N.");
        var val = DatasetLoader.Load(options.Dataset!, valSplit, a.Input.LoadOptions(parse));
        if (val.Images.Count == 0) throw new ArgumentException($"{val.Source}: validation split '{valSplit}' has no images.");
        options.CheckImageSizes(val.Images);
        // RoI accuracy is measured on external proposals; a Faster R-CNN run (no proposal file) validates on selective search's.
        var spec = options.Proposals is { } given && ProposalSpec.Parse(given) is { IsExternal: true } external ? external : ProposalSpec.SelectiveSearch;
        var proposals = OpenProposals(spec, val, parse.GetValue(a.CacheDir), "validation", cancel);
        trainer.Validator = request => RoiEvaluation.Evaluate(request.Model, val.Images, proposals, options, cancel: cancel).ToDictionary();
    }

    private static int Fail(string message)
    {
        AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(message)}");
        return 1;
    }
}
