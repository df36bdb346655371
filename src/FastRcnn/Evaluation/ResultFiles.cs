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
    /// dataset's category ids (default: the class index itself).
    /// </summary>
    public static void WriteCoco(string path, IEnumerable<Detection> detections, IReadOnlyList<int>? categoryIds = null)
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
