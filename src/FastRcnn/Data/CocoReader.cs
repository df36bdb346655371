using System.Text.Json;

namespace FastRcnn.Data;

/// <summary>
/// Reads a COCO detection file (<c>instances_*.json</c>): <c>images</c> (id, file_name, width, height),
/// <c>annotations</c> (image_id, category_id, bbox = [x, y, w, h], iscrowd) and <c>categories</c> (id, name).
/// </summary>
/// <remarks>
/// COCO boxes are already continuous: (x, y, w, h) → (x1, y1, x2, y2) = (x, y, x + w, y + h).
/// Category ids (sparse, e.g. 1..90) map to contiguous class indices 1..K in ascending id order;
/// names are kept, and so are the ids (<see cref="DetectionDataset.CategoryIds"/>, which results files
/// carry). <c>iscrowd = 1</c> annotations become <see cref="ObjectAnnotation.Crowd"/> ignore regions.
/// Images without annotations are kept (in <c>images</c> order).
/// Boxes outside the image are clipped and counted; empty boxes throw unless
/// <see cref="DatasetLoadOptions.SkipDegenerateBoxes"/> (COCO has a few w or h = 0 boxes).
/// </remarks>
public static class CocoReader
{
    /// <summary>
    /// Reads <paramref name="jsonPath"/>. Images are looked up in <paramref name="imageDir"/>; null: the
    /// directory from <see cref="GuessImageDir"/>.
    /// </summary>
    /// <exception cref="DatasetFormatException">Bad JSON, a missing field, a dangling reference; names the file.</exception>
    public static DetectionDataset Read(string jsonPath, string? imageDir = null, string? split = null, DatasetLoadOptions? options = null)
    {
        options ??= DatasetLoadOptions.Default;
        jsonPath = Path.GetFullPath(jsonPath);
        if (!File.Exists(jsonPath)) { throw new DatasetFormatException(jsonPath, "COCO annotation file not found"); }
        imageDir = Path.GetFullPath(imageDir ?? GuessImageDir(jsonPath));
        split ??= SplitFromFileName(jsonPath);

        JsonDocument doc;
        try
        {
            using var stream = File.OpenRead(jsonPath);
            doc = JsonDocument.Parse(stream, new JsonDocumentOptions { AllowTrailingCommas = false });
        }
        catch (JsonException e)
        {
            throw new DatasetFormatException(jsonPath, $"malformed JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine}): {e.Message}", e);
        }
        using (doc)
        {
            var json = new CocoJson(jsonPath);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) { throw json.Error("top level is not a JSON object"); }

            // Categories: sparse ids → 1..K in ascending id order.
            var categories = json.Array(root, "categories", "top level")
                .Select((c, i) => (Id: json.Long(c, "id", $"categories[{i}]"), Name: json.String(c, "name", $"categories[{i}]")))
                .OrderBy(c => c.Id).ToList();
            var classOf = new Dictionary<long, int>();
            foreach (var (id, _) in categories)
            {
                if (!classOf.TryAdd(id, classOf.Count + 1)) { throw json.Error($"category id {id} appears twice"); }
            }
            IReadOnlyList<string> classNames;
            try { classNames = DetectionDataset.MakeClassNames(categories.Select(c => c.Name)); }
            catch (ArgumentException e) { throw json.Error("categories: " + e.Message); }

            // Images, in file order.
            var imageRows = new List<(long Id, string File, int W, int H)>();
            var rowOf = new Dictionary<long, int>();
            int n = 0;
            foreach (var img in json.Array(root, "images", "top level"))
            {
                var where = $"images[{n++}]";
                var row = (Id: json.Long(img, "id", where), File: json.String(img, "file_name", where),
                    W: json.OptionalInt(img, "width", where), H: json.OptionalInt(img, "height", where));
                if (!rowOf.TryAdd(row.Id, imageRows.Count)) { throw json.Error($"{where}: image id {row.Id} appears twice"); }
                imageRows.Add(row);
            }

            // Annotations, grouped by image in file order.
            var raw = imageRows.Select(_ => new List<(BoundingBox Box, int Cls, bool Crowd, string Where)>()).ToArray();
            n = 0;
            foreach (var a in json.Array(root, "annotations", "top level"))
            {
                var where = $"annotations[{n++}]";
                long imageId = json.Long(a, "image_id", where), categoryId = json.Long(a, "category_id", where);
                if (!rowOf.TryGetValue(imageId, out int row)) { throw json.Error($"{where}: image_id {imageId} is not in 'images'"); }
                if (!classOf.TryGetValue(categoryId, out int cls)) { throw json.Error($"{where}: category_id {categoryId} is not in 'categories'"); }
                var b = json.Bbox(a, where);
                bool crowd = json.OptionalInt(a, "iscrowd", where) != 0;
                var box = new BoundingBox((float)b[0], (float)b[1], (float)(b[0] + b[2]), (float)(b[1] + b[3]));
                raw[row].Add((box, cls, crowd, $"{where} (id {json.OptionalLong(a, "id")})"));
            }

            var report = new LoadReportBuilder();
            var images = new List<ImageRecord>(imageRows.Count);
            for (int i = 0; i < imageRows.Count; i++)
            {
                var (id, file, w, h) = imageRows[i];
                var imagePath = Path.Combine(imageDir, file);
                if (options.CheckImages || w <= 0 || h <= 0)
                {
                    var size = DatasetChecks.TryReadImageSize(imagePath, out var reason, options.VerifyPixels);
                    if (size is null)
                    {
                        if (options.SkipUnreadableImages)
                        {
                            report.SkippedImage($"{imagePath}: {reason} (image id {id} in {jsonPath}); image skipped");
                            continue;
                        }
                        throw new DatasetFormatException(imagePath, $"{reason} (image id {id} in {jsonPath}); pass --skip-bad-images to skip such images");
                    }
                    var (fileWidth, fileHeight) = (size.Value.Width, size.Value.Height);
                    if ((w > 0 || h > 0) && (w, h) != (fileWidth, fileHeight))
                    {
                        report.SizeMismatch($"{jsonPath}: image id {id}: annotated size {w}x{h}, {DatasetChecks.DescribeFileSize(size.Value)}; file size used");
                    }
                    (w, h) = (fileWidth, fileHeight);
                }
                var objects = new List<ObjectAnnotation>(raw[i].Count);
                foreach (var (box, cls, crowd, where) in raw[i])
                {
                    var clean = DatasetChecks.Sanitize(box, w, h, jsonPath, where, zeroCoordinate: false, options, report);
                    if (clean is not null) { objects.Add(new ObjectAnnotation(clean.Value, cls, Crowd: crowd)); }
                }
                images.Add(new ImageRecord(id.ToString(System.Globalization.CultureInfo.InvariantCulture), imagePath, w, h, objects.AsReadOnly()));
            }
            return new DetectionDataset(classNames, images, split, report.Build(), jsonPath, categories.Select(c => c.Id).ToArray());
        }
    }

    /// <summary>
    /// Where a COCO file's images are: for <c>X/annotations/instances_&lt;split&gt;.json</c> the first existing of
    /// <c>X/&lt;split&gt;</c>, <c>X/images/&lt;split&gt;</c>, <c>X/images</c>; otherwise the JSON file's own directory.
    /// </summary>
    public static string GuessImageDir(string jsonPath)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(jsonPath))!;
        var split = SplitFromFileName(jsonPath);
        var parent = Path.GetDirectoryName(dir);
        if (parent is not null)
        {
            foreach (var candidate in new[] { Path.Combine(parent, split), Path.Combine(parent, "images", split), Path.Combine(parent, "images") })
            {
                if (Directory.Exists(candidate)) { return candidate; }
            }
        }
        return dir;
    }

    /// <summary><c>instances_val2017.json</c> → "val2017"; any other name → its stem.</summary>
    public static string SplitFromFileName(string jsonPath)
    {
        var stem = Path.GetFileNameWithoutExtension(jsonPath);
        return stem.StartsWith("instances_", StringComparison.Ordinal) ? stem["instances_".Length..] : stem;
    }
}
