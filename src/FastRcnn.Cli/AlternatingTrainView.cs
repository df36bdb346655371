using FastRcnn.Data;
using FastRcnn.IO;
using FastRcnn.Modeling.Backbones;
using FastRcnn.Training;
using Spectre.Console;

namespace FastRcnn.Cli;

/// <summary><c>fastrcnn train --architecture faster-rcnn --schedule alternating</c>: the four steps, each with its progress bar.</summary>
internal static class AlternatingTrainView
{
    /// <summary>Whether <paramref name="path"/> is the output directory of an alternating run (it has step folders).</summary>
    public static bool IsAlternatingRun(string path) =>
        Directory.Exists(Path.Combine(path, AlternatingTraining.StepNames[0])) && File.Exists(Path.Combine(path, Trainer.ConfigFileName));

    /// <summary>Continues the alternating run in <paramref name="outDir"/> with its recorded configuration.</summary>
    public static int Resume(string outDir, InterruptSignals interrupt, CancellationToken cancel)
    {
        outDir = Path.GetFullPath(outDir);
        using var outputLock = DirectoryLock.Acquire(outDir);
        var options = TrainingConfig.Load(Path.Combine(outDir, Trainer.ConfigFileName));
        var dataset = DatasetLoader.Load(options.Dataset ?? throw new ArgumentException($"{outDir}: the recorded configuration names no dataset"), options.Split);
        return Run(dataset, options, outDir, resumed: true, interrupt, cancel);
    }

    /// <summary>Runs (or continues) the four steps into <paramref name="outDir"/> (locked by the caller); 0 when the model was written, 130 / 143 when interrupted.</summary>
    public static int Run(DetectionDataset dataset, TrainingOptions options, string outDir, bool resumed, InterruptSignals interrupt, CancellationToken cancel)
    {
        var training = new AlternatingTraining(dataset, options, outDir, options.Weights is { } weights ? m => BackboneWeights.ImportTorchvision(m, weights) : null);
        Directory.CreateDirectory(outDir);
        TrainingConfig.Save(Path.Combine(outDir, Trainer.ConfigFileName), options);
        AnsiConsole.MarkupLine($"training [bold]faster-rcnn {Markup.Escape(options.Backbone)}[/], alternating schedule " +
            $"({string.Join(" / ", Enumerable.Range(1, 4).Select(training.IterationsOf))} iterations), seed {options.Seed} → [blue]{Markup.Escape(outDir)}[/]" +
            (resumed ? " [yellow](resuming)[/]" : ""));
        training.RunStep = (step, token) =>
        {
            AnsiConsole.MarkupLine($"[bold]step {step.Step}/4[/] {Markup.Escape(step.Description)} → {Markup.Escape(step.Name)}" +
                (step.Trainer.Iteration > 0 ? $" (from iteration {step.Trainer.Iteration})" : ""));
            return TrainingProgressView.Run(step.Trainer, token);
        };
        var result = training.Run(cancel);
        using var model = result.Model;
        if (result.Cancelled)
        {
            AnsiConsole.MarkupLine($"[yellow]stopped in step {result.Steps.Count}[/]; resume with: fastrcnn train --resume {Markup.Escape(outDir)} --out {Markup.Escape(outDir)}");
            return interrupt.ExitCode;
        }
        AnsiConsole.MarkupLine($"done: 4 steps in {result.Steps.Sum(s => s.Seconds):F0} s; model in [blue]{Markup.Escape(outDir)}[/]");
        return 0;
    }
}
