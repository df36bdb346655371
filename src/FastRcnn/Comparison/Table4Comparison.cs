using System.Diagnostics;
using FastRcnn.Compression;
using FastRcnn.Data;
using FastRcnn.Evaluation;
using FastRcnn.Imaging;
using FastRcnn.Inference;
using FastRcnn.Modeling;
using FastRcnn.Modeling.Backbones;
using FastRcnn.Proposals;
using FastRcnn.Training;
using static TorchSharp.torch;

namespace FastRcnn.Comparison;

/// <summary>Where a comparison run is: a pipeline (null while the data and proposals are prepared), its stage, and the share of it done.</summary>
public sealed record ComparisonProgress(ComparisonPipeline? Pipeline, string Stage, double Fraction);

/// <summary>
/// One measured row of Table 4.
/// </summary>
/// <param name="Pipeline">The method.</param>
/// <param name="TrainSeconds">Wall time of every training stage (fine-tuning, and for the SVD row the compression), proposals excluded.</param>
/// <param name="TestSecondsPerImage">Mean detection time per test image without proposals (the paper's column).</param>
/// <param name="TestSecondsWithProposals">The same with proposals: selective search's mean time, or the RPN's own.</param>
/// <param name="Voc07Map">VOC07 11-point mAP on the test split (0–1).</param>
/// <param name="CacheBytes">Disk used by cached features (0 for the methods that cache none).</param>
/// <param name="ModelDirectory">The trained model.</param>
/// <param name="Details">What was trained and how it was tested.</param>
public sealed record ComparisonRow(ComparisonPipeline Pipeline, double TrainSeconds, double TestSecondsPerImage, double TestSecondsWithProposals,
    double Voc07Map, long CacheBytes, string ModelDirectory, string Details)
{
    /// <summary>The paper's numbers for the same method.</summary>
    public PaperRow Paper => PaperTable4.For(Pipeline);
}

/// <summary>A finished comparison: the rows in the table's order, and how it ran.</summary>
/// <param name="Settings">The run's sizes.</param>
/// <param name="Rows">One row per pipeline.</param>
/// <param name="ProposalSecondsPerImage">Selective search's mean time per test image (fast mode).</param>
/// <param name="TotalSeconds">Wall time of the whole run (data and proposals included).</param>
/// <param name="Cpu">The processor's model name and core count.</param>
/// <param name="Finished">When the run ended (UTC).</param>
public sealed record ComparisonResult(ComparisonSettings Settings, IReadOnlyList<ComparisonRow> Rows, double ProposalSecondsPerImage,
    double TotalSeconds, string Cpu, DateTime Finished);

/// <summary>
/// The Fast R-CNN paper's Table 4 on one machine (<c>fastrcnn compare</c>): generates a Shapes split, computes its
/// selective search proposals (cached by content), then trains and tests each <see cref="ComparisonPipeline"/> on it,
/// every one fine-tuned from the same pre-trained weights with the same recipe (<see cref="ShapesRecipe.FineTuning"/>) for
/// the same number of iterations, and measures training time, test time per image with and without proposals, VOC07
/// mAP and the disk its cached features take. Outputs go to one folder: <c>shapes/</c>, one folder per pipeline
/// (<see cref="ComparisonPipelines.FolderName"/>: the model and its detections), and the table
/// (<see cref="Table4Report"/>).
/// </summary>
public sealed class Table4Comparison
{
    private readonly string _root;
    private readonly string? _weights;
    private readonly string? _cacheDir;

    /// <summary>A run of <paramref name="settings"/> into <paramref name="outputDirectory"/>, fine-tuning from <paramref name="weights"/> (null: from scratch).</summary>
    public Table4Comparison(ComparisonSettings settings, string outputDirectory, string? weights, string? proposalCacheDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        Settings = settings;
        _root = Path.GetFullPath(outputDirectory);
        _weights = weights;
        _cacheDir = proposalCacheDirectory;
    }

    /// <summary>The run's sizes.</summary>
    public ComparisonSettings Settings { get; }

    /// <summary>Receives where the run is: on the running thread, except during selective search, which reports from its worker threads (one handler must take concurrent reports).</summary>
    public IProgress<ComparisonProgress>? Progress { get; set; }

