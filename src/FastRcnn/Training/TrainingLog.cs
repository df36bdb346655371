using System.Globalization;
using System.Text;
using FastRcnn.IO;

namespace FastRcnn.Training;

/// <summary>
/// The loss log, <c>loss_log.csv</c>: one row per iteration —
/// <c>iteration,loss,&lt;one column per named loss&gt;,accuracy,fg_rois,bg_rois,skipped_images,lr,seconds,elapsed_seconds</c>
/// (losses before the update, lr of the weights, seconds of the iteration and since the run began). The loss
/// columns are the model's loss names in its order (Fast R-CNN: <c>loss_cls,loss_box_reg</c>; Faster R-CNN adds
/// <c>loss_rpn_cls,loss_rpn_box_reg</c>). The whole file is rewritten to a temporary name and renamed, so it is never
/// half written; a resumed run reads it back up to its checkpoint's iteration and continues it.
/// </summary>
public sealed class TrainingLog
{
    public const string FileName = "loss_log.csv";

    private static readonly string[] Leading = ["iteration", "loss"];
    private static readonly string[] Trailing = ["accuracy", "fg_rois", "bg_rois", "skipped_images", "lr", "seconds", "elapsed_seconds"];

    /// <summary>Loss columns of logs written before the losses were named: <c>loss_box</c> is <c>loss_box_reg</c>.</summary>
    private static readonly Dictionary<string, string> LegacyNames = new() { ["loss_box"] = Modeling.LossNames.BoxRegression };

    private readonly List<TrainingStep> _steps = [];

    /// <summary>The header of a log whose loss columns are <paramref name="lossNames"/>.</summary>
    public static string HeaderFor(IEnumerable<string> lossNames) => string.Join(",", Leading.Concat(lossNames).Concat(Trailing));

    /// <summary>The rows, in iteration order.</summary>
    public IReadOnlyList<TrainingStep> Steps => _steps;

    /// <summary>The loss names, in column order: those of the first row that has each, in order of appearance.</summary>
    public IReadOnlyList<string> LossNames => _steps.SelectMany(s => s.Losses.Select(l => l.Key)).Distinct().ToArray();

    public void Add(TrainingStep step) => _steps.Add(step);

    /// <summary>Drops the rows after <paramref name="iteration"/> (for a resume).</summary>
    public void TruncateAfter(long iteration) => _steps.RemoveAll(s => s.Iteration > iteration);

    /// <summary>Writes the log to <paramref name="path"/> atomically (<see cref="AtomicFile"/>); a step without a column's loss writes it empty.</summary>
    public void Save(string path)
    {
        var names = LossNames;
        var text = new StringBuilder(HeaderFor(names)).Append('\n');
        foreach (var s in _steps)
        {
            text.Append(CultureInfo.InvariantCulture, $"{s.Iteration},{G(s.Loss)}");
            foreach (var name in names)
            {
                double v = s.LossOf(name);
                text.Append(',').Append(double.IsNaN(v) && !s.Losses.Any(l => l.Key == name) ? "" : G(v));
            }
            text.Append(CultureInfo.InvariantCulture,
                $",{G(s.Accuracy)},{s.ForegroundRois},{s.BackgroundRois},{s.SkippedImages},{G(s.LearningRate)},{s.Seconds:F4},{s.ElapsedSeconds:F3}\n");
        }
        AtomicFile.WriteAllText(path, text.ToString());
    }

    /// <summary>Reads a log written by <see cref="Save"/> (the header names the loss columns).</summary>
    /// <exception cref="InvalidDataException">A malformed header or row (the message names the file and line).</exception>
    public static TrainingLog Load(string path)
    {
        var log = new TrainingLog();
        int line = 0;
        string[]? lossNames = null;
        foreach (var row in File.ReadLines(path))
        {
            line++;
            if (row.Length == 0) continue;
            var f = row.Split(',');
            if (lossNames is null)
            {
                if (f.Length < Leading.Length + Trailing.Length || !f.Take(2).SequenceEqual(Leading) || !f.TakeLast(Trailing.Length).SequenceEqual(Trailing))
                    throw new InvalidDataException($"{path}:{line}: not a loss-log header (expected {HeaderFor(["loss_…"])})");
                lossNames = f.Skip(2).Take(f.Length - Leading.Length - Trailing.Length).Select(n => LegacyNames.GetValueOrDefault(n, n)).ToArray();
                continue;
            }
            try
            {
                int expected = Leading.Length + lossNames.Length + Trailing.Length;
                if (f.Length != expected) throw new FormatException($"{f.Length} fields, expected {expected}");
                var losses = new List<KeyValuePair<string, double>>();
                for (int k = 0; k < lossNames.Length; k++)
                    if (f[2 + k].Length > 0) losses.Add(new(lossNames[k], D(f[2 + k])));
                int t = 2 + lossNames.Length;
                log.Add(new TrainingStep(long.Parse(f[0], CultureInfo.InvariantCulture), D(f[t + 4]), D(f[1]), losses, D(f[t]),
                    int.Parse(f[t + 1], CultureInfo.InvariantCulture), int.Parse(f[t + 2], CultureInfo.InvariantCulture),
                    int.Parse(f[t + 3], CultureInfo.InvariantCulture), D(f[t + 5]), D(f[t + 6])));
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
