using System.CommandLine;
using System.Globalization;
using FastRcnn.Data;
using FastRcnn.Pretraining;
using FastRcnn.Runtime;
using Spectre.Console;

namespace FastRcnn.Cli;

/// <summary>
/// <c>fastrcnn pretrain --dataset DIR --out FILE</c>: classification pre-training of the <c>small</c>
/// backbone on object crops (<see cref="CropPretrainer"/>), the stand-in for ImageNet; the output is a
/// weights file for <c>fastrcnn train --weights</c>. The built-in <c>small-shapesnet</c> weights were made
/// with it (docs/pretraining.md).
/// </summary>
public static class PretrainCommand
{
    public static Command Build()
    {
        var dataset = new Option<string>("--dataset") { Description = "A VOC-layout directory or a COCO .json file to crop objects from.", Required = true };
        var split = new Option<string?>("--split") { Description = "Split to train on (default: every annotation)." };
        var valSplit = new Option<string?>("--val-split") { Description = "Split whose crops measure held-out accuracy at every report." };
        var outFile = new Option<string>("--out") { Description = "Weights file to write (.safetensors).", Required = true };
        var steps = new Option<int?>("--steps") { Description = "SGD steps (default 6000)." };
        var lr = new Option<double?>("--lr") { Description = "Base learning rate (default 0.02)." };
        var step = new Option<int?>("--step") { Description = "Step after which the rate is multiplied by 0.1 (default 0.75 of --steps)." };
        var batch = new Option<int?>("--batch") { Description = "Crops per step (default 64)." };
        var seed = new Option<long>("--seed") { Description = "Seed of weights, sampling and augmentation.", DefaultValueFactory = _ => 0 };
        var noAugment = new Option<bool>("--no-augment") { Description = "No rotations, flips or channel permutations." };
        var threads = new Option<int?>("--threads") { Description = "CPU threads (default: all processors)." };
        var command = new Command("pretrain",
            "Classification pre-training of the small backbone on object and background crops (the ImageNet stand-in): " +
            "writes trunk (BatchNorm folded) and fc6/fc7 weights for 'train --weights'.")
        {
            dataset, split, valSplit, outFile, steps, lr, step, batch, seed, noAugment, threads,
        };
        var input = new InputOptions();
        input.AddTo(command);
        command.SetAction(parse =>
        {
            try
            {
                using var imageLimit = input.ApplyImageLimit(parse);
                var defaults = new CropPretrainingOptions();
                int n = parse.GetValue(steps) ?? defaults.Steps;
                if (n < 1) throw new ArgumentException($"--steps must be at least 1, got {n}");
                var options = defaults with
                {
                    Steps = n,
                    LearningRate = parse.GetValue(lr) ?? defaults.LearningRate,
                    LearningRateSteps = [parse.GetValue(step) ?? (int)Math.Round(0.75 * n)],
                    BatchSize = parse.GetValue(batch) ?? defaults.BatchSize,
                    Seed = parse.GetValue(seed),
                    Augment = !parse.GetValue(noAugment),
                    ReportEvery = Math.Clamp(n / 30, 10, 250),
                };
                if (parse.GetValue(threads) is int t) CpuRuntime.SetThreads(t > 0 ? t : Environment.ProcessorCount);
                string path = parse.GetValue(dataset)!, output = Path.GetFullPath(parse.GetValue(outFile)!);
                using var outputLock = FastRcnn.IO.DirectoryLock.AcquireFor(output);
                Directory.CreateDirectory(Path.GetDirectoryName(output)!);
                var trainData = DatasetLoader.Load(path, parse.GetValue(split), input.LoadOptions(parse));
                DataStatsView.WarnSizeMismatches(trainData);
                using var trainSet = new CropSampler(trainData, options, options.Seed);
                using var valSet = parse.GetValue(valSplit) is { } vs ? new CropSampler(DatasetLoader.Load(path, vs, input.LoadOptions(parse)), options, options.Seed + 1) : null;
                AnsiConsole.MarkupLine($"pre-training on crops of {trainSet.Images} images ({trainData.NumClasses} classes + background), {options.Steps} steps of {options.BatchSize}");
                using var model = new CropPretrainer(trainData.NumClasses, options);
                // Every report also saves the weights so far (atomically), so a long run can be stopped and used.
                void Save(PretrainingReport r)
                {
                    var metadata = new Dictionary<string, string>
                    {
                        ["dataset"] = Path.GetFullPath(path),
                        ["split"] = parse.GetValue(split) ?? "",
                        ["steps_done"] = r.Step.ToString(CultureInfo.InvariantCulture),
                        ["train_accuracy"] = CropPretrainer.Format(r.Accuracy),
                    };
                    if (r.Validation is { } v)
                    {
                        metadata["validation_accuracy"] = CropPretrainer.Format(v.All);
                        metadata["validation_object_accuracy"] = CropPretrainer.Format(v.Objects);
                    }
                    model.Save(output, metadata);
                }
                model.Train(trainSet, valSet, new SynchronousProgress(r =>
                {
                    Console.WriteLine(Line(r));
                    Save(r);
                }));
                AnsiConsole.MarkupLine($"wrote {Markup.Escape(output)}");
                return 0;
            }
            catch (Exception e) when (CliErrors.IsInputError(e) || e is InvalidDataException)
            {
                return CliErrors.Fail(e.Message);
            }
        });
        return command;
    }

    private static string Line(PretrainingReport r) =>
        string.Create(CultureInfo.InvariantCulture,
            $"step {r.Step,6}  loss {r.Loss:F3}  acc {r.Accuracy:F3}") +
        (r.Validation is { } v ? string.Create(CultureInfo.InvariantCulture, $"  val {v.All:F3} (objects {v.Objects:F3})") : "") +
        string.Create(CultureInfo.InvariantCulture, $"  {r.Seconds:F0} s");

    /// <summary>Reports on the calling thread, in order (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SynchronousProgress(Action<PretrainingReport> action) : IProgress<PretrainingReport>
    {
        public void Report(PretrainingReport value) => action(value);
    }
}