    /// <summary>One line per finished step ("Fast R-CNN: fine-tuned 1000 iterations in 190 s").</summary>
    public event EventHandler<string>? StepFinished;

    /// <summary>The Shapes dataset folder.</summary>
    public string DatasetDirectory => Path.Combine(_root, "shapes");

    /// <summary>Runs every pipeline of <see cref="ComparisonSettings.Pipelines"/> and returns the table's rows.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancel"/> fired.</exception>
    public ComparisonResult Run(CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(_root);
        var shapes = new ShapesOptions { TrainImages = Settings.TrainImages, TestImages = Settings.TestImages, Seed = Settings.Seed, Overwrite = true };
        Report(null, "Shapes dataset", 0);
        if (!ShapesGenerator.IsGenerated(DatasetDirectory, shapes)) ShapesGenerator.Generate(DatasetDirectory, shapes, cancel: cancel);
        var train = DatasetLoader.Load(DatasetDirectory, "train");
        var test = DatasetLoader.Load(DatasetDirectory, "test");
        Finished($"Shapes: {train.Images.Count} training and {test.Images.Count} test images, {train.NumObjects + test.NumObjects} objects");

        int total = train.Images.Count + test.Images.Count;
        var trainProposals = ProposalSpec.SelectiveSearch.Open(train, _cacheDir,
            new Inline<ProposalProgress>(p => Report(null, "selective search (cached)", (double)p.Done / total)), cancel);
        var testProposals = ProposalSpec.SelectiveSearch.Open(test, _cacheDir,
            new Inline<ProposalProgress>(p => Report(null, "selective search (cached)", (double)(train.Images.Count + p.Done) / total)), cancel);
        double proposalSeconds = TimeSelectiveSearch(test, cancel);
        Finished($"selective search: {proposalSeconds:F3} s per test image (median of {Math.Min(Settings.ProposalTimingImages, test.Images.Count)})");

        var rows = new List<ComparisonRow>();
        foreach (var pipeline in Settings.Pipelines)
        {
            cancel.ThrowIfCancellationRequested();
            var row = pipeline switch
            {
                ComparisonPipeline.FastRcnnSvd => Compressed(rows.Single(r => r.Pipeline == ComparisonPipeline.FastRcnn), test, testProposals, proposalSeconds, cancel),
                _ => TrainAndTest(pipeline, train, test, trainProposals, testProposals, proposalSeconds, cancel),
            };
            rows.Add(row);
            Report(pipeline, "done", 1);
            Finished($"{pipeline.DisplayName()}: trained in {row.TrainSeconds:F0} s, {row.TestSecondsPerImage:F3} s per image " +
                $"({row.TestSecondsWithProposals:F3} s with proposals), VOC07 mAP {row.Voc07Map:F3}");
        }
        return new ComparisonResult(Settings, rows, proposalSeconds, clock.Elapsed.TotalSeconds, CpuName(), DateTime.UtcNow);
    }

