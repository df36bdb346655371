using System.Globalization;
using FastRcnn.Training;
using Spectre.Console;

namespace FastRcnn.Cli;

/// <summary>
/// The <c>fastrcnn train</c> display: a Spectre progress bar whose line shows the iteration, the smoothed
/// and current losses (total, classification, box), the batch's RoI accuracy, the learning rate,
/// iterations per second and the time left; checkpoints and validations are printed as they happen.
/// </summary>
internal static class TrainingProgressView
{
    public static TrainingResult Run(Trainer trainer, CancellationToken cancel)
    {
        TrainingResult? result = null;
        var lines = new List<string>();
        var gate = new object();
        trainer.CheckpointSaved += (_, c) => { lock (gate) lines.Add($"checkpoint {c.Iteration}: {c.Path}"); };
        trainer.Validated += (_, v) =>
        {
            string metrics = string.Join(", ", v.Metrics.Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.Key} {m.Value:G4}")));
            lock (gate) lines.Add($"validation {v.Iteration}: {metrics}");
        };
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("starting", maxValue: Math.Max(1, trainer.Options.Iterations));
                task.Value = trainer.Iteration;
                trainer.Progress = new Inline<TrainingProgress>(p =>
                {
                    task.Value = p.Step.Iteration;
                    task.Description = Markup.Escape(Describe(p));
                    lock (gate)
                    {
                        foreach (var line in lines) AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]");
                        lines.Clear();
                    }
                });
                result = trainer.Run(cancel);
                task.Value = result.Iterations;
            });
        lock (gate)
        {
            foreach (var line in lines) AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]");
        }
        return result!;
    }

    /// <summary>"it 120/6000 loss 0.532 (now 0.498: cls 0.311, box_reg 0.187) acc 0.86 lr 0.01 4.2 it/s ETA 0:23:10".</summary>
    public static string Describe(TrainingProgress p)
    {
        var s = p.Step;
        string eta = p.Remaining.TotalHours >= 1 ? p.Remaining.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : p.Remaining.ToString(@"m\:ss", CultureInfo.InvariantCulture);
        return string.Create(CultureInfo.InvariantCulture,
            $"it {s.Iteration}/{p.TotalIterations} loss {p.SmoothedLoss:F3} (now {s.Loss:F3}: {LossText(s)}) acc {s.Accuracy:F2} lr {s.LearningRate:G3} {p.IterationsPerSecond:F2} it/s ETA {eta}");
    }

    /// <summary>"cls 0.311, box_reg 0.187": each named loss of the step without its "loss_" prefix.</summary>
    public static string LossText(TrainingStep step) =>
        string.Join(", ", step.Losses.Select(l => string.Create(CultureInfo.InvariantCulture, $"{ShortName(l.Key)} {l.Value:F3}")));

    /// <summary>A loss name without its "loss_" prefix.</summary>
    public static string ShortName(string lossName) => lossName.StartsWith("loss_", StringComparison.Ordinal) ? lossName[5..] : lossName;

    /// <summary>An <see cref="IProgress{T}"/> that reports on the calling thread.</summary>
    private sealed class Inline<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
