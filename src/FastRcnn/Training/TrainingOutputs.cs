using FastRcnn.Modeling;

namespace FastRcnn.Training;

/// <summary>
/// The files a training run writes into its output directory — the model (<c>model.safetensors</c>,
/// <c>model.json</c>), <c>loss_log.csv</c>, <c>validation_log.csv</c>, <c>training_config.json</c>,
/// <c>checkpoints/checkpoint_NNNNNNN.safetensors</c> — and the results <c>fastrcnn eval</c> wrote for that
/// model into <c>eval-*</c> folders. Starting a run over an old one (<c>train --force</c>) deletes exactly
/// these; any other file (a user's notes in <c>checkpoints/</c>, a plot in <c>eval-test/</c>) stays.
/// </summary>
public static class TrainingOutputs
{
    /// <summary>The checkpoint folder inside a run directory.</summary>
    public const string CheckpointFolder = "checkpoints";

    private static readonly string[] RunFiles =
        [ModelFiles.WeightsFileName, ModelFiles.InfoFileName, TrainingLog.FileName, ValidationLog.FileName, Trainer.ConfigFileName,
         Modeling.Svm.SvmStage.FileName, SvmStageTraining.RecordFileName];

    private static readonly string[] EvalFiles = ["metrics.json", "metrics.csv", "detections_coco.json", "pr_*.png"];

    /// <summary>
    /// Whether <paramref name="directory"/> holds a training run worth keeping: a model, a loss log or a
    /// checkpoint (a <c>training_config.json</c> alone is what a run that failed before its first iteration leaves).
    /// </summary>
    public static bool HoldsRun(string directory) =>
        new[] { ModelFiles.WeightsFileName, ModelFiles.InfoFileName, TrainingLog.FileName }.Any(f => File.Exists(Path.Combine(directory, f)))
        || Checkpoints(directory).Any();

    /// <summary>
    /// Deletes the run's files and the evaluation results of its model, and the <c>checkpoints</c> and
    /// <c>eval-*</c> folders when nothing else is left in them. Returns the other files found there, which are kept.
    /// </summary>
    public static IReadOnlyList<string> DeleteRun(string directory)
    {
        foreach (var f in RunFiles.Select(f => Path.Combine(directory, f)).Where(File.Exists)) File.Delete(f);
        foreach (var f in Checkpoints(directory)) File.Delete(f);
        var kept = new List<string>();
        string cache = Path.Combine(directory, SvmStageTraining.CacheFolder);
        if (Directory.Exists(cache))
        {
            foreach (var f in Directory.EnumerateFiles(cache, "*.safetensors").Append(Path.Combine(cache, Modeling.Svm.FeatureCache.IndexFileName)).Where(File.Exists)) File.Delete(f);
            RemoveIfEmpty(cache, kept);
        }
        string checkpoints = Path.Combine(directory, CheckpointFolder);
        RemoveIfEmpty(checkpoints, kept);
        if (!Directory.Exists(directory)) return kept;
        foreach (var eval in Directory.EnumerateDirectories(directory, "eval-*"))
        {
            foreach (var pattern in EvalFiles)
                foreach (var f in Directory.EnumerateFiles(eval, pattern)) File.Delete(f);
            string voc = Path.Combine(eval, "voc_results");
            if (Directory.Exists(voc))
            {
                foreach (var f in Directory.EnumerateFiles(voc, "comp4_det_*.txt")) File.Delete(f);
                RemoveIfEmpty(voc, kept);
            }
            RemoveIfEmpty(eval, kept);
        }
        return kept;
    }

    private static IEnumerable<string> Checkpoints(string directory)
    {
        string dir = Path.Combine(directory, CheckpointFolder);
        return Directory.Exists(dir) ? Directory.EnumerateFiles(dir, "checkpoint_*.safetensors").ToList() : [];
    }

    private static void RemoveIfEmpty(string dir, List<string> kept)
    {
        if (!Directory.Exists(dir)) return;
        var left = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).ToList();
        if (left.Count == 0) Directory.Delete(dir, recursive: true);
        else if (!kept.Contains(dir)) kept.AddRange(left.Where(f => !kept.Contains(f)));
    }
}