    /// <summary>Fine-tunes <paramref name="pipeline"/>'s model from the shared weights, then tests it.</summary>
    private ComparisonRow TrainAndTest(ComparisonPipeline pipeline, DetectionDataset train, DetectionDataset test,
        PrecomputedProposals trainProposals, PrecomputedProposals testProposals, double proposalSeconds, CancellationToken cancel)
    {
        var architecture = pipeline switch
        {
            ComparisonPipeline.Rcnn => DetectorArchitecture.Rcnn,
            ComparisonPipeline.Sppnet => DetectorArchitecture.Sppnet,
            ComparisonPipeline.FasterRcnn => DetectorArchitecture.FasterRcnn,
            _ => DetectorArchitecture.FastRcnn,
        };
        var options = ShapesRecipe.FineTuning(DatasetDirectory, Settings.Seed, _weights, Settings.Iterations, architecture) with { CheckpointEvery = 0 };
        // R-CNN's own batches: 128 windows from 4 images (32 each), a quarter foreground.
        if (architecture == DetectorArchitecture.Rcnn) options = options.WithRcnnFineTuning();
        if (architecture == DetectorArchitecture.Sppnet)
        {
            // SPPnet fine-tunes on windows pooled from all its scales: each image at one of them, drawn per iteration.
            var spp = Modeling.RegionFeatures.SppOptions.For(BackboneFactory.Spec(options.Backbone));
            options = options with { Spp = spp, Scales = spp.Scales, MaxSize = spp.MaxSize };
        }
        string dir = Path.Combine(_root, pipeline.FolderName());
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        string modelDir = Path.Combine(dir, "model");

        bool svm = architecture.UsesSvmStage();
        double tuneShare = svm ? 0.6 : TrainShare;
        Report(pipeline, "fine-tuning", 0);
        double trainSeconds;
        long cacheBytes = 0;
        string svmDetails = "";
        using (var model = options.CreateModel(train.NumClasses))
        {
            if (_weights is not null)
            {
                var import = BackboneWeights.ImportTorchvision(model, _weights);
                if (!import.IsComplete) throw new InvalidDataException($"{_weights}: the weights do not fit backbone '{options.Backbone}': {import}");
            }
            IProposalSource proposals = architecture.ProposesRegions() ? EmptyProposals.Instance : trainProposals;
            using var trainer = new Trainer(model, train, proposals, options, modelDir);
            trainer.Progress = new Inline<TrainingProgress>(p => Report(pipeline, "fine-tuning", tuneShare * p.Step.Iteration / Math.Max(1, p.TotalIterations)));
            var result = trainer.Run(cancel);
            cancel.ThrowIfCancellationRequested();
            if (result.Cancelled) throw new OperationCanceledException(cancel);
            trainSeconds = result.Seconds;
            Finished($"{pipeline.DisplayName()}: fine-tuned {Settings.Iterations} iterations in {trainSeconds:F0} s");
            if (svm)
            {
                // R-CNN's and SPPnet's later stages: cache features, train SVMs (hard-negative mining) and box regressors.
                var stage = SvmStageTraining.Run(model, train, trainProposals, options, modelDir,
                    progress: new Inline<SvmStageProgress>(p => Report(pipeline, p.Step == "features" ? "caching features" : "SVMs, hard-negative mining",
                        tuneShare + (TrainShare - tuneShare) * ((p.Step == "features" ? 0 : 0.5) + 0.5 * p.Done / Math.Max(1, p.Total)))),
                    cancellation: cancel);
                trainSeconds += stage.Total.TotalSeconds;
                cacheBytes = stage.Cache.TotalBytes;
                svmDetails = string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"; feature cache {stage.CacheTime.TotalSeconds:F0} s ({cacheBytes / 1e6:F1} MB), SVMs {stage.Report.SvmTime.TotalSeconds:F0} s, box regressors {stage.Report.RegressionTime.TotalSeconds:F0} s");
                Finished($"{pipeline.DisplayName()}: SVM stage in {stage.Total.TotalSeconds:F0} s{svmDetails}");
            }
        }

