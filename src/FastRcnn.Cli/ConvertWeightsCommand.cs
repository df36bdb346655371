using System.CommandLine;
using FastRcnn.IO;
using Spectre.Console;

namespace FastRcnn.Cli;

/// <summary>
/// <c>fastrcnn convert-weights IN.pth OUT.safetensors</c>: a PyTorch state dict (<c>torch.save</c>'s zip format, e.g.
/// torchvision's ImageNet weights) as a safetensors file, every tensor under its own name with its dtype and bits.
/// <c>train --weights</c> takes either file; converting once saves reading the pickle on every run.
/// </summary>
public static class ConvertWeightsCommand
{
    public static Command Build()
    {
        var input = new Argument<string>("input") { Description = "A PyTorch weights file (.pth/.pt): torch.save(model.state_dict(), path)." };
        var output = new Argument<string>("output") { Description = "The safetensors file to write (replaced if present)." };
        var command = new Command("convert-weights", "Convert a PyTorch .pth state dict (e.g. torchvision's ImageNet weights) to a .safetensors file.")
        {
            input, output,
        };
        command.SetAction(parse =>
        {
            try
            {
                string source = Path.GetFullPath(parse.GetValue(input)!), destination = Path.GetFullPath(parse.GetValue(output)!);
                if (string.Equals(source, destination, StringComparison.Ordinal))
                    throw new ArgumentException($"{source}: the output would replace the input; name another file");
                var contents = PyTorchFiles.Read(source);
                try
                {
                    SafeTensors.Write(destination, contents.Tensors, new Dictionary<string, string>
                    {
                        ["format"] = "pt",
                        ["converted_from"] = Path.GetFileName(source),
                    });
                    var dtypes = contents.Tensors.GroupBy(t => t.Value.dtype).Select(g => $"{g.Count()} {g.Key}");
                    AnsiConsole.MarkupLine($"wrote {contents.Tensors.Count} tensors ({Markup.Escape(string.Join(", ", dtypes))}) to {Markup.Escape(destination)} " +
                        $"({new FileInfo(destination).Length / 1e6:F1} MB)");
                }
                finally
                {
                    foreach (var (_, tensor) in contents.Tensors) tensor.Dispose();
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
