using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FastRcnn.IO;

namespace FastRcnn.Evaluation;

/// <summary>
/// Detections and scores in the formats other tools read, so our numbers can be checked elsewhere.
/// Every file is written to a temporary name and renamed into place.
/// </summary>
public static class ResultFiles
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>
    /// PASCAL VOC results files, one per class: <c>comp4_det_{split}_{class}.txt</c> with lines
    /// <c>image_id score xmin ymin xmax ymax</c> in the devkit's 1-based inclusive pixels
    /// (xmin = x1 + 1, xmax = x2 — the inverse of how annotations are read).
    /// </summary>
    public static IReadOnlyList<string> WriteVoc(string directory, string split, IReadOnlyList<string> classNames, IEnumerable<Detection> detections)
    {
        Directory.CreateDirectory(directory);
        var byClass = detections.GroupBy(d => d.ClassIndex).ToDictionary(g => g.Key, g => g.ToList());
        var paths = new List<string>();
        for (int k = 1; k < classNames.Count; k++)
        {
            var text = new StringBuilder();
            foreach (var d in byClass.GetValueOrDefault(k) ?? [])
                text.Append(string.Format(Invariant, "{0} {1:F6} {2:F1} {3:F1} {4:F1} {5:F1}\n", d.ImageId, d.Score, d.Box.X1 + 1, d.Box.Y1 + 1, d.Box.X2, d.Box.Y2));
            string path = Path.Combine(directory, $"comp4_det_{split}_{classNames[k]}.txt");
            WriteAtomically(path, text.ToString());
            paths.Add(path);
        }
        return paths;
    }

    /// <summary>
    /// COCO results JSON: <c>[{"image_id", "category_id", "bbox": [x, y, w, h], "score"}]</c>. Image ids
    /// that are integers are written as numbers; <paramref name="categoryIds"/> maps class 1..K to the
    /// dataset's category ids (<see cref="Data.DetectionDataset.CategoryIds"/>; null: the class index itself).
    /// </summary>
    public static void WriteCoco(string path, IEnumerable<Detection> detections, IReadOnlyList<long>? categoryIds = null)
    {
        var array = new JsonArray();
        foreach (var d in detections)
        {
            JsonNode imageId = long.TryParse(d.ImageId, NumberStyles.None, Invariant, out long numeric) ? JsonValue.Create(numeric) : JsonValue.Create(d.ImageId);
            array.Add(new JsonObject
            {
                ["image_id"] = imageId,
                ["category_id"] = categoryIds is null ? d.ClassIndex : categoryIds[d.ClassIndex - 1],
                ["bbox"] = new JsonArray(Round(d.Box.X1), Round(d.Box.Y1), Round(d.Box.Width), Round(d.Box.Height)),
                ["score"] = Math.Round(d.Score, 5),
            });
        }
        WriteAtomically(path, array.ToJsonString());
    }

    /// <summary>
    /// Reads a COCO results JSON (as <see cref="WriteCoco"/> writes, or any tool that writes the format) for
    /// <paramref name="dataset"/>: <c>category_id</c> is one of the dataset's category ids
    /// (<see cref="Data.DetectionDataset.CategoryIdOf"/>: COCO's own ids, 1..K for VOC); <c>image_id</c> is an
    /// image id of the split, as a string or a number (a number also matches an id written with leading
    /// zeros, like VOC's "000005").
    /// </summary>
    /// <exception cref="InvalidDataException">Not a results array, a missing or malformed field, an unknown image or category; names the file and the entry.</exception>
    public static List<Detection> ReadCoco(string path, Data.DetectionDataset dataset)
    {
        var byId = dataset.Images.ToDictionary(i => i.Id, i => i.Id, StringComparer.Ordinal);
        var byNumber = new Dictionary<long, string?>();
        foreach (var image in dataset.Images)
            if (long.TryParse(image.Id, NumberStyles.None, Invariant, out long n))
                byNumber[n] = byNumber.ContainsKey(n) ? null : image.Id;   // null: ambiguous ("5" and "005")
        JsonArray array;
        try
        {
            array = JsonNode.Parse(File.ReadAllText(path)) as JsonArray
                ?? throw new InvalidDataException($"{path}: not a COCO results JSON array");
        }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a COCO results JSON array ({e.Message})", e); }
        var list = new List<Detection>(array.Count);
        for (int i = 0; i < array.Count; i++)
        {
            string where = $"{path}: entry {i}";
            try
            {
                var node = array[i] as JsonObject ?? throw new InvalidDataException($"{where} is not an object");
                var idNode = node["image_id"] ?? throw new InvalidDataException($"{where} has no image_id");
                string? id = idNode.GetValueKind() == JsonValueKind.Number
                    ? (byId.ContainsKey(idNode.ToJsonString()) ? idNode.ToJsonString() : byNumber.GetValueOrDefault((long)idNode))
                    : byId.GetValueOrDefault((string)idNode!);
                if (id is null) throw new InvalidDataException($"{where}: image {idNode.ToJsonString()} is not in the split");
                long category = (long)(node["category_id"] ?? throw new InvalidDataException($"{where} has no category_id"));
                int cls = dataset.ClassIndexOfCategory(category);
                if (cls < 1)
                {
                    var ids = Enumerable.Range(1, dataset.NumClasses).Select(k => dataset.CategoryIdOf(k).ToString(Invariant));
                    throw new InvalidDataException($"{where}: category_id {category} is not a category of the dataset ({string.Join(", ", ids)})");
                }
                var b = (node["bbox"] as JsonArray)?.Select(v => (double)v!).ToArray();
                if (b is not { Length: 4 }) throw new InvalidDataException($"{where}: bbox is not [x, y, w, h]");
                float score = (float)(double)(node["score"] ?? throw new InvalidDataException($"{where} has no score"));
                list.Add(new Detection(id, cls, score, new Data.BoundingBox((float)b[0], (float)b[1], (float)(b[0] + b[2]), (float)(b[1] + b[3]))));
            }
            catch (Exception e) when (e is FormatException or InvalidOperationException or OverflowException)
            {
                throw new InvalidDataException($"{where}: {e.Message}", e);
            }
        }
        return list;
    }

    /// <summary>The per-class table as CSV: class, positives, detections, VOC07 AP, VOC10+ AP, COCO AP.</summary>
    public static void WriteSummaryCsv(string path, IReadOnlyList<string> classNames, VocResult voc07, VocResult voc10, CocoResult coco)
    {
        var text = new StringBuilder("class,positives,detections,ap_voc07,ap_voc10,ap_coco\n");
        for (int k = 1; k < classNames.Count; k++)
        {
            var c = voc07.Classes[k - 1];
            text.Append(string.Format(Invariant, "{0},{1},{2},{3:F4},{4:F4},{5:F4}\n", classNames[k], c.Positives, c.Detections, c.Ap, voc10.Classes[k - 1].Ap, coco.PerClassAp[k - 1]));
        }
        text.Append(string.Format(Invariant, "mean,,,{0:F4},{1:F4},{2:F4}\n", voc07.MeanAp, voc10.MeanAp, coco.Ap));
        WriteAtomically(path, text.ToString());
    }

    /// <summary>All metrics as one JSON document.</summary>
    public static void WriteSummaryJson(string path, IReadOnlyList<string> classNames, VocResult voc07, VocResult voc10, CocoResult coco, JsonObject? extra = null)
    {
        static JsonNode? Number(double v) => double.IsFinite(v) ? JsonValue.Create(Math.Round(v, 6)) : null;
        var perClass = new JsonObject();
        for (int k = 1; k < classNames.Count; k++)
            perClass[classNames[k]] = new JsonObject
            {
                ["positives"] = voc07.Classes[k - 1].Positives,
                ["detections"] = voc07.Classes[k - 1].Detections,
                ["ap_voc07"] = Number(voc07.Classes[k - 1].Ap),
                ["ap_voc10"] = Number(voc10.Classes[k - 1].Ap),
                ["ap_coco"] = Number(coco.PerClassAp[k - 1]),
            };
        var root = new JsonObject
        {
            ["map_voc07"] = Number(voc07.MeanAp),
            ["map_voc10"] = Number(voc10.MeanAp),
            ["coco_ap"] = Number(coco.Ap),
            ["coco_ap50"] = Number(coco.Ap50),
            ["coco_ap75"] = Number(coco.Ap75),
            ["coco_ar100"] = Number(coco.Ar100),
            ["classes"] = perClass,
        };
        if (extra is not null)
            foreach (var (key, value) in extra) root[key] = value?.DeepClone();
        WriteAtomically(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private static double Round(float v) => Math.Round(v, 2);

    private static void WriteAtomically(string path, string text) => AtomicFile.WriteAllText(path, text);
}
