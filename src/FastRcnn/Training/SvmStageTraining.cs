using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using FastRcnn.Data;
using FastRcnn.Inference;
using FastRcnn.IO;
using FastRcnn.Modeling;
using FastRcnn.Modeling.Svm;
using FastRcnn.Proposals;

namespace FastRcnn.Training;

/// <summary>Which step of <see cref="SvmStageTraining.Run"/> is under way and how far it is.</summary>
/// <param name="Step">"features" (caching) or "svms" (hard-negative mining).</param>
/// <param name="Done">Images done in this step.</param>
/// <param name="Total">Images of this step.</param>
public sealed record SvmStageProgress(string Step, int Done, int Total);

/// <summary>What <see cref="SvmStageTraining.Run"/> did: the cache (and its size on disk) and the trained stage's report.</summary>
/// <param name="Cache">The feature cache.</param>
/// <param name="Report">SVMs and regressors.</param>
/// <param name="CacheTime">Time to compute and write the cache.</param>
public sealed record SvmStageTrainingResult(FeatureCache Cache, SvmStageReport Report, TimeSpan CacheTime)
{
    /// <summary>The whole stage's time: cache, SVMs, regressors.</summary>
    public TimeSpan Total => CacheTime + Report.SvmTime + Report.RegressionTime;
}

/// <summary>
/// The stages of R-CNN (and SPPnet) after fine-tuning, on the training set of a run: cache the fine-tuned network's
/// features of every ground-truth box and proposal (<see cref="FeatureCache"/>, in <see cref="CacheFolder"/> of the run),
/// train the SVMs and box regressors (<see cref="SvmStageTrainer"/>), attach them to the model, save the model
/// (<see cref="ModelFiles"/>: <see cref="SvmStage.FileName"/> beside the weights) and record what was done in
/// <see cref="RecordFileName"/> (cache size, times, per-class positives and negatives).
/// </summary>
public static class SvmStageTraining
{
    /// <summary>The feature cache's folder inside the run directory.</summary>
    public const string CacheFolder = "feature_cache";

    /// <summary>The record of the stage inside the run directory.</summary>
    public const string RecordFileName = "svm_training.json";

    /// <summary>
    /// Runs the stage for <paramref name="model"/> (fine-tuned) on <paramref name="dataset"/> and its
    /// <paramref name="proposals"/> and saves the result in <paramref name="outputDirectory"/>. Images are transformed by
    /// <paramref name="transform"/> (default: <paramref name="options"/>' first training scale and max size) and each box
    /// is taken from the level <paramref name="predictOptions"/> picks (e.g. SPPnet's scale whose box area is closest to 224²).
    /// </summary>
    public static SvmStageTrainingResult Run(TwoStageModel model, DetectionDataset dataset, IProposalSource proposals, TrainingOptions options,
        string outputDirectory, SvmStageOptions? svmOptions = null, IProgress<SvmStageProgress>? progress = null, CancellationToken cancellation = default,
        ImageTransform? transform = null, PredictOptions? predictOptions = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(proposals);
        ArgumentNullException.ThrowIfNull(options);
        svmOptions ??= new SvmStageOptions();
        transform ??= new ImageTransform([options.Scales[0]], options.MaxSize, model.Pixels);
        var clock = Stopwatch.StartNew();
        int total = dataset.Images.Count;
        progress?.Report(new SvmStageProgress("features", 0, total));
        var cache = FeatureCache.Build(model, dataset, transform, image => proposals.ProposalsFor(image.Id, image.Width, image.Height),
            Path.Combine(outputDirectory, CacheFolder), predictOptions: predictOptions, progress: progress is null ? null : new Callback(done => progress.Report(new SvmStageProgress("features", done, total))),
            cancellation: cancellation);
        var cacheTime = clock.Elapsed;
        int mined = svmOptions.Mining.Passes * cache.Count;
        progress?.Report(new SvmStageProgress("svms", 0, mined));
        var (stage, report) = SvmStageTrainer.Train(cache, svmOptions,
            progress is null ? null : new Callback(done => progress.Report(new SvmStageProgress("svms", done, mined))), cancellation);
        model.SvmStage?.Dispose();
        model.SvmStage = stage;
        var result = new SvmStageTrainingResult(cache, report, cacheTime);
        ModelFiles.Save(outputDirectory, model, dataset.ClassNames.Skip(1).ToArray(), TrainingConfig.ToJsonObject(options));
        AtomicFile.WriteAllText(Path.Combine(outputDirectory, RecordFileName), Record(result, svmOptions, dataset).ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        return result;
    }

    /// <summary>The JSON record of a run of the stage.</summary>
    public static JsonObject Record(SvmStageTrainingResult result, SvmStageOptions options, DetectionDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(result);
        var r = result.Report;
        return new JsonObject
        {
            ["feature_cache"] = new JsonObject
            {
                ["images"] = result.Cache.Count,
                ["bytes"] = result.Cache.TotalBytes,
                ["fc7_width"] = result.Cache.Fc7Width,
                ["pool5_width"] = result.Cache.Pool5Width,
                ["seconds"] = result.CacheTime.TotalSeconds,
            },
            ["svm"] = new JsonObject
            {
                ["c"] = options.Svm.C,
                ["positive_weight"] = options.Svm.PositiveWeight,
                ["bias_multiplier"] = options.Svm.BiasMultiplier,
                ["loss"] = options.Svm.Loss.ToString(),
                ["negative_iou"] = options.Mining.NegativeIoU,
                ["passes"] = options.Mining.Passes,
                ["feature_scale"] = r.Fc7Scale,
                ["seconds"] = r.SvmTime.TotalSeconds,
            },
            ["box_regression"] = new JsonObject
            {
                ["lambda"] = options.RidgeLambda,
                ["iou"] = result.Cache.Options.RegressionIoU,
                ["feature_scale"] = r.Pool5Scale,
                ["seconds"] = r.RegressionTime.TotalSeconds,
            },
            ["classes"] = new JsonArray(r.Svms.Select(s => (JsonNode?)new JsonObject
            {
                ["class"] = dataset.ClassNames[s.ClassIndex],
                ["positives"] = s.Positives,
                ["hard_negatives"] = s.Negatives,
                ["retrainings"] = s.Retrainings,
                ["objective"] = s.Objective,
                ["duality_gap"] = s.DualityGap,
                ["regression_examples"] = r.Regressors[s.ClassIndex - 1].Examples,
            }).ToArray()),
        };
    }

    /// <summary>An <see cref="IProgress{T}"/> that calls back on the reporting thread (not a captured context).</summary>
    private sealed class Callback(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }
}
