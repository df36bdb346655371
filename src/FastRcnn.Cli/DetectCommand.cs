using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using FastRcnn.Imaging;
using FastRcnn.Inference;
using Spectre.Console;

namespace FastRcnn.Cli;

/// <summary><c>fastrcnn detect --model DIR IMAGES... --out DIR</c>: detections drawn on each image, one JSON of all, the stage times.</summary>
public static class DetectCommand
{
    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".bmp"];

    public static Command Build()
    {
        var model = new Option<string>("--model") { Description = "A trained model directory (model.safetensors + model.json).", Required = true };
        var inputs = new Argument<string[]>("images") { Description = "Image files or folders of images.", Arity = ArgumentArity.OneOrMore };
        var outDir = new Option<string>("--out") { Description = "Where to write the drawn images and detections.json.", Required = true };
        var scales = new TestScaleOptions();
        var threshold = new Option<double>("--score-threshold") { Description = "Keep detections above this probability.", DefaultValueFactory = _ => 0.05 };
        var nms = new Option<double>("--nms") { Description = "Per-class NMS IoU threshold.", DefaultValueFactory = _ => 0.3 };
        var maxDets = new Option<int>("--max-detections") { Description = "At most this many detections per image.", DefaultValueFactory = _ => 100 };
        var drawThreshold = new Option<double>("--draw-threshold") { Description = "Draw only detections at or above this score.", DefaultValueFactory = _ => 0.5 };
        var command = new Command("detect", "Detect objects in images with a trained model; writes the images with boxes drawn and detections.json.")
        {
            model, inputs, outDir, threshold, nms, maxDets, drawThreshold,
        };
        foreach (var option in scales.All) command.Options.Add(option);
        var input = new InputOptions(datasets: false);
        input.AddTo(command);
        command.SetAction(parse =>
        {
            try
            {
                using var imageLimit = input.ApplyImageLimit(parse);
                var images = ExpandImages(parse.GetValue(inputs)!);
                var options = scales.Read(parse, new PostprocessOptions(parse.GetValue(threshold), parse.GetValue(nms), parse.GetValue(maxDets)));
                using var detector = Detector.Load(parse.GetValue(model)!, options);
                return Run(detector, images, parse.GetValue(outDir)!, (float)parse.GetValue(drawThreshold));
            }
            catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
            {
                AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
                return 1;
            }
        });
        return command;
    }

    private static int Run(Detector detector, IReadOnlyList<string> images, string outDir, float drawThreshold)
    {
        Directory.CreateDirectory(outDir);
        var all = new JsonArray();
        var total = StageTimes.Zero;
        foreach (var path in images)
        {
            var image = ImageIO.Read(path);
            var result = detector.Detect(image);
            total += result.Times;
            var drawn = Drawing.DrawBoxes(image, result.Objects.Where(o => o.Score >= drawThreshold)
                .Select(o => new LabeledBox(o.Box.X1, o.Box.Y1, o.Box.X2, o.Box.Y2, o.ClassIndex, o.ClassName, o.Score)));
            ImageIO.WritePng(drawn, Path.Combine(outDir, Path.GetFileNameWithoutExtension(path) + ".png"));
            all.Add(new JsonObject
            {
                ["image"] = path,
                ["proposals"] = result.ProposalCount,
                ["detections"] = new JsonArray(result.Objects.Select(o => (JsonNode)new JsonObject
                {
                    ["class"] = o.ClassName,
                    ["score"] = Math.Round(o.Score, 5),
                    ["box"] = new JsonArray(o.Box.X1, o.Box.Y1, o.Box.X2, o.Box.Y2),
                }).ToArray()),
            });
            AnsiConsole.MarkupLine($"{Markup.Escape(path)}: {result.Objects.Count(o => o.Score >= drawThreshold)} objects ≥ {drawThreshold} ({result.Objects.Count} kept), {result.Times.Total.TotalMilliseconds:F0} ms");
        }
        string json = Path.Combine(outDir, "detections.json");
        File.WriteAllText(json + ".tmp", all.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        File.Move(json + ".tmp", json, overwrite: true);
        PrintTimes(total, images.Count);
        AnsiConsole.MarkupLine($"wrote {images.Count} image(s) and {Markup.Escape(json)}");
        return 0;
    }

    private static void PrintTimes(StageTimes total, int images)
    {
        var table = new Table().Title("time per image (Figure 2 split)").AddColumn("stage").AddColumn(new TableColumn("ms").RightAligned()).AddColumn(new TableColumn("%").RightAligned());
        double all = total.Total.TotalMilliseconds;
        foreach (var (name, t) in new[] { ("proposals (selective search)", total.Proposals), ("conv", total.Conv), ("RoI pooling", total.RoiPooling),
                     ("fc6", total.Fc6), ("fc7", total.Fc7), ("cls_score + bbox_pred + decode", total.Outputs), ("NMS", total.Nms) })
            table.AddRow(name, (t.TotalMilliseconds / images).ToString("F1"), (100 * t.TotalMilliseconds / all).ToString("F0"));
        table.AddRow("[bold]total[/]", (all / images).ToString("F1"), "100");
        AnsiConsole.Write(table);
    }

    private static List<string> ExpandImages(IEnumerable<string> inputs)
    {
        var files = new List<string>();
        foreach (var input in inputs)
        {
            if (Directory.Exists(input))
                files.AddRange(Directory.EnumerateFiles(input).Where(f => ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant())).Order());
            else if (File.Exists(input))
                files.Add(input);
            else
                throw new FileNotFoundException($"{input}: no such image file or folder", input);
        }
        if (files.Count == 0) throw new ArgumentException($"no images (.jpg, .png, .bmp) in {string.Join(", ", inputs)}");
        return files;
    }
}