        var detection = architecture switch
        {
            DetectorArchitecture.Sppnet => new DetectorOptions(),          // the model's own five scales
            DetectorArchitecture.Rcnn => new DetectorOptions([options.Scales[0]], options.MaxSize),   // warped at the scale its cache used
            _ => Settings.FastDetection,
        };
        var (map, perImage, withProposals, scales) = Test(pipeline, modelDir, detection, test, architecture.ProposesRegions() ? null : testProposals,
            proposalSeconds, TrainShare, cancel);
        string details = $"{Settings.Iterations} iterations on {train.Images.Count} images ({options.ImagesPerBatch} × {options.RoisPerImage} RoIs){svmDetails}; tested at s ∈ {{{scales}}}";
        return new ComparisonRow(pipeline, trainSeconds, perImage, withProposals, map, cacheBytes, modelDir, details);
    }

    /// <summary>The Fast R-CNN row's model compressed by truncated SVD (fc6 and fc7), then tested; its training time adds the compression's.</summary>
    private ComparisonRow Compressed(ComparisonRow fast, DetectionDataset test, PrecomputedProposals testProposals, double proposalSeconds, CancellationToken cancel)
    {
        const ComparisonPipeline pipeline = ComparisonPipeline.FastRcnnSvd;
        Report(pipeline, "truncated SVD", 0);
        string dir = Path.Combine(_root, pipeline.FolderName());
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        string modelDir = Path.Combine(dir, "model");
        var clock = Stopwatch.StartNew();
        var svd = new SvdCompressionOptions { Fc6 = LayerTruncation.ToRank(Settings.Fc6Rank), Fc7 = LayerTruncation.ToRank(Settings.Fc7Rank) };
        ModelCompression.CompressDirectory(fast.ModelDirectory, modelDir, svd);
        double seconds = clock.Elapsed.TotalSeconds;
        var (map, perImage, withProposals, scales) = Test(pipeline, modelDir, Settings.FastDetection, test, testProposals, proposalSeconds, 0.1, cancel);
        return new ComparisonRow(pipeline, fast.TrainSeconds + seconds, perImage, withProposals, map, 0, modelDir,
            $"the Fast R-CNN model, fc6 rank {Settings.Fc6Rank}, fc7 rank {Settings.Fc7Rank} ({seconds:F1} s); tested at s ∈ {{{scales}}}");
    }

    /// <summary>
    /// Detects every test image; VOC07 mAP, the mean time per image without proposals, and with them (selective search's
    /// <paramref name="proposalSeconds"/> added when they are external).
    /// </summary>
    private (double Map, double PerImage, double WithProposals, string Scales) Test(ComparisonPipeline pipeline, string modelDir, DetectorOptions options,
        DetectionDataset test, PrecomputedProposals? proposals, double proposalSeconds, double progressFrom, CancellationToken cancel)
    {
        Report(pipeline, "testing", progressFrom);
        using var detector = Detector.Load(modelDir, options);
        Func<ImageRecord, Tensor?>? proposalsFor = proposals is null ? null : image => proposals.ProposalsFor(image.Id, image.Width, image.Height);
        var progress = new Inline<int>(n => Report(pipeline, "testing", progressFrom + (1 - progressFrom) * n / test.Images.Count));
        var run = DatasetDetection.Run(detector, test, proposalsFor, progress, cancel);
        var voc07 = VocEvaluator.Evaluate(test.Images, run.Detections, test.NumClasses, VocApMetric.ElevenPoint);
        ResultFiles.WriteCoco(Path.Combine(Path.GetDirectoryName(modelDir)!, "detections_coco.json"), run.Detections, test.CategoryIds);
        double withoutProposals = (run.Times.Total - run.Times.Proposals).TotalSeconds / Math.Max(1, run.Images);
        double withProposals = proposals is null ? run.Times.Total.TotalSeconds / Math.Max(1, run.Images) : withoutProposals + proposalSeconds;
        return (voc07.MeanAp, withoutProposals, withProposals, string.Join(", ", detector.Options.EffectiveScales));
    }

    /// <summary>Selective search's median time (s) on the first test images, read from disk beforehand.</summary>
    private double TimeSelectiveSearch(DetectionDataset test, CancellationToken cancel)
    {
        var search = new SelectiveSearch();
        var seconds = new List<double>();
        foreach (var image in test.Images.Take(Settings.ProposalTimingImages))
        {
            cancel.ThrowIfCancellationRequested();
            var rgb = ImageIO.Read(image.ImagePath);
            var clock = Stopwatch.StartNew();
            search.Run(rgb.Data, rgb.Width, rgb.Height);
            seconds.Add(clock.Elapsed.TotalSeconds);
        }
        seconds.Sort();
        return seconds.Count % 2 == 1 ? seconds[seconds.Count / 2] : (seconds[seconds.Count / 2 - 1] + seconds[seconds.Count / 2]) / 2;
    }

    /// <summary>The share of a pipeline's progress that training takes.</summary>
    private const double TrainShare = 0.8;

    private void Report(ComparisonPipeline? pipeline, string stage, double fraction) =>
        Progress?.Report(new ComparisonProgress(pipeline, stage, Math.Clamp(fraction, 0, 1)));

    private void Finished(string line) => StepFinished?.Invoke(this, line);

    /// <summary>"Intel(R) Xeon(R) … (2 cores)": /proc/cpuinfo's model name, or the OS description.</summary>
    public static string CpuName()
    {
        string? name = null;
        try
        {
            if (File.Exists("/proc/cpuinfo"))
                name = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim();
        }
        catch (IOException)
        {
            name = null;
        }
        return $"{name ?? System.Runtime.InteropServices.RuntimeInformation.OSDescription} ({Environment.ProcessorCount} cores)";
    }

    /// <summary>An <see cref="IProgress{T}"/> that reports on the calling thread (<see cref="Progress{T}"/> would post to the thread pool).</summary>
    private sealed class Inline<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
