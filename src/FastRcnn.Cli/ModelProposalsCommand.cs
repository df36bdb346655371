using System.CommandLine;
using FastRcnn.Data;
using FastRcnn.IO;
using FastRcnn.Modeling;
using FastRcnn.Proposals;
using FastRcnn.Training;
using Spectre.Console;

namespace FastRcnn.Cli;

/// <summary>
/// <c>fastrcnn proposals --model DIR --dataset D --split S --out F.npz</c>: a Faster R-CNN model's RPN proposals for
/// every image of a split, at the model's training scale (middle of its scales) and max size, best first, written as
/// an ordinary proposal file — for <c>proposals eval</c> against selective search, or for training Fast R-CNN on them.
/// Up to <see cref="AlternatingTraining.TrainingProposalsPerImage"/> (2000) per image are kept after NMS, as for training
/// a detector on them, instead of the model's test-time 300.
/// </summary>
internal static class ModelProposalsCommand
{
    public static Option<string?> ModelOption() =>
        new("--model") { Description = "A Faster R-CNN model directory: write its RPN proposals (test settings) instead of running selective search." };

    public static int Run(string modelDir, string? datasetPath, string? split, string? output, CancellationToken cancel)
    {
        if (datasetPath is null) return CliErrors.Fail("--dataset is required");
        if (output is null) return CliErrors.Fail("--out is required (a .npz file)");
        if (!output.EndsWith(".npz", StringComparison.OrdinalIgnoreCase)) return CliErrors.Fail($"{output}: the proposal file must end in .npz");
        try
        {
            using var outputLock = DirectoryLock.AcquireFor(output);
            var loaded = ModelFiles.Load(modelDir);
            using var model = loaded.Model;
            if (!model.ComputesProposals)
                return CliErrors.Fail($"{modelDir}: a {model.Architecture.Name()} model has no region proposal network (use selective search: omit --model)");
            var options = loaded.Info.TrainingConfig is { } config ? TrainingConfig.FromJsonObject(config, Path.Combine(modelDir, ModelFiles.InfoFileName)) : new TrainingOptions();
            int side = options.Scales.Order().ElementAt(options.Scales.Count / 2);
            var ds = DatasetLoader.Load(datasetPath, split);
            AnsiConsole.MarkupLine($"[bold]{ds.Images.Count}[/] images of [blue]{Markup.Escape(ds.Source)}[/] ({Markup.Escape(ds.Split)}); " +
                $"RPN of [blue]{Markup.Escape(modelDir)}[/] at scale {side}, max size {options.MaxSize}");
            var set = ProposalsCommands.WithProgress(ds.Images.Count, "RPN proposals",
                p => ModelProposals.Compute(model, ds, side, options.MaxSize, AlternatingTraining.TrainingProposalsPerImage, progress: p, cancel: cancel));
            ProposalFile.Write(Path.GetFullPath(output), set.Proposals);
            AnsiConsole.MarkupLine($"wrote [blue]{Markup.Escape(output)}[/]: {set.Proposals.Count} images, {set.MeanBoxes:F0} boxes per image on average");
            return 0;
        }
        catch (OperationCanceledException)
        {
            return CliErrors.Fail("interrupted; nothing was written");
        }
        catch (Exception e) when (CliErrors.IsInputError(e))
        {
            return CliErrors.Fail(e.Message);
        }
    }
}
