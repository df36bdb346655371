using System.CommandLine;
using System.Globalization;
using FastRcnn.Compression;
using FastRcnn.IO;
using Spectre.Console;

namespace FastRcnn.Cli;

/// <summary>
/// <c>fastrcnn compress --model DIR --fc6 1024 --fc7 256 --out DIR</c>: truncated SVD of the box head's fc
/// layers (SPEC §7), by rank or by the share of energy to keep; writes a complete model directory.
/// </summary>
public static class CompressCommand
{
    public static Command Build()
    {
        var model = new Option<string>("--model") { Description = "A trained model directory (model.safetensors + model.json).", Required = true };
        var outDir = new Option<string>("--out") { Description = "Where to write the compressed model directory (replaced when it holds only an earlier model).", Required = true };
        var fc6 = new Option<int?>("--fc6") { Description = "Rank t to keep in fc6 (the paper: 1024 of VGG16's 25088×4096)." };
        var fc7 = new Option<int?>("--fc7") { Description = "Rank t to keep in fc7 (the paper: 256 of 4096×4096)." };
        var fc6Energy = new Option<double?>("--fc6-energy") { Description = "Keep the fewest singular values of fc6 holding this share of Σσ², in (0, 1]." };
        var fc7Energy = new Option<double?>("--fc7-energy") { Description = "Keep the fewest singular values of fc7 holding this share of Σσ², in (0, 1]." };
        var command = new Command("compress",
            "Truncated SVD of the fc layers (fc6, fc7): each W becomes Σ_t V_tᵀ (no bias) then U_t (the bias). " +
            "Layers without an option stay as they are; the output is a model directory for detect and eval.")
        {
            model, outDir, fc6, fc7, fc6Energy, fc7Energy,
        };
        command.SetAction(parse =>
        {
            try
            {
                var options = new SvdCompressionOptions
                {
                    Fc6 = Truncation("--fc6", parse.GetValue(fc6), parse.GetValue(fc6Energy)),
                    Fc7 = Truncation("--fc7", parse.GetValue(fc7), parse.GetValue(fc7Energy)),
                };
                if (options.Fc6 is null && options.Fc7 is null)
                    throw new ArgumentException("give at least one of --fc6, --fc6-energy, --fc7, --fc7-energy (the paper: --fc6 1024 --fc7 256)");
                string source = parse.GetValue(model)!, destination = parse.GetValue(outDir)!;
                using var outputLock = DirectoryLock.AcquireFor(destination);   // beside it: the directory is replaced whole
                var report = ModelCompression.CompressDirectory(source, destination, options);
                Print(report);
                AnsiConsole.MarkupLine($"wrote {Markup.Escape(Path.GetFullPath(destination))}");
                return 0;
            }
            catch (Exception e) when (CliErrors.IsInputError(e) || e is InvalidDataException)
            {
                return CliErrors.Fail(e.Message);
            }
        });
        return command;
    }

    /// <summary>One layer's setting from its rank and energy options (at most one of them), or null.</summary>
    private static LayerTruncation? Truncation(string option, int? rank, double? energy)
    {
        if (rank is not null && energy is not null) throw new ArgumentException($"{option} and {option}-energy both choose the rank: give one");
        if (rank is int t)
            return t >= 1 ? LayerTruncation.ToRank(t) : throw new ArgumentException($"{option}: a rank must be at least 1, got {t}");
        if (energy is double f)
            return f is > 0 and <= 1 ? LayerTruncation.ToEnergy(f) : throw new ArgumentException($"{option}-energy: the share of energy must be in (0, 1], got {f.ToString(CultureInfo.InvariantCulture)}");
        return null;
    }

    private static void Print(CompressionReport report)
    {
        static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
        var table = new Table().Title("truncated SVD")
            .AddColumn("layer").AddColumn(new TableColumn("shape (u×v)").RightAligned()).AddColumn("requested")
            .AddColumn(new TableColumn("rank").RightAligned()).AddColumn(new TableColumn("parameters").RightAligned())
            .AddColumn(new TableColumn("energy kept").RightAligned());
        foreach (var layer in report.Layers)
        {
            table.AddRow(layer.Name, $"{layer.Outputs}×{layer.Inputs}", Markup.Escape(layer.Setting.ToString()),
                $"{layer.RankBefore?.ToString(CultureInfo.InvariantCulture) ?? "dense"} → {layer.Rank}",
                $"{N(layer.ParametersBefore)} → {N(layer.ParametersAfter)}",
                (100 * layer.KeptEnergyFraction).ToString("F2", CultureInfo.InvariantCulture) + "%");
        }
        table.AddRow("[bold]total[/]", "", "", "", $"[bold]{N(report.ParametersBefore)} → {N(report.ParametersAfter)}[/]", "");
        AnsiConsole.Write(table);
    }
}
