namespace FastRcnn.Data;

/// <summary>The dataset formats <see cref="DatasetLoader"/> recognises.</summary>
public enum DatasetFormat
{
    /// <summary>PASCAL VOC directory layout (<see cref="VocReader"/>).</summary>
    Voc,

    /// <summary>COCO detection JSON (<see cref="CocoReader"/>).</summary>
    Coco,
}

/// <summary>Opens a dataset without being told its format.</summary>
public static class DatasetLoader
{
    /// <summary>
    /// Loads one split of the dataset at <paramref name="path"/>:
    /// <list type="bullet">
    /// <item>a <c>.json</c> file → COCO (images from <see cref="CocoReader.GuessImageDir"/>; <paramref name="split"/> only names the result);</item>
    /// <item>a directory with <c>Annotations/</c> → VOC, split file <c>ImageSets/Main/&lt;split&gt;.txt</c>
    ///   (split null: every annotation); a <c>VOCdevkit</c>-style parent with exactly one such child is accepted too;</item>
    /// <item>a directory with <c>annotations/instances_&lt;split&gt;.json</c> → COCO (split required).</item>
    /// </list>
    /// </summary>
    /// <exception cref="DatasetFormatException">Unrecognised layout, or a malformed file (named in the message).</exception>
    public static DetectionDataset Load(string path, string? split = null, DatasetLoadOptions? options = null)
    {
        var (format, resolved) = Detect(path, split);
        return format switch
        {
            DatasetFormat.Voc => VocReader.Read(resolved, split, options),
            _ => CocoReader.Read(resolved, imageDir: null, split, options),
        };
    }

    /// <summary>Which reader <see cref="Load"/> would use, and on which path.</summary>
    public static (DatasetFormat Format, string Path) Detect(string path, string? split = null)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (File.Exists(full))
        {
            if (full.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) { return (DatasetFormat.Coco, full); }
            throw new DatasetFormatException(full, "not a dataset: expected a COCO .json file or a VOC-layout directory");
        }
        if (!Directory.Exists(full))
        {
            throw new DatasetFormatException(full, "dataset path does not exist");
        }
        if (VocReader.IsVocRoot(full)) { return (DatasetFormat.Voc, full); }

        var children = Directory.EnumerateDirectories(full).Where(VocReader.IsVocRoot).ToList();
        if (children.Count == 1) { return (DatasetFormat.Voc, children[0]); }

        var annotations = System.IO.Path.Combine(full, "annotations");
        if (Directory.Exists(annotations))
        {
            var jsons = Directory.EnumerateFiles(annotations, "*.json").Order(StringComparer.Ordinal).ToList();
            if (split is not null)
            {
                var wanted = System.IO.Path.Combine(annotations, $"instances_{split}.json");
                if (File.Exists(wanted)) { return (DatasetFormat.Coco, wanted); }
                throw new DatasetFormatException(wanted, "COCO split file not found; present: " +
                    (jsons.Count == 0 ? "none" : string.Join(", ", jsons.Select(System.IO.Path.GetFileName))));
            }
            if (jsons.Count == 1) { return (DatasetFormat.Coco, jsons[0]); }
            throw new DatasetFormatException(annotations, "several COCO files; name the split (instances_<split>.json): " +
                string.Join(", ", jsons.Select(System.IO.Path.GetFileName)));
        }
        var hint = children.Count > 1 ? $" (several VOC roots inside: {string.Join(", ", children.Select(System.IO.Path.GetFileName))}; name one)" : "";
        throw new DatasetFormatException(full,
            "unrecognised dataset layout: expected a VOC directory (Annotations/, JPEGImages/, ImageSets/Main/) or a COCO .json file" + hint);
    }
}
