using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using FastRcnn.Imaging;
using FastRcnn.Inference;
using FastRcnn.Runtime;
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
        var precision = PrecisionOption.ForDetection();
        var command = new Command("detect", "Detect objects in images with a trained model; writes the images with boxes drawn and detections.json.")
        {
            model, inputs, outDir, threshold, nms, maxDets, drawThreshold, precision.Option,
        };
        foreach (var option in scales.All) command.Options.Add(option);
        var engine = new EngineOptions();
        foreach (var option in engine.All) command.Options.Add(option);
        var input = new InputOptions(datasets: false);
        input.AddTo(command);
        command.SetAction(parse =>
        {
            try
            {
                using var imageLimit = input.ApplyImageLimit(parse);
                var images = ExpandImages(parse.GetValue(inputs)!);
                var options = engine.Apply(parse, scales.Read(parse, new PostprocessOptions(parse.GetValue(threshold), parse.GetValue(nms), parse.GetValue(maxDets))))
                    with { Precision = precision.Read(parse) ?? Precision.Fp32 };
                using var outputLock = FastRcnn.IO.DirectoryLock.Acquire(parse.GetValue(outDir)!);
                using var detector = Detector.Load(parse.GetValue(model)!, options);
                return Run(detector, images, parse.GetValue(outDir)!, (float)parse.GetValue(drawThreshold));
            }
            catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException or NotSupportedException)
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
        var names = OutputNames(images);
        var skipped = new List<(string Path, string Problem)>();
        foreach (var path in images)
        {
            RgbImage image;
            try { image = ImageIO.Read(path); }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                skipped.Add((path, e.Message));   // a bad file does not stop the others
                AnsiConsole.MarkupLine($"[yellow]skipped[/] {Markup.Escape(e.Message)}");
                continue;
            }
            var result = detector.Detect(image);
            total += result.Times;
            var drawn = Drawing.DrawBoxes(image, result.Objects.Where(o => o.Score >= drawThreshold)
                .Select(o => new LabeledBox(o.Box.X1, o.Box.Y1, o.Box.X2, o.Box.Y2, o.ClassIndex, o.ClassName, o.Score)));
            ImageIO.WritePng(drawn, Path.Combine(outDir, names[path]));
            all.Add(new JsonObject
            {
                ["image"] = path,
                ["output"] = names[path].Replace('\\', '/'),
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
        FastRcnn.IO.AtomicFile.WriteAllText(json, all.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        int written = images.Count - skipped.Count;
        if (written > 0) PrintTimes(total, written, detector.Precision);
        AnsiConsole.MarkupLine($"wrote {written} image(s) and {Markup.Escape(json)}");
        if (skipped.Count == 0) return 0;
        AnsiConsole.MarkupLine($"[red]error:[/] {skipped.Count} of {images.Count} image(s) could not be read and were skipped:");
        foreach (var (path, problem) in skipped) AnsiConsole.MarkupLine($"  {Markup.Escape(path)}: {Markup.Escape(problem)}");
        return 1;
    }

    /// <summary>
    /// Each image's drawn file, relative to the output folder: its path relative to the folder all images
    /// share, with the extension <c>.png</c> (<c>A/x.jpg</c> → <c>A/x.png</c>); where two images would get one
    /// name (<c>x.jpg</c> and <c>x.png</c>), both keep their extension (<c>A/x.jpg.png</c>, <c>A/x.png.png</c>).
    /// </summary>
    internal static Dictionary<string, string> OutputNames(IReadOnlyList<string> images)
    {
        var full = images.Distinct().ToDictionary(p => p, Path.GetFullPath);
        string common = full.Values.Select(p => Path.GetDirectoryName(p) ?? "").Aggregate(CommonDirectory);
        var relative = full.ToDictionary(p => p.Key, p => Path.GetRelativePath(common.Length > 0 ? common : "/", p.Value));
        var plain = relative.ToDictionary(p => p.Key, p => Path.ChangeExtension(p.Value, ".png"));
        var clashes = plain.Values.GroupBy(n => n, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1).Select(g => g.Key)
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        return plain.ToDictionary(p => p.Key, p => clashes.Contains(p.Value) ? relative[p.Key] + ".png" : p.Value);
    }

    private static string CommonDirectory(string a, string b)
    {
        while (!(b + Path.DirectorySeparatorChar).StartsWith(a + Path.DirectorySeparatorChar, StringComparison.Ordinal) && a != b)
            a = Path.GetDirectoryName(a) ?? "";
        return a;
    }

    private static void PrintTimes(StageTimes total, int images, Precision precision)
    {
        var table = new Table().Title($"time per image (Figure 2 split; box head in {precision.Name()})").AddColumn("stage").AddColumn(new TableColumn("ms").RightAligned()).AddColumn(new TableColumn("%").RightAligned());
        double all = total.Total.TotalMilliseconds;
        foreach (var (name, t) in new[] { ("proposals (selective search or RPN)", total.Proposals), ("conv", total.Conv), ("RoI pooling", total.RoiPooling),
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
