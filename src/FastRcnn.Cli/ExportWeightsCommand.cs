using System.CommandLine;
using System.Text.Json;
using FastRcnn.Modeling;
using FastRcnn.Modeling.Backbones;
using Spectre.Console;

namespace FastRcnn.Cli;

/// <summary>
/// <c>fastrcnn export-weights --model DIR --out FILE [--float16]</c>: a trained detector's trunk and fc6/fc7 as
/// a starting point for another training run (<c>train --weights FILE</c>), for any classes: the
/// predictor is left out, as the paper leaves out ImageNet's fc8.
/// </summary>
public static class ExportWeightsCommand
{
    public static Command Build()
    {
        var model = new Option<string>("--model") { Description = "A trained model directory (model.safetensors + model.json), not an SVD-compressed one.", Required = true };
        var outFile = new Option<string>("--out") { Description = "The weights file to write (.safetensors; replaced if present).", Required = true };
        var float16 = new Option<bool>("--float16") { Description = "Store the values as float16 (half the size; train --weights converts back to float32)." };
        var command = new Command("export-weights",
            "Write a trained model's trunk and fc6/fc7 (not its classifier) as pre-trained weights for train --weights.")
        {
            model, outFile, float16,
        };
        command.SetAction(parse =>
        {
            try
            {
                string source = Path.GetFullPath(parse.GetValue(model)!), destination = Path.GetFullPath(parse.GetValue(outFile)!);
                using var outputLock = FastRcnn.IO.DirectoryLock.AcquireFor(destination);
                var (loaded, info) = ModelFiles.Load(source);
                using (loaded)
                {
                    var metadata = new Dictionary<string, string>
                    {
                        ["exported_from"] = source,
                        ["class_names"] = JsonSerializer.Serialize(info.ClassNames),
                        ["seed"] = info.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    };
                    if (info.TrainingConfig is { } config) metadata["training_config"] = config.ToJsonString();
                    int count = BackboneWeights.Export(loaded, destination, parse.GetValue(float16), metadata);
                    AnsiConsole.MarkupLine($"wrote {count} tensors of backbone '{Markup.Escape(info.Backbone)}' to {Markup.Escape(destination)} " +
                        $"({new FileInfo(destination).Length / 1e6:F1} MB)");
                }
                return 0;
            }
            catch (Exception e) when (CliErrors.IsInputError(e) || e is InvalidDataException)
            {
                return CliErrors.Fail(e.Message);
            }
        });
        return command;
    }
}
