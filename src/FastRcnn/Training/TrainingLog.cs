using System.Globalization;
using System.Text;
using FastRcnn.IO;

namespace FastRcnn.Training;

/// <summary>
/// The loss log, <c>loss_log.csv</c>: one row per iteration —
/// <c>iteration,loss,loss_cls,loss_box,accuracy,fg_rois,bg_rois,skipped_images,lr,seconds,elapsed_seconds</c>
/// (losses before the update, lr of the weights, seconds of the iteration and since the run began).
/// The whole file is rewritten to a temporary name and renamed, so it is never half written; a resumed
/// run reads it back up to its checkpoint's iteration and continues it.
/// </summary>
public sealed class TrainingLog
{
    public const string FileName = "loss_log.csv";
    public const string Header = "iteration,loss,loss_cls,loss_box,accuracy,fg_rois,bg_rois,skipped_images,lr,seconds,elapsed_seconds";

    private readonly List<TrainingStep> _steps = [];

    /// <summary>The rows, in iteration order.</summary>
    public IReadOnlyList<TrainingStep> Steps => _steps;

    public void Add(TrainingStep step) => _steps.Add(step);

    /// <summary>Drops the rows after <paramref name="iteration"/> (for a resume).</summary>
    public void TruncateAfter(long iteration) => _steps.RemoveAll(s => s.Iteration > iteration);

    /// <summary>Writes the log to <paramref name="path"/> atomically (<see cref="AtomicFile"/>).</summary>
    public void Save(string path)
    {
        var text = new StringBuilder(Header).Append('\n');
        foreach (var s in _steps)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"{s.Iteration},{G(s.Loss)},{G(s.ClassificationLoss)},{G(s.BoxLoss)},{G(s.Accuracy)},{s.ForegroundRois},{s.BackgroundRois},{s.SkippedImages},{G(s.LearningRate)},{s.Seconds:F4},{s.ElapsedSeconds:F3}\n");
        }
        AtomicFile.WriteAllText(path, text.ToString());
    }

    /// <summary>Reads a log written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">A malformed row (the message names the file and line).</exception>
    public static TrainingLog Load(string path)
    {
        var log = new TrainingLog();
        int line = 0;
        foreach (var row in File.ReadLines(path))
        {
            line++;
            if (line == 1 || row.Length == 0) continue;
            var f = row.Split(',');
            try
            {
                if (f.Length != 11) throw new FormatException($"{f.Length} fields, expected 11");
                log.Add(new TrainingStep(long.Parse(f[0], CultureInfo.InvariantCulture), D(f[8]), D(f[1]), D(f[2]), D(f[3]), D(f[4]),
                    int.Parse(f[5], CultureInfo.InvariantCulture), int.Parse(f[6], CultureInfo.InvariantCulture),
                    int.Parse(f[7], CultureInfo.InvariantCulture), D(f[9]), D(f[10])));
            }
            catch (Exception e) when (e is FormatException or OverflowException)
            {
                throw new InvalidDataException($"{path}:{line}: malformed loss-log row ({e.Message})");
            }
        }
        return log;
    }

    /// <summary>Round-trip formatting ("R"), so a reloaded log equals the written one.</summary>
    private static string G(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static double D(string s) => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);
}

/// <summary><c>validation_log.csv</c>: iteration and one column per metric the validation callback returned.</summary>
internal static class ValidationLog
{
    public const string FileName = "validation_log.csv";

    public static void Save(string path, IReadOnlyList<ValidationResult> results)
    {
        var columns = results.SelectMany(r => r.Metrics.Keys).Distinct().ToList();
        var text = new StringBuilder("iteration");
        foreach (var c in columns) text.Append(',').Append(c);
        text.Append('\n');
        foreach (var r in results)
        {
            text.Append(r.Iteration.ToString(CultureInfo.InvariantCulture));
            foreach (var c in columns)
                text.Append(',').Append(r.Metrics.TryGetValue(c, out var v) ? v.ToString("R", CultureInfo.InvariantCulture) : "");
            text.Append('\n');
        }
        AtomicFile.WriteAllText(path, text.ToString());
    }
}
